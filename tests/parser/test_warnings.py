"""Every row is an item or a warning; warnings have documented codes and say where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from parser_helpers import action_table, codes, parse, row

DOCS = Path(__file__).parents[2] / "docs" / "parser.md"

HEADER = "<th>Action</th><th>Owner</th><th>Due</th><th>Status</th><th>Jira</th>"

#: One small page per warning code.
PAGES = {
    "broken-markup": action_table(row("Fix R&D's build", "Ann")),
    "unrecognised-table": action_table(row("a", "b"), row("c", "d"), header="<th>X</th><th>Y</th>"),
    "repeated-header": action_table(row("Fix it", "Ann"), "<tr><th>Action</th><th>Owner</th></tr>"),
    "no-summary": action_table(row("", "Ann")),
    "merged-summary": action_table(
        "<tr><td rowspan='2'>Fix it</td><td>Ann</td></tr>", "<tr><td>Bob</td></tr>"
    ),
    "extra-owners": action_table(row("Fix it", "Ann; Bob")),
    "ambiguous-date": action_table(row("Fix it", "Ann", "03/04/2026"), header=HEADER),
    "unreadable-date": action_table(row("Fix it", "Ann", "soon"), header=HEADER),
    "unknown-status": action_table(row("Fix it", "Ann", "", "parked"), header=HEADER),
    "extra-keys": action_table(row("Fix it", "Ann", "", "", "OPS-1 OPS-2"), header=HEADER),
    "duplicate-key": action_table(
        row("Fix it", "Ann", "", "", "OPS-1"),
        row("Fix that", "Bob", "", "", "OPS-1"),
        header=HEADER,
    ),
    "duplicate-task-id": (
        "<h2>Action items</h2><ac:task-list>"
        "<ac:task><ac:task-id>1</ac:task-id><ac:task-body>Fix it</ac:task-body></ac:task>"
        "<ac:task><ac:task-id>1</ac:task-id><ac:task-body>Fix that</ac:task-body></ac:task>"
        "</ac:task-list>"
    ),
    "typed-mention": action_table(row("@Priya Failover Runbook Review", "")),
}


@pytest.mark.parametrize("code", sorted(PAGES))
def test_each_warning_code_is_produced_by_its_page(code):
    """Each code comes from the situation it names, alone."""
    assert [code] == codes(parse(PAGES[code]))


def test_every_code_is_documented():
    """docs/parser.md lists every warning code the parser emits, and no other."""
    section = DOCS.read_text(encoding="utf-8").split("## Warnings")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))

    assert set(PAGES) == documented


@pytest.mark.parametrize(
    "code", sorted(set(PAGES) - {"broken-markup", "unrecognised-table", "duplicate-task-id"})
)
def test_row_warnings_name_the_row_and_table_in_words(code):
    """Row warnings say "row N of the table under “heading”" and carry table and row."""
    warning = parse(PAGES[code]).warnings[0]

    assert re.match(r"row \d+ of the table under “Action items”", warning.message)
    assert (0, int(warning.message.split()[1]) - 1) == (warning.table, warning.row)


def test_task_warnings_name_the_task():
    """Task warnings say "task N of the task list under “heading”"."""
    warning = parse(PAGES["duplicate-task-id"]).warnings[0]

    assert warning.message.startswith("task 2 of the task list under “Action items”")


def test_table_warnings_have_no_row():
    """A warning about a whole table names the table only."""
    warning = parse(PAGES["unrecognised-table"]).warnings[0]

    assert (0, None) == (warning.table, warning.row)


def test_page_warnings_have_no_position():
    """A warning about the page's markup names no table or row."""
    warning = parse(PAGES["broken-markup"]).warnings[0]

    assert (None, None) == (warning.table, warning.row)


def test_entirely_empty_rows_are_dropped_quietly():
    """An empty row is neither an item nor a warning."""
    postmortem = parse(
        action_table(row("", ""), row("<p><br /></p>", "&nbsp;"), row("Fix it", "Ann"))
    )

    assert (1, []) == (len(postmortem.items), codes(postmortem))


class TestDocs:
    """The examples in docs/parser.md run as written."""

    @pytest.mark.parametrize(
        "number",
        range(len(re.findall(r"```python\n", DOCS.read_text(encoding="utf-8")))),
    )
    def test_python_example_runs(self, number):
        """Each ```python block is a self-checking example."""
        blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)

        exec(compile(blocks[number], f"docs/parser.md example {number + 1}", "exec"), {})  # noqa: S102
