"""Small page builders shared by the parser tests."""

from __future__ import annotations

from pmsync import ActionItem, Postmortem, parse_page

HEADER = "<th>Action item</th><th>Owner</th>"


def action_table(*rows: str, header: str = HEADER) -> str:
    """An action-item table under an "Action items" heading, from row markup."""
    body = "".join(rows)
    return f"<h2>Action items</h2><table><tbody><tr>{header}</tr>{body}</tbody></table>"


def row(*cells: str) -> str:
    """A body row from cell contents."""
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def parse(storage: str, **options: object) -> Postmortem:
    """parse_page with page id ``"42"``."""
    return parse_page(storage, page_id="42", **options)  # type: ignore[arg-type]


def only_item(storage: str, **options: object) -> ActionItem:
    """The single item of a page; fails when there is not exactly one."""
    postmortem = parse(storage, **options)
    assert len(postmortem.items) == 1, (postmortem.items, postmortem.warnings)
    return postmortem.items[0]


def codes(postmortem: Postmortem) -> list[str]:
    """The warning codes of a postmortem, in order."""
    return [warning.code for warning in postmortem.warnings]
