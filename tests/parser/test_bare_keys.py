"""A key-shaped word at the end of an action ("Enable HTTP-2", "Cap the batch size
OPS-79") is the item's issue only when its project is one pmsync knows to be a Jira
project: one passed in ``projects=`` (the configured project), or one that a ``jira``
macro or a Jira link on the same page names. Otherwise the word stays in the summary, so
the user's words are never lost. Links (``/browse/KEY``, inline cards,
``selectedIssue=``) are unambiguous and always name the issue."""

from __future__ import annotations

import pytest
from parser_helpers import action_table, only_item, parse, row

import pmsync
from pmsync._storage.parse import item_digest
from pmsync.testing import Emulator

# Key-shaped words that are what the action is about, not its issue.
WORDS = [
    "Enable HTTP-2",
    "Upgrade nodes to GKE-1",
    "Roll out IPV-6",
    "Adopt ISO-27001 controls",
    "Hash the session tokens: SHA-256",
    "Encrypt the backups AES-256",
    "Store names in UTF-8",
    "Move the edge to TLS-13",
]

SITE = "https://example.atlassian.net"


def task_page(*bodies: str, before: str = "") -> str:
    """Tasks with ids 1, 2... under an "Action items" heading, after ``before``."""
    tasks = "".join(
        f"<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        f"<ac:task-body>{body}</ac:task-body></ac:task>"
        for n, body in enumerate(bodies, 1)
    )
    return f"{before}<h2>Action items</h2><ac:task-list>{tasks}</ac:task-list>"


def cell_page(*actions: str, before: str = "") -> str:
    """An action table without a ticket column, one row per action, after ``before``."""
    return before + action_table(*(row(f"<p>{action}</p>", "Ann") for action in actions))


def inline_card(key: str) -> str:
    url = f"{SITE}/browse/{key}"
    return f'<a href="{url}" data-card-appearance="inline">{url}</a>'


def jira_macro(key: str) -> str:
    return (
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">'
        f"{key}</ac:parameter></ac:structured-macro>"
    )


PAGES = {"task": task_page, "cell": cell_page}
PROJECTS = {"no project": None, "configured OPS": ["OPS"]}


@pytest.mark.parametrize("projects", PROJECTS.values(), ids=PROJECTS.keys())
@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize("text", WORDS)
def test_a_key_shaped_word_of_an_unknown_project_stays_in_the_summary(text, shape, projects):
    item = only_item(shape(text), projects=projects)

    assert (text, None) == (item.summary, item.jira_key)


@pytest.mark.parametrize("text", WORDS)
def test_the_words_keep_the_id_rows_had_before_keys_were_read_from_actions(text):
    """A row synced before is found again by its (page id, item id)."""
    assert item_digest("42", text) == only_item(cell_page(text), projects=["OPS"]).item_id


def test_a_task_ending_with_such_a_word_keeps_its_task_id():
    assert "task-1" == only_item(task_page("Enable HTTP-2")).item_id


@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
def test_a_bare_key_of_the_configured_project_is_the_issue(shape):
    item = only_item(shape("Cap the replication batch size OPS-79"), projects=["OPS"])

    assert ("Cap the replication batch size", "OPS-79", "OPS-79") == (
        item.summary,
        item.jira_key,
        item.item_id,
    )


@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
def test_without_the_configured_project_a_bare_key_is_text(shape):
    """``pmsync parse`` and lint without a configuration cannot know OPS is a project."""
    item = only_item(shape("Cap the replication batch size OPS-79"))

    assert ("Cap the replication batch size OPS-79", None) == (item.summary, item.jira_key)


@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize(
    "elsewhere",
    [
        f"<p>Incident ticket: {jira_macro('IPV-1')}</p>",
        f"<p>Tracked in {inline_card('IPV-1')}</p>",
        '<p>See <a href="https://jira.example.com/browse/ipv-1">the epic</a></p>',
        f'<p><a href="{SITE}/jira/software/projects/IPV/boards/3?selectedIssue=IPV-1">x</a></p>',
        '<p><ac:link><ri:url ri:value="https://jira.example.com/browse/IPV-1" />'
        "<ac:plain-text-link-body><![CDATA[the epic]]></ac:plain-text-link-body></ac:link></p>",
    ],
    ids=["jira-macro", "inline-card", "browse-link", "selected-issue", "ac-link"],
)
def test_a_project_named_by_a_jira_macro_or_link_on_the_page_is_known(shape, elsewhere):
    """The page says IPV is a Jira project: "Roll out IPV-6" then names IPV-6."""
    item = only_item(shape("Roll out IPV-6", before=elsewhere))

    assert ("Roll out", "IPV-6") == (item.summary, item.jira_key)


def test_a_project_typed_only_as_text_elsewhere_is_not_known():
    """Text is what is in doubt; only macros and links say a project exists."""
    item = only_item(cell_page("Roll out IPV-6", before="<p>Follows IPV-1 and IPV-2.</p>"))

    assert ("Roll out IPV-6", None) == (item.summary, item.jira_key)


def test_a_link_on_a_later_row_makes_the_project_known_to_earlier_rows():
    items = parse(cell_page("Roll out IPV-6", f"Drop the old stack {inline_card('IPV-7')}")).items

    assert [("Roll out", "IPV-6"), ("Drop the old stack", "IPV-7")] == [
        (item.summary, item.jira_key) for item in items
    ]


@pytest.mark.parametrize("projects", PROJECTS.values(), ids=PROJECTS.keys())
@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize(
    "link",
    [
        inline_card("IPV-6"),
        '<a href="https://jira.example.com/browse/IPV-6">IPV-6</a>',
        f'<a href="{SITE}/jira/software/projects/IPV/boards/3?selectedIssue=IPV-6">IPV-6</a>',
    ],
    ids=["inline-card", "browse-link", "selected-issue"],
)
def test_a_jira_link_ending_the_action_is_its_issue_whatever_its_project(link, shape, projects):
    """A link says which issue it is: no project needs to be known."""
    item = only_item(shape(f"Roll out {link}"), projects=projects)

    assert ("Roll out", "IPV-6", "IPV-6") == (item.summary, item.jira_key, item.item_id)


@pytest.mark.parametrize("shape", PAGES.values(), ids=PAGES.keys())
def test_a_known_project_after_a_reference_word_is_still_a_reference(shape):
    item = only_item(shape("Upgrade the replicas after OPS-250"), projects=["OPS"])

    assert ("Upgrade the replicas after OPS-250", None) == (item.summary, item.jira_key)


def test_with_a_ticket_column_a_known_project_in_the_action_text_stays_a_reference():
    page = action_table(
        row("Fix the retry storm OPS-13", "Ann", ""),
        header="<th>Action item</th><th>Owner</th><th>Jira</th>",
    )

    item = only_item(page, projects=["OPS"])

    assert ("Fix the retry storm OPS-13", None) == (item.summary, item.jira_key)


def test_projects_must_be_a_collection_of_keys_not_one_string():
    with pytest.raises(TypeError, match="projects must be a collection"):
        parse(cell_page("Enable HTTP-2"), projects="OPS")


@pytest.mark.parametrize("bad", ["ops", "OPS-1", "O", ""])
def test_projects_must_be_project_keys(bad):
    with pytest.raises(ValueError, match=f"projects: {bad!r} is not a Jira project key"):
        parse(cell_page("Enable HTTP-2"), projects=["OPS", bad])


def test_a_sync_reads_bare_keys_of_the_configured_project_and_keeps_other_words():
    """Syncer.parse passes the configured project: OPS-1 is linked, HTTP-2 is text, and
    the row "Enable HTTP-2" gets its own issue with the words as written."""
    with Emulator(flavour="cloud") as emu:
        emu.add_project("OPS", name="Operations")
        existing = emu.add_issue("OPS", summary="Cap the replication batch size")
        page_id = emu.add_page(
            "SRE", "Replica lag", cell_page("Enable HTTP-2", f"Cap the batch size {existing}")
        )
        syncer = pmsync.Syncer(
            emu.confluence(),
            emu.jira(),
            config=pmsync.Config(project="OPS"),
            retry=pmsync.RetryPolicy(attempts=3, budget=10, wait_initial=0.01, wait_max=1),
        )

        items = syncer.parse(syncer.read_pages(page_ids=[page_id])[0][0]).items
        result = syncer.sync(page_ids=[page_id])

        assert [("Enable HTTP-2", None), ("Cap the batch size", existing)] == [
            (item.summary, item.jira_key) for item in items
        ]
        assert result.ok, result.errors
        assert ["Enable HTTP-2"] == [
            issue["fields"]["summary"] for issue in emu.issues("OPS") if issue["key"] != existing
        ]
