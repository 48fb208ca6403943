"""The Confluence REST API (v1) as atlassian-python-api drives it, in both flavours."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from atlassian.errors import ApiConflictError, ApiError, ApiValueError

from pmsync.testing import Emulator

STORAGE = "<h2>Action items</h2><table><tbody><tr><th>Action item</th></tr></tbody></table>"


def _put(emu: Emulator, page_id: str, number: int, storage: str, title: str = "Outage") -> Any:
    body = {
        "id": page_id,
        "type": "page",
        "title": title,
        "version": {"number": number},
        "body": {"storage": {"value": storage, "representation": "storage"}},
    }
    return emu.confluence().update_content(page_id, body)


# -- reading pages ------------------------------------------------------------------------


def test_get_page_expands_body_and_version(emu: Emulator) -> None:
    """expand=body.storage,version returns the storage and the version number."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    page = emu.confluence().get_page_by_id(page_id, expand="body.storage,version")
    assert STORAGE == page["body"]["storage"]["value"]
    assert "storage" == page["body"]["storage"]["representation"]
    assert 1 == page["version"]["number"]


def test_get_page_without_expand_lists_expandables(emu: Emulator) -> None:
    """Without expand, body and version are only listed under _expandable."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    page = emu.confluence().get_page_by_id(page_id)
    assert "body" not in page
    assert {"body", "version", "space", "history"} <= set(page["_expandable"])


def test_get_page_expands_space_labels_history_and_ancestors(emu: Emulator) -> None:
    """space, metadata.labels, history(.lastUpdated) and ancestors expand as asked."""
    parent = emu.add_page("SRE", "Postmortems", "<p/>")
    page_id = emu.add_page("SRE", "Outage", STORAGE, labels=["postmortem"], parent_id=parent)
    page = emu.confluence().get_page_by_id(
        page_id, expand="space,metadata.labels,history.lastUpdated,ancestors"
    )
    assert "SRE" == page["space"]["key"]
    assert ["postmortem"] == [label["name"] for label in page["metadata"]["labels"]["results"]]
    assert 1 == page["history"]["lastUpdated"]["number"]
    assert [parent] == [a["id"] for a in page["ancestors"]]


def test_links_carry_base_and_context(emu: Emulator) -> None:
    """A content response links back with _links.base and _links.context."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    links = emu.confluence().get_page_by_id(page_id)["_links"]
    context = "/wiki" if emu.flavour == "cloud" else "/confluence"
    assert emu.confluence_url == links["base"]
    assert context == links["context"]
    assert f"{emu.confluence_url}/rest/api/content/{page_id}" == links["self"]


def test_missing_page_is_404(emu: Emulator) -> None:
    """An unknown id is a 404, which the client raises as ApiError."""
    with pytest.raises(ApiError):
        emu.confluence().get_page_by_id("424242")


def test_missing_page_body_is_confluences_error_shape(emu: Emulator) -> None:
    """The 404 body has statusCode, data, message and reason."""
    response = emu.confluence().get("rest/api/content/424242", advanced_mode=True)
    body = response.json()
    assert 404 == response.status_code
    assert {"statusCode", "data", "message", "reason"} <= set(body)
    assert "Not Found" == body["reason"]


def test_old_versions_can_be_read(emu: Emulator) -> None:
    """?version=N returns that version's body, marked historical."""
    page_id = emu.add_page("SRE", "Outage", "<p>one</p>")
    emu.edit_page(page_id, "<p>two</p>")
    page = emu.confluence().get_page_by_id(page_id, expand="body.storage", version=1)
    assert "<p>one</p>" == page["body"]["storage"]["value"]
    assert "historical" == page["status"]


def test_history_reports_the_last_version(emu: Emulator) -> None:
    """content/{id}/history has lastUpdated.number, which update_page relies on."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.edit_page(page_id, "<p>2</p>")
    history = emu.confluence().history(page_id)
    assert 2 == history["lastUpdated"]["number"]
    assert history["latest"] is True


def test_page_by_title_finds_the_page(emu: Emulator) -> None:
    """GET content?spaceKey=&title= finds a page by its exact title."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    found = emu.confluence().get_page_by_title("SRE", "Outage")
    assert [page_id] == [r["id"] for r in found["results"]]


def test_children_are_listed(emu: Emulator) -> None:
    """content/{id}/child/page lists direct children."""
    parent = emu.add_page("SRE", "Parent", "<p/>")
    child = emu.add_page("SRE", "Child", "<p/>", parent_id=parent)
    emu.add_page("SRE", "Grandchild", "<p/>", parent_id=child)
    children = list(emu.confluence().get_page_child_by_type(parent))
    assert [child] == [c["id"] for c in children]


# -- writing pages ------------------------------------------------------------------------


def test_update_page_sequence_saves_a_new_version(emu: Emulator) -> None:
    """update_page (GET, GET body, GET history, PUT) saves version 2 with the new body."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.clear_requests()
    emu.confluence().update_page(page_id, "Outage", "<p>new</p>")
    assert "<p>new</p>" == emu.page(page_id)["storage"]
    assert 2 == emu.page(page_id)["version"]
    assert ["GET", "GET", "GET", "PUT"] == [r.method for r in emu.requests]


def test_update_with_the_next_version_succeeds(emu: Emulator) -> None:
    """PUT with version current+1 saves and returns the new content and version."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    saved = _put(emu, page_id, 2, "<p>new</p>")
    assert 2 == saved["version"]["number"]
    assert "<p>new</p>" == saved["body"]["storage"]["value"]


def test_stale_version_is_409_and_nothing_changes(emu: Emulator) -> None:
    """PUT with an old version number: 409 with Confluence's message; the page is untouched."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.edit_page(page_id, "<p>human</p>")
    with pytest.raises(requests.HTTPError) as caught:
        _put(emu, page_id, 2, "<p>pmsync</p>")
    assert 409 == caught.value.response.status_code
    assert (
        "Version must be incremented on update. Current version is: 2"
        == caught.value.response.json()["message"]
    )
    assert "<p>human</p>" == emu.page(page_id)["storage"]
    assert 2 == emu.page(page_id)["version"]


def test_skipping_a_version_is_409(emu: Emulator) -> None:
    """A version number more than one ahead is refused as well."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    with pytest.raises(requests.HTTPError, match="Current version is: 1"):
        _put(emu, page_id, 5, "<p>x</p>")


def test_update_without_version_is_400(emu: Emulator) -> None:
    """A PUT must carry the incremented version."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    body = {"type": "page", "title": "Outage", "body": {"storage": {"value": "<p/>"}}}
    with pytest.raises(requests.HTTPError, match="No version supplied"):
        emu.confluence().update_content(page_id, body)


def test_malformed_storage_is_400_and_nothing_changes(emu: Emulator) -> None:
    """Storage that is not well-formed XHTML is refused, as Confluence refuses it."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    with pytest.raises(requests.HTTPError, match="Error parsing xhtml") as caught:
        _put(emu, page_id, 2, "<table><tr><td>broken</tr></table>")
    assert 400 == caught.value.response.status_code
    assert STORAGE == emu.page(page_id)["storage"]


def test_html_entities_are_accepted_in_storage(emu: Emulator) -> None:
    """Named entities such as &nbsp; and &mdash; are valid storage."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    _put(emu, page_id, 2, "<p>a&nbsp;&mdash;&amp;b</p>")
    assert "<p>a&nbsp;&mdash;&amp;b</p>" == emu.page(page_id)["storage"]


def test_title_clash_in_a_space_is_400(emu: Emulator) -> None:
    """Two pages of one space cannot share a title."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.add_page("SRE", "Other", STORAGE)
    with pytest.raises(requests.HTTPError, match="already exists"):
        _put(emu, page_id, 2, STORAGE, title="Other")


def test_update_content_records_author_and_message(emu: Emulator) -> None:
    """The saved version is by the API account and keeps the version message."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.confluence().update_content(
        page_id,
        {
            "type": "page",
            "title": "Outage",
            "version": {"number": 2, "message": "pmsync: keys written back"},
            "body": {"storage": {"value": "<p/>", "representation": "storage"}},
        },
    )
    version = emu.confluence().get_page_by_id(page_id, expand="version")["version"]
    assert "pmsync: keys written back" == version["message"]
    assert emu.bot.display_name == version["by"]["displayName"]


def test_create_page_then_read_it(emu: Emulator) -> None:
    """create_page (POST content) creates version 1 in an existing space."""
    emu.add_space("SRE")
    created = emu.confluence().create_page("SRE", "New page", "<p>hi</p>")
    assert 1 == created["version"]["number"]
    assert "<p>hi</p>" == emu.page(created["id"])["storage"]


def test_create_page_in_a_missing_space_fails(emu: Emulator) -> None:
    """A page needs an existing space: 404, which the client reports as an ApiError."""
    with pytest.raises(ApiError):
        emu.confluence().create_page("NOPE", "New page", "<p>hi</p>")
    assert [] == emu.pages()


# -- labels -------------------------------------------------------------------------------


def test_labels_are_added_listed_and_removed(emu: Emulator) -> None:
    """set_page_label adds, get_page_labels lists, remove_page_label removes."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    confluence = emu.confluence()
    confluence.set_page_label(page_id, "PostMortem")
    assert ["postmortem"] == [x["name"] for x in confluence.get_page_labels(page_id)["results"]]
    confluence.remove_page_label(page_id, "postmortem")
    assert [] == emu.page(page_id)["labels"]


def test_a_label_with_a_space_is_400(emu: Emulator) -> None:
    """Labels cannot contain spaces."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    with pytest.raises(requests.HTTPError):
        emu.confluence().set_page_label(page_id, "post mortem")
    assert [] == emu.page(page_id)["labels"]


def test_several_labels_in_one_request(emu: Emulator) -> None:
    """The label endpoint also takes an array."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.confluence().add_content_labels(
        page_id, [{"prefix": "global", "name": "a"}, {"prefix": "global", "name": "b"}]
    )
    assert ["a", "b"] == emu.page(page_id)["labels"]


# -- content properties -------------------------------------------------------------------


def test_property_create_get_update_delete(emu: Emulator) -> None:
    """A content property goes through its whole life with versions 1, 2, then gone."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    confluence = emu.confluence()
    created = confluence.set_page_property(page_id, {"key": "pmsync.lease", "value": {"run": "a"}})
    assert 1 == created["version"]["number"]
    updated = confluence.update_page_property(
        page_id, {"key": "pmsync.lease", "value": {"run": "b"}, "version": {"number": 2}}
    )
    assert 2 == updated["version"]["number"]
    assert {"run": "b"} == confluence.get_page_property(page_id, "pmsync.lease")["value"]
    confluence.delete_page_property(page_id, "pmsync.lease")
    assert emu.content_property(page_id, "pmsync.lease") is None


def test_property_stale_version_is_409_and_nothing_changes(emu: Emulator) -> None:
    """Compare-and-set: a property PUT with a stale version gets 409."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.set_content_property(page_id, "pmsync.lease", {"run": "other"})
    emu.set_content_property(page_id, "pmsync.lease", {"run": "other", "renewed": True})
    with pytest.raises(ApiConflictError):
        emu.confluence().update_page_property(
            page_id, {"key": "pmsync.lease", "value": {"run": "me"}, "version": {"number": 2}}
        )
    assert {"key": "pmsync.lease", "value": {"run": "other", "renewed": True}, "version": 2} == (
        emu.content_property(page_id, "pmsync.lease")
    )


def test_property_post_of_an_existing_key_is_409(emu: Emulator) -> None:
    """Two runs racing to create the same property: the second gets 409."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.confluence().set_page_property(page_id, {"key": "pmsync.lease", "value": {"run": "a"}})
    with pytest.raises(requests.HTTPError) as caught:
        emu.confluence().set_page_property(page_id, {"key": "pmsync.lease", "value": {"run": "b"}})
    assert 409 == caught.value.response.status_code
    assert {"run": "a"} == emu.content_property(page_id, "pmsync.lease")["value"]


def test_property_put_with_version_1_creates_it(emu: Emulator) -> None:
    """PUT of a missing key at version 1 creates it, as Confluence allows."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.confluence().update_page_property(
        page_id, {"key": "k", "value": [1, 2], "version": {"number": 1}}
    )
    assert {"key": "k", "value": [1, 2], "version": 1} == emu.content_property(page_id, "k")


def test_property_put_of_a_missing_key_above_1_is_404(emu: Emulator) -> None:
    """PUT of a missing key at version 2 is a 404."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    with pytest.raises(ApiError):
        emu.confluence().update_page_property(
            page_id, {"key": "k", "value": 1, "version": {"number": 2}}
        )


def test_missing_property_is_404(emu: Emulator) -> None:
    """GET of an unset property is a 404."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    with pytest.raises(ApiError):
        emu.confluence().get_page_property(page_id, "nothing")


def test_properties_are_listed(emu: Emulator) -> None:
    """GET content/{id}/property lists every property."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.set_content_property(page_id, "a", 1)
    emu.set_content_property(page_id, "b", 2)
    listed = emu.confluence().get_page_properties(page_id)
    assert {"a": 1, "b": 2} == {p["key"]: p["value"] for p in listed}


def test_properties_expand_under_metadata(emu: Emulator) -> None:
    """expand=metadata.properties returns them with the content."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.set_content_property(page_id, "pmsync.lease", {"run": "x"})
    page = emu.confluence().get_page_by_id(page_id, expand="metadata.properties")
    assert {"run": "x"} == page["metadata"]["properties"]["pmsync.lease"]["value"]


def test_a_page_write_does_not_touch_properties(emu: Emulator) -> None:
    """Page versions and property versions are independent."""
    page_id = emu.add_page("SRE", "Outage", STORAGE)
    emu.set_content_property(page_id, "pmsync.lease", {"run": "x"})
    _put(emu, page_id, 2, "<p/>")
    assert 1 == emu.content_property(page_id, "pmsync.lease")["version"]


# -- search -------------------------------------------------------------------------------


def _seed_pages(emu: Emulator, count: int) -> list[str]:
    return [
        emu.add_page("SRE", f"Postmortem {n}", f"<p>{n}</p>", labels=["postmortem"])
        for n in range(count)
    ]


def test_cql_search_returns_wrappers_with_expanded_content(emu: Emulator) -> None:
    """/rest/api/search wraps content; content.body.storage expands inside it."""
    (page_id,) = _seed_pages(emu, 1)
    result = emu.confluence().cql(
        "type = page AND label = postmortem", expand="content.body.storage,content.version"
    )
    (hit,) = result["results"]
    assert page_id == hit["content"]["id"]
    assert "<p>0</p>" == hit["content"]["body"]["storage"]["value"]
    assert 1 == hit["content"]["version"]["number"]
    assert "content" == hit["entityType"]
    assert 1 == result["totalSize"]


def test_cql_search_pages_with_next_links(emu: Emulator) -> None:
    """limit pages the results; _links.next leads to the next page, relative to context."""
    ids = _seed_pages(emu, 5)
    confluence = emu.confluence()
    first = confluence.cql("label = postmortem", limit=2, expand="content.version")
    seen = [r["content"]["id"] for r in first["results"]]
    links = first["_links"]
    assert links["next"].startswith("/rest/api/search?")
    while "next" in links:
        response = requests.get(links["base"] + links["next"], headers=_auth(emu), timeout=5)
        page = response.json()
        seen += [r["content"]["id"] for r in page["results"]]
        assert all("version" in r["content"] for r in page["results"])
        links = page["_links"]
    assert ids == seen


def test_cloud_next_links_omit_the_wiki_context() -> None:
    """Cloud's next link is relative to /wiki, with base and context beside it."""
    with Emulator("cloud") as emu:
        _seed_pages(emu, 3)
        links = emu.confluence().cql("label = postmortem", limit=1)["_links"]
        assert not links["next"].startswith("/wiki")
        assert "/wiki" == links["context"]
        query = parse_qs(urlsplit(links["next"]).query)
        assert ["true"] == query["next"]
        assert "cursor" in query


def test_iter_cql_hits_the_known_client_bug(emu: Emulator) -> None:
    """atlassian-python-api joins next links to the host: page 2 misses the context path.

    That breaks on Cloud (/wiki) and on any Data Center with a context path; pmsync must
    build next URLs from _links.base. This test pins the pitfall down.
    """
    _seed_pages(emu, 3)
    with pytest.raises(requests.HTTPError):
        emu.confluence().cql_all("label = postmortem", limit=1)
    assert "/rest/api/search" == emu.requests[-1].path


def test_content_search_returns_content_objects(emu: Emulator) -> None:
    """/rest/api/content/search returns content directly, expanded as asked."""
    ids = _seed_pages(emu, 2)
    result = emu.confluence().search_content(
        "label = postmortem", expand="body.storage,version", limit=10
    )
    assert ids == [r["id"] for r in result["results"]]
    assert all("storage" in r["body"] for r in result["results"])


def test_content_search_pages_with_start(emu: Emulator) -> None:
    """content/search honours start and limit and links the next page."""
    ids = _seed_pages(emu, 3)
    result = emu.confluence().get(
        "rest/api/content/search", params={"cql": "label = postmortem", "limit": 2, "start": 2}
    )
    assert ids[2:] == [r["id"] for r in result["results"]]
    assert "next" not in result["_links"]


def test_search_caps_the_limit_when_bodies_are_expanded(emu: Emulator) -> None:
    """With bodies expanded, at most 50 results come per request."""
    _seed_pages(emu, 1)
    result = emu.confluence().cql("type = page", limit=500, expand="content.body.storage")
    assert 50 == result["limit"]


def test_bad_cql_is_400(emu: Emulator) -> None:
    """Unparseable CQL is a 400, which the client raises as ApiValueError."""
    with pytest.raises(ApiValueError):
        emu.confluence().cql("type = page AND (label = x")


def test_unknown_cql_field_is_400_not_a_wider_search(emu: Emulator) -> None:
    """A field the emulator does not know fails the query instead of being ignored."""
    _seed_pages(emu, 1)
    with pytest.raises(ApiValueError):
        emu.confluence().cql("type = page AND favourite = yes")


def _auth(emu: Emulator) -> dict[str, str]:
    if emu.flavour == "cloud":
        import base64

        token = base64.b64encode(f"{emu.email}:{emu.token}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {emu.token}"}


# -- deleting -----------------------------------------------------------------------------


def test_deleted_page_is_gone_from_reads_and_searches(emu: Emulator) -> None:
    """DELETE content/{id} answers 204; the page then reads as 404 and is not found."""
    page_id = emu.add_page("SRE", "Outage", STORAGE, labels=["postmortem"])
    confluence = emu.confluence()
    response = confluence.delete(f"rest/api/content/{page_id}", advanced_mode=True)
    assert 204 == response.status_code
    with pytest.raises(ApiError):
        confluence.get_page_by_id(page_id)
    assert [] == confluence.cql("label = postmortem")["results"]
    with pytest.raises(KeyError):
        emu.page(page_id)


def test_deleting_a_parent_moves_its_children_up(emu: Emulator) -> None:
    """Children of a deleted page hang from its parent afterwards."""
    root = emu.add_page("SRE", "Root", "<p/>")
    middle = emu.add_page("SRE", "Middle", "<p/>", parent_id=root)
    leaf = emu.add_page("SRE", "Leaf", "<p/>", parent_id=middle)
    emu.delete_page(middle)
    assert root == emu.page(leaf)["parent_id"]


def test_delete_page_of_a_missing_page_is_refused(emu: Emulator) -> None:
    """Deleting what does not exist fails with the page id."""
    with pytest.raises(ValueError, match="404"):
        emu.delete_page("404")
