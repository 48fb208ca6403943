"""What the executor needs from Confluence and Jira, as Protocols. Pure: types only.

pmsync's own gateways (over atlassian-python-api) satisfy them; an embedder or a test
can carry out a plan (:class:`pmsync._apply.Applier`) against its own objects of these
shapes, without HTTP. The planner needs neither: it is a function of a snapshot
(:func:`pmsync.diff`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from pmsync._model import CreateOutcome, JiraIssue, Page, Transition

__all__ = ["IssueGateway", "PageGateway"]


class PageGateway(Protocol):
    """Confluence as the executor uses it: pages by version, content properties by CAS."""

    def get_page(self, page_id: str) -> Page:
        """One page with its body and version."""
        ...

    def update_page(self, page: Page, storage: str, *, message: str) -> Page | None:
        """Write ``storage`` as ``page.version + 1``; None when a newer version exists."""
        ...

    def content_property(self, page_id: str, key: str) -> tuple[Any, int] | None:
        """A content property's value and version, or None."""
        ...

    def put_content_property(
        self, page_id: str, key: str, value: Any, *, version: int
    ) -> int | None:
        """Compare-and-set over ``version`` (0: create); the new version, or None if stale."""
        ...

    def delete_content_property(self, page_id: str, key: str) -> None:
        """Delete a content property (absent: nothing to do)."""
        ...


class IssueGateway(Protocol):
    """Jira as the executor uses it."""

    cloud: bool

    def search(
        self, jql: str, *, fields: Iterable[str] = ..., page_size: int = ...
    ) -> Iterator[JiraIssue]:
        """Every issue matching ``jql``, with the ``pmsync`` property."""
        ...

    def issue(self, key: str) -> JiraIssue:
        """One issue, read directly (not through the search index)."""
        ...

    def bulk_create(self, issue_updates: Sequence[Mapping[str, Any]]) -> list[CreateOutcome]:
        """Create issues; one outcome per element, in order."""
        ...

    def issue_and_transitions(self, key: str) -> tuple[JiraIssue, list[Transition]]:
        """One issue and the transitions available from its status, read together."""
        ...

    def edit(
        self, key: str, fields: Mapping[str, Any], *, record: Mapping[str, Any] | None = None
    ) -> None:
        """Set fields of one issue (and the ``pmsync`` property ``record``, if given)."""
        ...

    def set_property(self, key: str, value: Mapping[str, Any]) -> None:
        """Store the ``pmsync`` issue property."""
        ...

    def transitions(self, key: str) -> list[Transition]:
        """The transitions available from the issue's status."""
        ...

    def transition(
        self, key: str, transition_id: str, *, record: Mapping[str, Any] | None = None
    ) -> None:
        """Move the issue through one transition (setting the ``pmsync`` property
        ``record`` with the move, if given)."""
        ...

    def comment(self, key: str, text: str) -> None:
        """Add a comment."""
        ...
