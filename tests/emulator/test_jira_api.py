"""The Jira REST API as atlassian-python-api drives it, in both flavours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from atlassian import JiraCloud

from pmsync.testing import Emulator, User

TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}


@pytest.fixture
def ops(emu: Emulator) -> Emulator:
    """The emulator with a project OPS."""
    emu.add_project("OPS", "Operations", components=("API", "Database"))
    return emu


def _create(emu: Emulator, **fields: Any) -> str:
    key: str = emu.jira().issue_create({**TASK, "summary": "An action item", **fields})["key"]
    return key


def _errors(caught: pytest.ExceptionInfo[requests.HTTPError]) -> dict[str, Any]:
    body: dict[str, Any] = caught.value.response.json()
    return body


# -- site ---------------------------------------------------------------------------------


def test_server_info_names_the_deployment_type(emu: Emulator) -> None:
    """serverInfo says Cloud or Server, as clients check on start."""
    info = emu.jira().get_server_info()
    assert ("Cloud" if emu.flavour == "cloud" else "Server") == info["deploymentType"]
    assert emu.url == info["baseUrl"]


def test_myself_shows_the_flavours_identifiers(emu: Emulator) -> None:
    """Cloud users carry accountId; Server users carry name and key."""
    me = emu.jira().myself()
    if emu.flavour == "cloud":
        assert emu.bot.account_id == me["accountId"]
        assert "name" not in me
    else:
        assert (emu.bot.username, emu.bot.user_key) == (me["name"], me["key"])
        assert "accountId" not in me


def test_project_lists_its_issue_types(ops: Emulator) -> None:
    """GET project/{key} returns the project with its issue types and components."""
    project = ops.jira().project("OPS")
    assert "Operations" == project["name"]
    assert ["Task"] == [t["name"] for t in project["issueTypes"]]
    assert ["API", "Database"] == [c["name"] for c in project["components"]]


def test_unknown_project_is_404(emu: Emulator) -> None:
    """GET project/{key} of an unknown key is a 404."""
    with pytest.raises(requests.HTTPError, match="No project could be found"):
        emu.jira().project("NOPE")


def test_fields_list_includes_declared_custom_fields(emu: Emulator) -> None:
    """GET field lists system fields and custom fields with their clause names."""
    emu.add_project("OPS", custom_fields={"customfield_10010": "Team"})
    fields = {f["id"]: f for f in emu.jira().get_all_fields()}
    assert {"summary", "duedate", "labels", "customfield_10010"} <= set(fields)
    assert ["cf[10010]", "Team"] == fields["customfield_10010"]["clauseNames"]


# -- create -------------------------------------------------------------------------------


def test_create_returns_id_key_and_self(ops: Emulator) -> None:
    """POST issue answers 201 with id, key and self."""
    created = ops.jira().issue_create({**TASK, "summary": "Add alerting"})
    assert "OPS-1" == created["key"]
    assert f"{ops.url}/rest/api/2/issue/{created['id']}" == created["self"]


def test_create_sets_every_supported_field(
    ops: Emulator, alice: User, user_ref: Callable[[User], dict[str, str]]
) -> None:
    """summary, description, assignee, duedate, priority, labels and components stick."""
    key = _create(
        ops,
        description="Details",
        assignee=user_ref(alice),
        duedate="2026-12-04",
        priority={"name": "High"},
        labels=["pmsync", "postmortem"],
        components=[{"name": "API"}],
    )
    fields = ops.issue(key)["fields"]
    assert "Details" == fields["description"]
    assert alice.display_name == fields["assignee"]["displayName"]
    assert "2026-12-04" == fields["duedate"]
    assert "High" == fields["priority"]["name"]
    assert ["pmsync", "postmortem"] == fields["labels"]
    assert ["API"] == [c["name"] for c in fields["components"]]
    assert "To Do" == fields["status"]["name"]
    assert "new" == fields["status"]["statusCategory"]["key"]
    assert ops.bot.display_name == fields["reporter"]["displayName"]


def test_create_defaults_priority_to_medium(ops: Emulator) -> None:
    """Without a priority Jira uses its default, Medium."""
    key = _create(ops)
    assert "Medium" == ops.issue(key)["fields"]["priority"]["name"]


def test_create_with_properties_sets_them_atomically(ops: Emulator) -> None:
    """properties in the create payload are set with the issue."""
    key = ops.jira().issue_create({**TASK, "summary": "x"})["key"]  # without properties
    created = ops.jira().post(
        "rest/api/2/issue",
        data={
            "fields": {**TASK, "summary": "with property"},
            "properties": [{"key": "pmsync", "value": {"v": 1, "page_id": "123"}}],
        },
    )
    assert {} == ops.issue(key)["properties"]
    assert {"pmsync": {"v": 1, "page_id": "123"}} == ops.issue(created["key"])["properties"]


def test_summary_over_255_characters_is_400(ops: Emulator) -> None:
    """Jira's summary limit with its message."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, summary="x" * 256)
    assert {"summary": "Summary must be less than 255 characters."} == _errors(caught)["errors"]
    assert [] == ops.issues()


def test_missing_summary_is_400(ops: Emulator) -> None:
    """A summary is always required."""
    with pytest.raises(requests.HTTPError) as caught:
        ops.jira().post("rest/api/2/issue", data={"fields": TASK})
    assert {"summary": "You must specify a summary of the issue."} == _errors(caught)["errors"]


def test_summary_with_a_newline_is_400(ops: Emulator) -> None:
    """Summaries are single-line."""
    with pytest.raises(requests.HTTPError, match="newline"):
        _create(ops, summary="two\nlines")


def test_label_with_a_space_is_400(ops: Emulator) -> None:
    """Labels cannot contain spaces."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, labels=["post mortem"])
    assert {"labels": "The label 'post mortem' contains spaces which is invalid."} == (
        _errors(caught)["errors"]
    )


def test_unknown_assignee_is_400(ops: Emulator) -> None:
    """An assignee who does not exist is refused."""
    ref = {"accountId": "nobody"} if ops.flavour == "cloud" else {"name": "nobody"}
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, assignee=ref)
    assert {"assignee"} == set(_errors(caught)["errors"])


def test_cloud_refuses_a_user_by_name() -> None:
    """Cloud identifies users by accountId only (GDPR strict mode)."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        emu.add_user(display_name="Alice", username="alice")
        with pytest.raises(requests.HTTPError, match="accountId"):
            _create(emu, assignee={"name": "alice"})


def test_unknown_priority_is_400(ops: Emulator) -> None:
    """A priority name Jira does not know is refused."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, priority={"name": "Urgent"})
    assert {"priority"} == set(_errors(caught)["errors"])


def test_unknown_component_is_400(ops: Emulator) -> None:
    """Components must exist in the project."""
    with pytest.raises(requests.HTTPError, match="Component name 'Frontend' is not valid"):
        _create(ops, components=[{"name": "Frontend"}])


def test_bad_due_date_is_400(ops: Emulator) -> None:
    """duedate must be YYYY-MM-DD."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, duedate="04/12/2026")
    assert {"duedate"} == set(_errors(caught)["errors"])


def test_unknown_project_is_400(emu: Emulator) -> None:
    """Creating in a project that does not exist names the project field."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(emu)
    assert {"project": "Specify a valid project ID or key"} == _errors(caught)["errors"]


def test_unknown_issue_type_is_400(ops: Emulator) -> None:
    """The issue type must be one of the project's."""
    with pytest.raises(requests.HTTPError) as caught:
        ops.jira().issue_create(
            {"project": {"key": "OPS"}, "issuetype": {"name": "Epic"}, "summary": "x"}
        )
    assert {"issuetype": "The issue type selected is invalid."} == _errors(caught)["errors"]


def test_required_fields_of_a_project_are_enforced(emu: Emulator) -> None:
    """A project may require components or a custom field: 400 with Jira's message."""
    emu.add_project("OPS", required_fields=("components", "customfield_10010"), components=("API",))
    with pytest.raises(requests.HTTPError) as caught:
        _create(emu)
    assert {
        "components": "Component/s is required.",
        "customfield_10010": "Custom field 10010 is required.",
    } == _errors(caught)["errors"]
    assert [] == _errors(caught)["errorMessages"]


def test_declared_custom_field_is_accepted(emu: Emulator) -> None:
    """A custom field the project declares can be set and read back."""
    emu.add_project("OPS", custom_fields={"customfield_10010": "Team"})
    key = _create(emu, customfield_10010={"value": "SRE"})
    assert {"value": "SRE"} == emu.issue(key)["fields"]["customfield_10010"]


def test_undeclared_field_is_400(ops: Emulator) -> None:
    """Fields that are not on the screen cannot be set."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, customfield_99999="x")
    assert {
        "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the "
        "appropriate screen, or unknown."
    } == _errors(caught)["errors"]


def test_several_field_errors_come_together(ops: Emulator) -> None:
    """Every invalid field is reported in one answer."""
    with pytest.raises(requests.HTTPError) as caught:
        _create(ops, summary="x" * 300, labels=["a b"], priority={"name": "Nope"})
    assert {"summary", "labels", "priority"} == set(_errors(caught)["errors"])


# -- bulk create --------------------------------------------------------------------------


def test_bulk_create_reports_partial_failures(ops: Emulator) -> None:
    """Bulk create: 201 with the created issues and per-element errors."""
    result = ops.jira().create_issues(
        [
            {"fields": {**TASK, "summary": "first"}},
            {"fields": dict(TASK)},
            {"fields": {**TASK, "summary": "third"}},
        ]
    )
    assert ["OPS-1", "OPS-2"] == [i["key"] for i in result["issues"]]
    (failure,) = result["errors"]
    assert 1 == failure["failedElementNumber"]
    assert 400 == failure["status"]
    assert {"summary": "You must specify a summary of the issue."} == (
        failure["elementErrors"]["errors"]
    )


def test_bulk_create_all_failing_is_400_with_the_same_body(ops: Emulator) -> None:
    """When every element fails the answer is 400 and the client's message is empty."""
    with pytest.raises(requests.HTTPError) as caught:
        ops.jira().create_issues([{"fields": dict(TASK)}])
    body = _errors(caught)
    assert [] == body["issues"]
    assert 0 == body["errors"][0]["failedElementNumber"]


def test_bulk_create_sets_properties_per_element(ops: Emulator) -> None:
    """Each element may carry its own properties."""
    ops.jira().create_issues(
        [
            {
                "fields": {**TASK, "summary": f"item {n}"},
                "properties": [{"key": "pmsync", "value": {"n": n}}],
            }
            for n in range(3)
        ]
    )
    assert [{"pmsync": {"n": n}} for n in range(3)] == [i["properties"] for i in ops.issues()]


def test_bulk_create_over_50_is_400(ops: Emulator) -> None:
    """At most 50 issues per bulk request."""
    with pytest.raises(requests.HTTPError, match="at most 50"):
        ops.jira().create_issues([{"fields": {**TASK, "summary": "x"}}] * 51)
    assert [] == ops.issues()


# -- read and edit ------------------------------------------------------------------------


def test_get_issue_limits_fields_and_adds_properties(ops: Emulator) -> None:
    """fields= limits the fields; properties= adds the properties asked for."""
    key = _create(ops)
    ops.set_issue_property(key, "pmsync", {"v": 1})
    ops.set_issue_property(key, "other", {"x": 2})
    issue = ops.jira().get_issue(key, fields="summary,status", properties="pmsync")
    assert {"summary", "status"} == set(issue["fields"])
    assert {"pmsync": {"v": 1}} == issue["properties"]


def test_get_issue_by_id_works_too(ops: Emulator) -> None:
    """Issues are addressable by id as well as key."""
    created = ops.jira().issue_create({**TASK, "summary": "by id"})
    assert created["key"] == ops.jira().issue(created["id"])["key"]


def test_missing_issue_is_404(ops: Emulator) -> None:
    """An unknown key: 404 with Jira's message."""
    with pytest.raises(requests.HTTPError, match="Issue does not exist"):
        ops.jira().issue("OPS-99")


def test_update_issue_field_changes_fields_and_updated(ops: Emulator) -> None:
    """PUT issue with fields changes them and bumps updated."""
    key = _create(ops)
    before = ops.issue(key)["fields"]["updated"]
    ops.jira().update_issue_field(
        key, {"summary": "Renamed", "duedate": None, "priority": {"id": "1"}}
    )
    fields = ops.issue(key)["fields"]
    assert "Renamed" == fields["summary"]
    assert fields["duedate"] is None
    assert "Highest" == fields["priority"]["name"]
    assert before <= fields["updated"]


def test_edit_issue_update_verbs_add_and_remove_labels(ops: Emulator) -> None:
    """update: labels add/remove, as edit_issue sends them."""
    key = _create(ops, labels=["a", "b"])
    ops.jira().edit_issue(key, {"labels": [{"add": "c"}, {"remove": "a"}]})
    assert ["b", "c"] == ops.issue(key)["fields"]["labels"]


def test_an_invalid_edit_changes_nothing(ops: Emulator) -> None:
    """An edit with one bad field is refused entirely."""
    key = _create(ops, summary="Original")
    with pytest.raises(requests.HTTPError):
        ops.jira().update_issue_field(key, {"summary": "New", "labels": ["bad label"]})
    assert "Original" == ops.issue(key)["fields"]["summary"]


def test_status_cannot_be_edited_as_a_field(ops: Emulator) -> None:
    """Status changes go through transitions, never through an edit."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError, match="cannot be set"):
        ops.jira().update_issue_field(key, {"status": {"name": "Done"}})


def test_required_field_cannot_be_cleared(emu: Emulator) -> None:
    """An edit cannot empty a field the project requires."""
    emu.add_project("OPS", required_fields=("duedate",))
    key = _create(emu, duedate="2026-12-04")
    with pytest.raises(requests.HTTPError, match="Due date is required"):
        emu.jira().update_issue_field(key, {"duedate": None})


def test_assign_and_unassign(ops: Emulator, alice: User, user_id: Callable[[User], str]) -> None:
    """assign_issue sets the assignee (accountId on Cloud, name on Server); None clears."""
    key = _create(ops)
    ops.jira().assign_issue(key, user_id(alice))
    assert alice.display_name == ops.issue(key)["fields"]["assignee"]["displayName"]
    ops.jira().assign_issue(key, None)
    assert ops.issue(key)["fields"]["assignee"] is None


def test_assign_an_unknown_user_is_400(ops: Emulator) -> None:
    """Assigning someone who does not exist is refused."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError) as caught:
        ops.jira().assign_issue(key, "nobody")
    assert 400 == caught.value.response.status_code


def test_v3_uses_atlassian_document_format_for_descriptions(ops: Emulator) -> None:
    """v3 reads and writes descriptions as ADF; v2 as strings, for the same issue."""
    doc = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Line one"}]}],
    }
    created = ops.jira().post(
        "rest/api/3/issue" if ops.flavour == "cloud" else "rest/api/2/issue",
        data={
            "fields": {
                **TASK,
                "summary": "x",
                "description": doc if ops.flavour == "cloud" else "Line one",
            }
        },
    )
    assert "Line one" == ops.issue(created["key"])["fields"]["description"]
    if ops.flavour == "cloud":
        v3 = ops.jira().get(f"rest/api/3/issue/{created['key']}")
        assert doc == v3["fields"]["description"]


def test_v3_refuses_a_string_description() -> None:
    """v3 wants ADF: a plain string description is a 400 with Jira's message."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        with pytest.raises(requests.HTTPError, match="Atlassian Document"):
            emu.jira().post(
                "rest/api/3/issue", data={"fields": {**TASK, "summary": "x", "description": "text"}}
            )


def test_v2_refuses_an_adf_description(ops: Emulator) -> None:
    """v2 wants strings."""
    doc = {"type": "doc", "version": 1, "content": []}
    with pytest.raises(requests.HTTPError, match="must be a string"):
        _create(ops, description=doc)


def test_server_has_no_v3(emu: Emulator) -> None:
    """Server/Data Center serves only v2 (and latest)."""
    response = emu.jira().get("rest/api/3/myself", advanced_mode=True)
    assert (200 if emu.flavour == "cloud" else 404) == response.status_code


# -- transitions --------------------------------------------------------------------------


def test_transitions_list_targets_with_categories(ops: Emulator) -> None:
    """GET transitions lists every other status with its category and an int-able id."""
    key = _create(ops)
    transitions = ops.jira().get_issue_transitions_full(key)["transitions"]
    assert ["In Progress", "In Review", "Done"] == [t["to"]["name"] for t in transitions]
    assert ["indeterminate", "indeterminate", "done"] == [
        t["to"]["statusCategory"]["key"] for t in transitions
    ]
    assert all(t["id"].isdigit() for t in transitions)


def test_set_issue_status_sends_an_int_id_and_moves_the_issue(ops: Emulator) -> None:
    """set_issue_status posts {"id": <int>}; the issue moves and gets a resolution date."""
    key = _create(ops)
    ops.jira().set_issue_status(key, "Done")
    fields = ops.issue(key)["fields"]
    assert "Done" == fields["status"]["name"]
    assert fields["resolutiondate"] is not None
    assert "Done" == fields["resolution"]["name"]


def test_transition_id_as_string_works(ops: Emulator) -> None:
    """Transition ids are accepted as strings as well."""
    key = _create(ops)
    (tid,) = [t["id"] for t in ops.jira().get_issue_transitions(key) if t["to"] == "In Progress"]
    ops.jira().set_issue_status_by_transition_id(key, str(tid))
    assert "In Progress" == ops.issue(key)["fields"]["status"]["name"]


def test_leaving_done_clears_the_resolution(ops: Emulator) -> None:
    """Reopening an issue clears resolution and resolutiondate."""
    key = _create(ops)
    ops.jira().set_issue_status(key, "Done")
    ops.jira().set_issue_status(key, "In Progress")
    fields = ops.issue(key)["fields"]
    assert (None, None) == (fields["resolutiondate"], fields["resolution"])


def test_an_unknown_transition_is_400(ops: Emulator) -> None:
    """A transition id that is not available: 400 with Jira's message."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError, match="Transition id '99' is not valid"):
        ops.jira().set_issue_status_by_transition_id(key, 99)


def test_a_missing_transition_id_is_400(ops: Emulator) -> None:
    """set_issue_status to a status with no transition sends id null: 400."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError, match="Missing 'transition' identifier"):
        ops.jira().set_issue_status(key, "Nonexistent")


def test_a_restricted_workflow_only_offers_its_transitions(emu: Emulator) -> None:
    """A custom workflow: Done is reachable only from In Progress."""
    emu.add_project(
        "OPS",
        workflow={
            "Open": ["In Progress"],
            "In Progress": ["Open", "Done"],
            "Done": ["Open"],
        },
        status_categories={"Open": "new"},
    )
    key = _create(emu)
    jira = emu.jira()
    assert ["In Progress"] == [t["to"] for t in jira.get_issue_transitions(key)]
    with pytest.raises(requests.HTTPError, match="Transition id '31' is not valid"):
        jira.set_issue_status_by_transition_id(key, 31)
    jira.set_issue_status(key, "In Progress")
    jira.set_issue_status(key, "Done")
    assert "Done" == emu.issue(key)["fields"]["status"]["name"]


def test_transition_ids_are_stable_per_target(ops: Emulator) -> None:
    """The id leading to a status is the same from every status."""
    first, second = _create(ops), _create(ops)
    ops.jira().set_issue_status(second, "In Progress")
    ids_first = {t["to"]: t["id"] for t in ops.jira().get_issue_transitions(first)}
    ids_second = {t["to"]: t["id"] for t in ops.jira().get_issue_transitions(second)}
    assert ids_first["Done"] == ids_second["Done"]


def test_transition_with_fields_off_screen_is_400(ops: Emulator) -> None:
    """The simplified workflow has no transition screens: fields in a transition fail."""
    key = _create(ops)
    tid = ops.jira().get_issue_transitions(key)[0]["id"]
    with pytest.raises(requests.HTTPError, match="cannot be set"):
        ops.jira().post(
            f"rest/api/2/issue/{key}/transitions",
            data={"transition": {"id": tid}, "fields": {"resolution": {"name": "Done"}}},
        )


# -- properties and comments --------------------------------------------------------------


def test_property_put_is_201_then_200(ops: Emulator) -> None:
    """PUT property answers 201 when created and 200 when updated."""
    key = _create(ops)
    jira = ops.jira()
    url = f"rest/api/2/issue/{key}/properties/pmsync"
    assert 201 == jira.put(url, data={"v": 1}, advanced_mode=True).status_code
    assert 200 == jira.put(url, data={"v": 2}, advanced_mode=True).status_code
    assert {"key": "pmsync", "value": {"v": 2}} == jira.get_issue_property(key, "pmsync")


def test_missing_property_is_404(ops: Emulator) -> None:
    """GET of an unset property: 404 with Jira's message."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError, match="does not exist"):
        ops.jira().get_issue_property(key, "pmsync")


def test_property_keys_and_delete(ops: Emulator) -> None:
    """Properties are listed by key and can be deleted."""
    key = _create(ops)
    ops.jira().set_issue_property(key, "pmsync", {"v": 1})
    assert ["pmsync"] == [k["key"] for k in ops.jira().get_issue_property_keys(key)["keys"]]
    ops.jira().delete_issue_property(key, "pmsync")
    assert {} == ops.issue(key)["properties"]


def test_setting_a_property_does_not_bump_updated(ops: Emulator) -> None:
    """Entity properties are not issue fields: updated stays."""
    key = _create(ops)
    before = ops.issue(key)["fields"]["updated"]
    ops.jira().set_issue_property(key, "pmsync", {"v": 1})
    assert before == ops.issue(key)["fields"]["updated"]


def test_comments_are_added_and_listed(ops: Emulator) -> None:
    """POST comment answers 201 with the comment; GET lists them; fields.comment shows them."""
    key = _create(ops)
    posted = ops.jira().issue_add_comment(key, "The page row was deleted.")
    assert "The page row was deleted." == posted["body"]
    listed = ops.jira().issue_get_comments(key)
    assert ["The page row was deleted."] == [c["body"] for c in listed["comments"]]
    assert 1 == ops.issue(key)["fields"]["comment"]["total"]


def test_an_empty_comment_is_400(ops: Emulator) -> None:
    """Comments need a body."""
    key = _create(ops)
    with pytest.raises(requests.HTTPError, match="can not be empty"):
        ops.jira().issue_add_comment(key, "  ")


# -- users --------------------------------------------------------------------------------


def test_user_search_finds_by_name_prefix(emu: Emulator, alice: User, bob: User) -> None:
    """User search (query= on Cloud, username= on Server) finds by display name prefix."""
    jira = emu.jira()
    if emu.flavour == "cloud":
        found = jira.user_find_by_user_string(query="ali")
        assert [alice.account_id] == [u["accountId"] for u in found]
    else:
        found = jira.user_find_by_user_string(username="ali")
        assert [alice.username] == [u["name"] for u in found]


def test_user_search_finds_by_email(emu: Emulator, alice: User, bob: User) -> None:
    """An email address finds its user."""
    jira = emu.jira()
    params = (
        {"query": "bob@example.com"} if emu.flavour == "cloud" else {"username": "bob@example.com"}
    )
    found = jira.get("rest/api/2/user/search", params=params)
    assert [bob.display_name] == [u["displayName"] for u in found]


def test_user_search_needs_a_query(emu: Emulator) -> None:
    """A user search without its parameter is a 400."""
    with pytest.raises(requests.HTTPError):
        emu.jira().get("rest/api/2/user/search")


def test_get_user_by_its_identifier(emu: Emulator, alice: User) -> None:
    """GET user by accountId (Cloud) or username (Server)."""
    jira = emu.jira()
    if emu.flavour == "cloud":
        user = jira.get("rest/api/2/user", params={"accountId": alice.account_id})
    else:
        user = jira.user(alice.username)
    assert alice.email == user["emailAddress"]


# -- search -------------------------------------------------------------------------------


def _many(emu: Emulator, count: int) -> list[str]:
    keys = []
    for n in range(count):
        keys.append(
            emu.add_issue(
                "OPS", summary=f"item {n}", labels=["pmsync"], properties={"pmsync": {"n": n}}
            )
        )
    return keys


def test_cloud_search_jql_pages_with_next_page_token() -> None:
    """search/jql pages with nextPageToken and isLast; the last page has no token."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        keys = _many(emu, 5)
        jira = emu.jira()
        seen: list[str] = []
        params: dict[str, Any] = {
            "jql": "project = OPS ORDER BY key ASC",
            "maxResults": 2,
            "fields": "summary",
        }
        pages = 0
        while True:
            page = jira.get("rest/api/3/search/jql", params=params)
            pages += 1
            seen += [i["key"] for i in page["issues"]]
            if page["isLast"]:
                assert "nextPageToken" not in page
                break
            params["nextPageToken"] = page["nextPageToken"]
        assert keys == seen
        assert 3 == pages


def test_cloud_search_jql_works_under_v2_and_by_post() -> None:
    """search/jql is served under /rest/api/2 and /3, by GET and POST."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        keys = _many(emu, 2)
        jira = emu.jira()
        body = {"jql": "project = OPS ORDER BY key", "fields": ["summary"], "maxResults": 10}
        for version in ("2", "3"):
            posted = jira.post(f"rest/api/{version}/search/jql", data=body)
            assert keys == [i["key"] for i in posted["issues"]]


def test_cloud_search_without_fields_returns_identities_only() -> None:
    """search/jql without fields: each issue is only id, key and self."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        _many(emu, 1)
        page = emu.jira().get("rest/api/3/search/jql", params={"jql": "project = OPS"})
        assert {"id", "key", "self"} == set(page["issues"][0])


def test_cloud_search_returns_requested_properties() -> None:
    """properties= adds the issue properties to each search result."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        _many(emu, 2)
        page = emu.jira().get(
            "rest/api/3/search/jql",
            params={
                "jql": "labels = pmsync ORDER BY key",
                "fields": "summary",
                "properties": "pmsync",
            },
        )
        assert [{"pmsync": {"n": 0}}, {"pmsync": {"n": 1}}] == [
            i["properties"] for i in page["issues"]
        ]


def test_cloud_search_caps_max_results_at_100() -> None:
    """With fields asked for, a page holds at most 100 issues."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        _many(emu, 101)
        page = emu.jira().get(
            "rest/api/3/search/jql",
            params={"jql": "project = OPS", "fields": "summary", "maxResults": 500},
        )
        assert 100 == len(page["issues"])
        assert page["isLast"] is False


def test_cloud_unbounded_jql_is_400() -> None:
    """search/jql refuses a query without a restriction."""
    with Emulator("cloud") as emu, pytest.raises(requests.HTTPError, match="Unbounded JQL"):
        emu.jira().get("rest/api/3/search/jql", params={"jql": "ORDER BY key"})


def test_cloud_bad_next_page_token_is_400() -> None:
    """A token from another query (or garbage) is refused."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        with pytest.raises(requests.HTTPError, match="next page token"):
            emu.jira().get(
                "rest/api/3/search/jql", params={"jql": "project = OPS", "nextPageToken": "garbage"}
            )


@pytest.mark.parametrize("version", ["2", "3"])
def test_cloud_removed_search_is_410(version: str) -> None:
    """The removed /rest/api/{2,3}/search answers 410 Gone on Cloud."""
    with Emulator("cloud") as emu:
        response = emu.jira().get(
            f"rest/api/{version}/search", params={"jql": "x"}, advanced_mode=True
        )
        assert 410 == response.status_code
        assert "search/jql" in response.json()["errorMessages"][0]


def test_server_search_pages_with_start_at_and_total() -> None:
    """Server's /rest/api/2/search pages with startAt, maxResults and total."""
    with Emulator("server") as emu:
        emu.add_project("OPS")
        keys = _many(emu, 5)
        result = emu.jira().jql("project = OPS ORDER BY key", fields="summary", start=2, limit=2)
        assert (2, 2, 5) == (result["startAt"], result["maxResults"], result["total"])
        assert keys[2:4] == [i["key"] for i in result["issues"]]


def test_server_search_list_of_tickets_reads_every_page() -> None:
    """jql_get_list_of_tickets walks every page (50 by default) with startAt."""
    with Emulator("server") as emu:
        emu.add_project("OPS")
        keys = _many(emu, 60)
        emu.clear_requests()
        found = emu.jira().jql_get_list_of_tickets("project = OPS ORDER BY key", fields="summary")
        assert 2 == emu.request_count()
        assert keys == [i["key"] for i in found]


def test_server_has_no_search_jql() -> None:
    """search/jql does not exist on Server."""
    with Emulator("server") as emu:
        response = emu.jira().get("rest/api/2/search/jql", params={"jql": "x"}, advanced_mode=True)
        assert 404 == response.status_code


def test_invalid_jql_is_400_with_jiras_message(ops: Emulator) -> None:
    """Bad JQL answers 400 with errorMessages, never a wider result."""
    path = "rest/api/3/search/jql" if ops.flavour == "cloud" else "rest/api/2/search"
    with pytest.raises(requests.HTTPError) as caught:
        ops.jira().get(path, params={"jql": "project = OPS AND universe = 42"})
    assert ["Field 'universe' does not exist or you do not have permission to view it."] == (
        _errors(caught)["errorMessages"]
    )


def test_generated_jira_cloud_client_searches_v3() -> None:
    """atlassian.JiraCloud (the generated v3 client) pages search/jql with properties."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        _many(emu, 2)
        client = JiraCloud(url=emu.url, username=emu.email, password=emu.token)
        result = client.search_and_reconsile_issues_using_jql(
            jql="project = OPS ORDER BY key", fields=["summary"], properties=["pmsync"]
        )
        assert [{"pmsync": {"n": 0}}, {"pmsync": {"n": 1}}] == [
            i["properties"] for i in result["issues"]
        ]
        assert "/rest/api/3/search/jql" == emu.requests[-1].path


def test_v3_comments_are_atlassian_documents() -> None:
    """On v3 a comment is posted and read back as ADF; v2 shows its text."""
    with Emulator("cloud") as emu:
        emu.add_project("OPS")
        key = emu.add_issue("OPS", summary="x")
        doc = {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Orphaned"}]}],
        }
        posted = emu.jira().post(f"rest/api/3/issue/{key}/comment", data={"body": doc})
        assert doc == posted["body"]
        assert "Orphaned" == emu.issue(key)["fields"]["comment"]["comments"][0]["body"]


def test_deleted_issue_is_gone_and_its_key_not_reused(ops: Emulator) -> None:
    """DELETE issue answers 204; the key then 404s, fails in JQL, and is never reused."""
    key = _create(ops)
    jira = ops.jira()
    assert 204 == jira.delete(f"rest/api/2/issue/{key}", advanced_mode=True).status_code
    with pytest.raises(requests.HTTPError, match="Issue does not exist"):
        jira.issue(key)
    path = "rest/api/3/search/jql" if ops.flavour == "cloud" else "rest/api/2/search"
    with pytest.raises(requests.HTTPError, match=f"An issue with key '{key}' does not exist"):
        jira.get(path, params={"jql": f"key = {key}"})
    assert "OPS-2" == _create(ops)


def test_delete_issue_as_a_person(ops: Emulator) -> None:
    """emu.delete_issue removes it; a missing key is refused."""
    key = ops.add_issue("OPS", summary="x")
    ops.delete_issue(key)
    assert [] == ops.issues()
    with pytest.raises(ValueError, match=key):
        ops.delete_issue(key)
