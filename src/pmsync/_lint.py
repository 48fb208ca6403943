"""Action-item lint: find items that nobody owns, that cannot be finished, or that repeat.

Pure: no network and no clock apart from :func:`lint` reading today's date when it is not
given one. Every check is a small function over one :class:`~pmsync.ActionItem`; the
vocabulary each check relies on (team words, vague openings, concrete outcomes) is listed
at module level so that the documentation and the tests can point at it.

Codes (severity):

``no-owner`` (error)
    The item has no owner, or the owner cell holds a placeholder.
``owner-unresolved`` (error)
    pmsync could not map the owner to a Jira user (the engine passes the identities).
``owner-is-team`` (warning)
    The owner is a team, a group, a channel or a placeholder such as ``TBD``.
``no-due-date`` (warning)
    The item has no due date.
``due-in-past`` (warning)
    The item was already overdue when it was written: not done, not yet in Jira, and
    due before today.
``vague`` (warning)
    The item opens with an open-ended verb (investigate, look into, review...) and names
    no concrete outcome.
``too-long`` (error)
    The summary has more than 255 characters, Jira's limit for a summary.
``duplicate`` (warning)
    The same action appears in another postmortem.

Items that are already done are only checked for ``too-long`` and ``duplicate``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from html import escape as _xml_escape
from typing import Any, Literal

import attrs

from pmsync._model import ActionItem, Person, Postmortem, Status

__all__ = [
    "DUPLICATE_THRESHOLD",
    "LINT_MARKER",
    "SUMMARY_LIMIT",
    "Finding",
    "is_team_name",
    "is_vague",
    "lint",
    "render_lint_note",
]

#: Jira rejects summaries longer than this.
SUMMARY_LIMIT = 255

#: The title of the lint note pmsync keeps beside an action-item table (see
#: :func:`render_lint_note`); :func:`pmsync._storage.blocks.upsert_block` finds it by this.
LINT_MARKER = "pmsync: action item check"

#: Two summaries whose normalised word sets have at least this Jaccard similarity are
#: reported as duplicates.
DUPLICATE_THRESHOLD = 0.75

Severity = Literal["error", "warning"]


@attrs.frozen
class Finding:
    """One problem :func:`lint` found with one action item.

    ``code`` is short and stable (``no-owner``, ``vague``...), ``severity`` is ``error``
    (pmsync cannot do its job for this item) or ``warning`` (it can, but the item is
    unlikely to get done as written). ``table`` and ``row`` are the item's 0-based position
    on the page (see :class:`~pmsync.ActionItem`); ``message`` already names them 1-based.
    """

    code: str
    severity: Severity
    message: str
    item_id: str | None
    page_id: str | None
    table: int | None = None
    row: int | None = None

    def __str__(self) -> str:
        return f"{self.severity} [{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this finding."""
        return attrs.asdict(self)


# --- owners ------------------------------------------------------------------------------

#: Whole owner texts that name a group, a role or nobody in particular.
TEAM_WORDS = frozenset(
    {
        "team", "teams", "squad", "group", "guild", "crew", "platform", "sre", "sres",
        "ops", "devops", "opsteam", "infra", "infrastructure", "eng", "engineering",
        "engineers", "devs", "developers", "everyone", "everybody", "all", "all of us",
        "us", "we", "oncall", "on-call", "on call", "the on-call", "incident commander",
        "ic", "dba", "dbas", "noc", "soc", "secops", "security", "qa", "support",
        "backend", "frontend", "networking", "network", "management", "leadership", "product",
        "it", "helpdesk", "whoever", "anyone", "someone", "somebody", "owner", "owners",
        "everyone involved", "all teams", "all hands",
    }
)  # fmt: skip

#: Owner texts that stand for "nobody yet".
PLACEHOLDERS = frozenset(
    {
        "tbd", "tba", "tbc", "n/a", "na", "none", "nobody", "no one", "unassigned",
        "unknown", "?", "??", "???", "-", "--", "—", "x", "todo", "to do", "later",
    }
)  # fmt: skip

#: A last word that makes an owner text a group ("Payments team", "DB on-call").
TEAM_SUFFIXES = frozenset(
    {
        "team", "teams", "squad", "group", "guild", "crew", "org", "dept", "department",
        "rotation", "oncall", "on-call", "folks", "people", "engineers", "devs", "developers",
        "staff", "members", "everyone", "leads", "tribe", "chapter", "pod",
    }
)  # fmt: skip

#: A first word that makes an owner text a group ("Team Phoenix", "all SREs").
TEAM_PREFIXES = frozenset({"team", "all", "every", "entire", "whole", "squad"})

#: Slack-style broadcast mentions.
BROADCASTS = ("@here", "@channel", "@everyone", "@all", "!here", "!channel", "<!")

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SEPARATORS = re.compile(r"\s*(?:/|&|\+|,|;|\band\b|\bor\b)\s*", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w/&+?@#.\-— ]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u00a0", " ")
    return " ".join(text.casefold().split())


def _is_group_text(text: str) -> bool:
    if text.startswith("#"):  # a Slack channel
        return True
    plain = text.lstrip("@").strip(" .:")
    if plain in TEAM_WORDS or plain in PLACEHOLDERS:
        return True
    words = plain.replace("_", " ").replace("-team", " team").split()
    if not words:
        return False
    last = words[-1].rstrip(".")
    if len(words) > 1 and (last in TEAM_SUFFIXES or last.rstrip("s") in TEAM_SUFFIXES):
        return True
    if len(words) > 1 and words[0] in TEAM_PREFIXES:
        return True
    # "SREs", "DBAs": plurals of group words.
    return len(words) == 1 and plain.endswith("s") and plain[:-1] in TEAM_WORDS


def is_team_name(owner: Person) -> bool:
    """Whether ``owner`` names a team, group, channel or placeholder rather than a person.

    A mention of a real user (one with an account id, user key or user name) is never a
    team. For plain text, parenthesised notes are ignored first (``Alice (SRE team)`` is
    Alice), then the text is a team when it is a known group word or placeholder
    (:data:`TEAM_WORDS`, :data:`PLACEHOLDERS`), a broadcast (``@here``), a Slack channel
    (``#sre``), ends with a group word (``Payments team``, ``DB on-call``), starts with one
    (``Team Phoenix``, ``all engineers``), or lists several owners one of which is a team
    (``SRE / DBA``). An email address is a team when its local part is
    (``sre-team@example.com``).
    """
    if owner.account_id or owner.user_key or owner.username:
        return False
    text = owner.text or owner.display_name
    if text is None:
        if owner.email:
            return _is_group_text(_fold(owner.email.split("@", 1)[0]).replace(".", " "))
        return False
    folded = _fold(text)
    if any(folded.startswith(b) for b in BROADCASTS):
        return True
    without_notes = _fold(_PARENTHESES.sub(" ", folded)) or folded
    if "@" in without_notes.strip("@") and " " not in without_notes:
        local = without_notes.lstrip("@").split("@", 1)[0]
        return _is_group_text(local.replace(".", " "))
    if _is_group_text(without_notes):
        return True
    parts = [p for p in _SEPARATORS.split(without_notes) if p]
    return any(_is_group_text(_NON_WORD.sub(" ", p).strip()) for p in parts or [without_notes])


def _is_placeholder(owner: Person) -> bool:
    if owner.account_id or owner.user_key or owner.username or owner.email:
        return False
    text = owner.text or owner.display_name
    return text is not None and _fold(text).strip(" .:") in PLACEHOLDERS


# --- vague items -------------------------------------------------------------------------

#: Openings that describe an activity rather than a result.
VAGUE_OPENINGS = (
    "investigate", "investigating", "investigation", "look into", "looking into",
    "look at", "looking at", "monitor", "monitoring", "consider", "considering",
    "improve", "improving", "improvement", "improvements", "review", "reviewing",
    "discuss", "discussing", "discussion", "think about", "thinking about", "explore",
    "exploring", "evaluate", "evaluating", "assess", "assessing", "analyse", "analyze",
    "analysis", "research", "revisit", "understand", "figure out", "follow up",
    "follow-up", "keep an eye on", "keep track of", "clarify", "brainstorm",
    "talk to", "talk about", "sync with", "sync on", "work on", "try to",
    "see if", "see whether", "maybe", "possibly", "potentially",
)  # fmt: skip

#: Verbs that name a deliverable; "to <verb>", "and <verb>" or a clause starting with one
#: makes an item concrete.
OUTCOME_VERBS = frozenset(
    {
        "add", "remove", "delete", "create", "write", "document", "publish", "fix", "patch",
        "replace", "migrate", "upgrade", "downgrade", "raise", "lower", "set", "increase",
        "decrease", "reduce", "cap", "limit", "enable", "disable", "automate", "alert",
        "page", "deploy", "roll", "rollback", "implement", "build", "ship", "schedule",
        "produce", "decide", "choose", "pick", "agree", "file", "open", "close", "update",
        "change", "rename", "split", "merge", "move", "configure", "tune", "block",
        "prevent", "stop", "restrict", "require", "enforce", "introduce", "switch", "turn",
        "record", "draft", "send", "share", "present", "submit", "release", "retire",
        "deprecate", "archive", "rotate", "revoke", "grant", "backfill", "restore", "run",
        "adopt", "standardise", "standardize", "consolidate", "catch", "detect", "fail",
        "reject", "drop", "delay", "retry", "throttle", "shard", "partition", "index",
        "pin", "bump", "extend", "shorten", "tighten", "loosen", "lock", "unlock",
        "sign", "approve", "hand", "assign", "train", "teach", "hire",
    }
)  # fmt: skip

_OPENING = re.compile(
    r"^(?:" + "|".join(re.escape(v) for v in sorted(VAGUE_OPENINGS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)  # fmt: skip
_FILLER = re.compile(
    r"^(?:(?:todo|action|ai|follow[- ]?up|next step)\s*[:\-–]\s*|[-*•]\s*|\d+[.)]\s*|"
    r"(?:we|you|they|i|someone|team)?\s*(?:should|must|need to|needs to|have to|has to|"
    r"will|to|please|let'?s)\s+)+",
    re.IGNORECASE,
)
_OUTCOME_PHRASES = re.compile(
    r"\b(?:so that|so we|so it|so they|in order to|such that|done when|deliverables?|"
    r"acceptance criteria|resulting in)\b|\b(?:outcome|result|goal)\s*:|"
    r"\b(?:alert|page|notify|warn|fail|block|reject|stop)(?:s|ing)?\s+(?:\w+\s+){0,3}?"
    r"(?:when|if|whenever|once)\b|"
    r"\bby\s+\w+ing\b",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(
    r"[<>≤≥]=?\s*\d|"
    r"\b\d+(?:[.,]\d+)?\s*(?:%|percent|ms|millis\w*|s|secs?|seconds?|mins?|minutes?|h|hrs?|"
    r"hours?|days?|weeks?|gb|mb|kb|tb|rps|qps|req/s|x|times)\b|"
    r"\b(?:below|above|under|over|at least|at most|less than|more than|fewer than|within|"
    r"no more than|no less than|up to)\s+\d",
    re.IGNORECASE,
)
_TICKET = re.compile(r"\b[A-Z][A-Z0-9_]+-\d+\b|https?://|\B#\d+\b")
_CLAUSES = re.compile(r"[;:,()]|\s[-–—]\s|\band then\b|\bthen\b|\band\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")


def _strip_filler(summary: str) -> str:
    return _FILLER.sub("", " ".join(summary.split())).strip()


def _names_outcome(summary: str) -> bool:
    if _OUTCOME_PHRASES.search(summary) or _THRESHOLD.search(summary) or _TICKET.search(summary):
        return True
    lowered = summary.casefold()
    for match in re.finditer(r"\bto\s+([a-z]+)", lowered):
        if match.group(1) in OUTCOME_VERBS:
            return True
    # A later clause that starts with an outcome verb: "Review the runbook and add ...".
    clauses = _CLAUSES.split(lowered)[1:]
    for clause in clauses:
        words = _WORD.findall(clause)
        if words and words[0] in OUTCOME_VERBS:
            return True
    return False


def is_vague(summary: str) -> bool:
    """Whether an action item cannot be finished as written.

    It is vague when, after leading filler (``TODO:``, ``1.``, ``We should``...), it starts
    with one of :data:`VAGUE_OPENINGS` and names no concrete outcome. A concrete outcome
    is any of:

    - a purpose or finish line: ``so that``, ``in order to``, ``such that``, ``done when``,
      ``deliverable``, ``acceptance criteria``, ``outcome:``, ``goal:``;
    - a method: ``by adding ...``, ``by <verb>ing ...``;
    - a deliverable verb from :data:`OUTCOME_VERBS` after ``to`` (``... to decide``,
      ``... to add``) or opening a later clause (``Review X and add Y``, ``Review X; write
      Y``, ``Investigate X, then fix Y``);
    - a trigger: ``alert when``, ``page if``, ``fail once``...;
    - a number with a comparison or a unit (``> 80%``, ``200 ms``, ``at most 3``);
    - a ticket or link (``OPS-12``, ``#123``, ``https://...``).
    """
    text = _strip_filler(summary)
    if not _OPENING.match(text):
        return False
    return not _names_outcome(text)


# --- duplicates --------------------------------------------------------------------------

_STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "at", "by", "with",
        "from", "into", "onto", "our", "its", "their", "this", "that", "these", "those",
        "is", "are", "be", "been", "all", "any", "each", "every", "some", "as", "so", "it",
        "we", "should", "must", "need", "needs", "will", "please", "todo", "new",
    }
)  # fmt: skip


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("y") and len(word) > 3:
        word = word[:-1] + "i"
    return word


@functools.lru_cache(maxsize=16384)
def _tokens(summary: str) -> frozenset[str]:
    folded = unicodedata.normalize("NFKD", summary.casefold())
    words = re.findall(r"[a-z0-9]+", folded)
    return frozenset(_stem(w) for w in words if w not in _STOPWORDS)


@attrs.frozen
class _Ref:
    postmortem: Postmortem
    item: ActionItem
    tokens: frozenset[str]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _prefix(tokens: frozenset[str], rank: dict[str, tuple[int, str]], t: float) -> list[str]:
    # Prefix filtering: two sets with Jaccard >= t share a token among the first
    # |X| - ceil(t * |X|) + 1 tokens of each, in one global order (rarest first).
    ordered = sorted(tokens, key=lambda w: rank.get(w, (0, w)))
    return ordered[: len(ordered) - math.ceil(t * len(ordered)) + 1]


def _duplicates(
    postmortem: Postmortem, others: Iterable[Postmortem], threshold: float
) -> dict[str, list[_Ref]]:
    refs = [
        _Ref(pm, item, _tokens(item.summary))
        for pm in others
        if pm is not postmortem and (pm.page_id is None or pm.page_id != postmortem.page_id)
        for item in pm.items
    ]
    refs = [r for r in refs if r.tokens]
    if not refs:
        return {}
    frequency: dict[str, int] = defaultdict(int)
    for ref in refs:
        for word in ref.tokens:
            frequency[word] += 1
    rank = {w: (n, w) for w, n in frequency.items()}
    index: dict[str, list[int]] = defaultdict(list)
    for position, ref in enumerate(refs):
        for word in _prefix(ref.tokens, rank, threshold):
            index[word].append(position)
    found: dict[str, list[_Ref]] = {}
    for item in postmortem.items:
        mine = _tokens(item.summary)
        if not mine:
            continue
        candidates: set[int] = set()
        for word in _prefix(mine, rank, threshold):
            candidates.update(index.get(word, ()))
        matches = []
        for position in sorted(candidates):
            ref = refs[position]
            size = len(ref.tokens)
            if not threshold * len(mine) <= size <= len(mine) / threshold:
                continue
            if _jaccard(mine, ref.tokens) >= threshold:
                matches.append(ref)
        if matches:
            found[item.item_id] = matches
    return found


# --- lint --------------------------------------------------------------------------------


def _where(postmortem: Postmortem, item: ActionItem) -> str:
    page = f"page {postmortem.title!r}" if postmortem.title else f"page {postmortem.page_id}"
    if item.kind == "task":
        spot = f"task {item.row + 1} of task list {item.table + 1}"
    else:
        spot = f"row {item.row + 1} of table {item.table + 1}"
    summary = item.summary if len(item.summary) <= 60 else item.summary[:57] + "..."
    return f"{page}, {spot} ({summary!r})"


def _other_where(ref: _Ref) -> str:
    pm, item = ref.postmortem, ref.item
    page = f"{pm.title!r}" if pm.title else f"page {pm.page_id}"
    key = f", {item.jira_key}" if item.jira_key else ""
    return f"{page} row {item.row + 1}{key}: {item.summary!r}"


def lint(
    postmortem: Postmortem,
    *,
    today: dt.date | None = None,
    others: Sequence[Postmortem] = (),
    unresolved: Collection[str] = (),
) -> tuple[Finding, ...]:
    """Check every action item of one postmortem; return the findings in page order.

    ``today`` decides ``due-in-past`` (default: today's local date). ``others`` are the
    other postmortems to compare against for ``duplicate`` (the postmortem itself may be
    among them; it is skipped). ``unresolved`` holds the owner identities
    (:attr:`pmsync.Person.identity`) that could not be mapped to a Jira user, and gives
    ``owner-unresolved``; an owner that is a team gets ``owner-is-team`` instead.

    The duplicate search costs about one pass over ``others`` per call: summaries are
    normalised once (cached) and compared only when they share one of their rarest words.
    """
    today = today or dt.date.today()
    unresolved_set = frozenset(unresolved)
    duplicates = _duplicates(postmortem, others, DUPLICATE_THRESHOLD) if others else {}
    findings: list[Finding] = []

    for item in postmortem.items:

        def add(code: str, severity: Severity, text: str, item: ActionItem = item) -> None:
            findings.append(
                Finding(
                    code=code,
                    severity=severity,
                    message=f"{_where(postmortem, item)}: {text}",
                    item_id=item.item_id,
                    page_id=postmortem.page_id,
                    table=item.table,
                    row=item.row,
                )
            )

        done = item.status is Status.DONE
        if len(item.summary) > SUMMARY_LIMIT:
            add(
                "too-long",
                "error",
                f"the summary has {len(item.summary)} characters; Jira allows "
                f"{SUMMARY_LIMIT}. Shorten it and move the detail to a description column.",
            )
        if not done:
            owner = item.owner
            if owner is None or owner.identity is None:
                add("no-owner", "error", "nobody owns this item; name one person as owner.")
            elif _is_placeholder(owner):
                add(
                    "owner-is-team",
                    "warning",
                    f"the owner {str(owner)!r} is a placeholder, not a person; name one "
                    "person as owner.",
                )
            elif is_team_name(owner):
                add(
                    "owner-is-team",
                    "warning",
                    f"the owner {str(owner)!r} is a team or group, not a person; name one "
                    "person who will drive it (mention them with @).",
                )
            elif owner.identity in unresolved_set:
                add(
                    "owner-unresolved",
                    "error",
                    f"no Jira user matches the owner {str(owner)!r}; mention the person "
                    "with @ or use their name exactly as in Jira.",
                )
            if item.due is None:
                add("no-due-date", "warning", "there is no due date; add one.")
            elif item.due < today and item.jira_key is None:
                add(
                    "due-in-past",
                    "warning",
                    f"the due date {item.due.isoformat()} is already past (today is "
                    f"{today.isoformat()}); set a date that can still be met.",
                )
            if is_vague(item.summary):
                add(
                    "vague",
                    "warning",
                    "this describes an activity, not a result; say what will exist or "
                    'change when it is done ("... so that ...", "... and add ...", a '
                    "threshold or a ticket).",
                )
        for ref in duplicates.get(item.item_id, ()):
            add(
                "duplicate",
                "warning",
                f"the same action is on {_other_where(ref)}; link the existing issue "
                "instead of creating another, or say how this one differs.",
            )
    return tuple(findings)


def render_lint_note(findings: Sequence[Finding], *, title: str = LINT_MARKER) -> str:
    """A storage-format ``note`` macro listing ``findings``, for a page beside its table.

    Put it on the page with :func:`pmsync._storage.blocks.upsert_block` using ``title`` as
    the marker, so that the next run replaces it instead of adding another. Every message
    is XML-escaped. With no findings the note says so (or remove the block instead).
    """
    if findings:
        rows = "".join(
            f"<li><strong>{_xml_escape(f.code)}</strong> ({_xml_escape(f.severity)}): "
            f"{_xml_escape(f.message)}</li>"
            for f in findings
        )
        body = f"<ul>{rows}</ul>"
    else:
        body = "<p>No problems found in the action items.</p>"
    return (
        '<ac:structured-macro ac:name="note">'
        f'<ac:parameter ac:name="title">{_xml_escape(title)}</ac:parameter>'
        f"<ac:rich-text-body>{body}</ac:rich-text-body>"
        "</ac:structured-macro>"
    )
