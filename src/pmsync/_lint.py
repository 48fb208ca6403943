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
    The owner is a team, a group, a channel, a group handle such as ``@db-oncall`` or a
    placeholder such as ``TBD``.
``no-due-date`` (warning)
    The item has no due date.
``due-in-past`` (warning)
    The item was already overdue when it was written: not done, not yet in Jira, and
    due before today.
``vague`` (warning)
    The item opens with an open-ended verb (investigate, look into, review...) or
    promises behaviour (be more careful, ensure this never recurs, pay more attention...)
    and names no outcome anyone could check.
``too-long`` (error)
    The summary has more than 255 characters, Jira's limit for a summary.
``duplicate`` (warning)
    The same action appears in another postmortem. Each item gets one finding naming its
    closest few copies, however many there are.

Items that are already done are only checked for ``too-long`` and ``duplicate``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
import sys
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from html import escape as _xml_escape
from typing import Any, Literal, NamedTuple

import attrs

from pmsync._model import ActionItem, Person, Postmortem, Status
from pmsync._storage.keys import keys_in_text

__all__ = [
    "DUPLICATES_NAMED",
    "DUPLICATE_THRESHOLD",
    "LINT_MARKER",
    "SUMMARY_LIMIT",
    "Finding",
    "is_team_name",
    "is_vague",
    "lint",
    "lint_corpus",
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
_HANDLE_PARTS = re.compile(r"[-_.]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u00a0", " ")
    return " ".join(text.casefold().split())


def _is_group_handle(text: str) -> bool:
    """``@db-oncall``, ``@payments-squad``, ``@sre_leads``: a handle (one word after
    ``@``) with a group word among its parts. ``@mallory`` is a person's handle."""
    if not text.startswith("@") or " " in text.strip():
        return False
    parts = [part for part in _HANDLE_PARTS.split(text[1:].strip(" .:")) if part]
    return any(
        part in TEAM_WORDS or part in TEAM_SUFFIXES or part.rstrip("s") in TEAM_SUFFIXES
        for part in parts
    )


def _is_group_text(text: str) -> bool:
    if text.startswith("#"):  # a Slack channel
        return True
    if _is_group_handle(text):
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
    (``#sre``), a group handle (``@db-oncall``, ``@payments-squad``: a handle with a group
    word among its parts), ends with a group word (``Payments team``, ``DB on-call``),
    starts with one (``Team Phoenix``, ``all engineers``), or lists several owners one of
    which is a team (``SRE / DBA``). An email address is a team when its local part is
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


def _openings(phrases: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching text that starts with one of ``phrases`` (longest first)."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"^(?:" + "|".join(map(re.escape, ordered)) + r")\b", re.IGNORECASE)


_OPENING = _openings(VAGUE_OPENINGS)
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
_LINK = re.compile(r"https?://|\B#\d+\b")
_CLAUSES = re.compile(r"[;:,()]|\s[-–—]\s|\band then\b|\bthen\b|\band\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")


#: Openings that promise behaviour ("be more careful") rather than a change to a system.
BEHAVIOUR_OPENINGS = (
    "be more", "be careful", "be extra", "be vigilant", "be aware", "be mindful",
    "be proactive", "be better", "be faster", "pay attention", "pay more attention",
    "pay closer attention", "try harder", "do better", "communicate better",
    "communicate more", "remember to", "don't forget", "do not forget", "make sure",
    "ensure", "avoid", "never", "always", "stay", "keep in mind", "take care",
    "learn from", "double-check", "double check", "think twice", "focus on", "strive",
    "aim to", "get better at", "step up", "raise awareness", "educate", "remind",
)  # fmt: skip

_BEHAVIOUR = _openings(BEHAVIOUR_OPENINGS)
# "Ensure the backup job alerts ...", "Make sure every deploy runs ...": a system (named
# with an article or quantifier) made to do something checkable.
_SYSTEM_DOES = re.compile(
    r"^(?:ensure|make sure)\s+(?:that\s+)?(?:the|our|every|each|all|a|an|no)\s+"
    r"(?:[\w.-]+\s+){0,5}?(?P<verb>[a-z]+?)(?:es|s)\b",
    re.IGNORECASE,
)


def _checkable(summary: str) -> bool:
    """A purpose, a trigger, a number with a unit or comparison, a ticket or a link."""
    return bool(
        _OUTCOME_PHRASES.search(summary)
        or _THRESHOLD.search(summary)
        or _LINK.search(summary)
        or keys_in_text(summary)
    )


def _is_behavioural_promise(text: str) -> bool:
    """Whether ``text`` (without filler) promises behaviour with no checkable outcome."""
    if not _BEHAVIOUR.match(text) or _checkable(text):
        return False
    does = _SYSTEM_DOES.match(text)
    if does is not None and does.group("verb").casefold() in OUTCOME_VERBS:
        return False
    # A later clause that changes something: "Be careful with flags and add a lint rule".
    return not _later_clause_changes(text)


def _later_clause_changes(text: str) -> bool:
    """Whether a clause after the first opens with an outcome verb (``..., then fix``)."""
    for clause in _CLAUSES.split(text.casefold())[1:]:
        words = _WORD.findall(clause)
        if words and words[0] in OUTCOME_VERBS:
            return True
    return False


def _strip_filler(summary: str) -> str:
    return _FILLER.sub("", " ".join(summary.split())).strip()


def _names_outcome(summary: str) -> bool:
    if _checkable(summary):
        return True
    lowered = summary.casefold()
    for match in re.finditer(r"\bto\s+([a-z]+)", lowered):
        if match.group(1) in OUTCOME_VERBS:
            return True
    # A later clause that starts with an outcome verb: "Review the runbook and add ...".
    return _later_clause_changes(lowered)


def is_vague(summary: str) -> bool:
    """Whether an action item cannot be finished as written.

    It is vague when, after leading filler (``TODO:``, ``1.``, ``We should``...), it

    - promises behaviour (:data:`BEHAVIOUR_OPENINGS`: "Be more careful when rolling out
      config", "Ensure this never recurs", "Pay more attention to alerts") and names no
      trigger, purpose, number, ticket or link, no system made to do something ("Ensure
      the backup job alerts when it fails" is concrete) and no later clause that changes
      something ("Be careful with flags and add a lint rule"); or
    - starts with one of :data:`VAGUE_OPENINGS` and names no concrete outcome.

    A concrete outcome is any of:

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
    if _is_behavioural_promise(text):
        return True
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
    # Interned: the word sets of a corpus share one string per word, which keeps the
    # set operations of the duplicate search to pointer comparisons in a big corpus.
    return frozenset(sys.intern(_stem(w)) for w in words if w not in _STOPWORDS)


class _Ref(NamedTuple):
    """An item of the corpus, and the postmortem it is on."""

    postmortem: Postmortem
    item: ActionItem


#: How many of an item's copies its ``duplicate`` finding names (identical ones first).
DUPLICATES_NAMED = 3
# Distinct word sets compared with one item at most: a safety net that keeps the cost
# per item bounded whatever the corpus holds.
_MOST_COMPARED = 64
# Words two similar summaries must share in an index key (see _Corpus).
_SHARED_WORDS = 3


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)  # the union's size follows: no second set built
    return shared / (len(a) + len(b) - shared) if a or b else 0.0


def _signature(words: frozenset[str]) -> int:
    """64 bits, one set for each word (by its hash; words may share a bit)."""
    bits = 0
    for word in words:
        bits |= 1 << (hash(word) & 63)
    return bits


class _Corpus:
    """The items of a set of postmortems, indexed for the duplicate search.

    Items with the same folded word set (:func:`_tokens`) share one entry. The distinct
    word sets are indexed by combinations of their rarest words: two sets X, Y with
    Jaccard similarity >= t share at least ``a = ceil(t * |X|)`` words, so in one global
    order (rarest first) the first ``|X| - a + k`` words of X and of Y have ``k`` words
    in common (the prefix filter, asking for ``k = min(3, a)`` shared words rather than
    one; two similar sets always have the same ``k``). Three rare words together are
    rarer still, so an item meets few candidates that are not copies; and the search
    for an item stops once it has found more than :data:`DUPLICATES_NAMED` copies.
    Building the index and asking it about every item both cost time linear in the
    items.

    The index holds the word sets by number, in arrays the garbage collector does not
    walk, beside a 64-bit signature of each (:func:`_signature`). A bit of one signature
    missing from the other stands for at least one word missing from the other set, so
    the signatures alone bound the similarity from above: most candidates are ruled out
    without reading their sets, which in a big corpus are scattered through memory.
    """

    def __init__(self, postmortems: Iterable[Postmortem], threshold: float) -> None:
        self.threshold = threshold
        self.by_words: dict[frozenset[str], list[_Ref]] = defaultdict(list)
        # The page of the word sets found on one page only (None: on several), so that
        # the search passes over an item's own page's rows without looking at them.
        self.one_page: dict[frozenset[str], object] = {}
        # Each summary's word set, worked out once for the index and the search.
        self.words: dict[str, frozenset[str]] = {}
        for pm in postmortems:
            page = _page(pm)
            for item in pm.items:
                tokens = self.words[item.summary] = _tokens(item.summary)
                if tokens:
                    self.by_words[tokens].append(_Ref(pm, item))
                    if self.one_page.setdefault(tokens, page) != page:
                        self.one_page[tokens] = None
        frequency: dict[str, int] = defaultdict(int)
        for words in self.by_words:
            for word in words:
                frequency[word] += 1
        self.rank = {word: (count, word) for word, count in frequency.items()}
        self.sets = list(self.by_words)
        self.number = {words: number for number, words in enumerate(self.sets)}
        self.signatures = array("Q", map(_signature, self.sets))
        self.index: dict[str, array[int]] = defaultdict(functools.partial(array, "l"))
        for number, words in enumerate(self.sets):
            for key in self.keys(words):
                self.index[key].append(number)

    def keys(self, words: frozenset[str]) -> list[str]:
        """The index keys of ``words``: the ``k``-word combinations of its prefix, each
        joined with spaces (words hold none; strings cost the garbage collector less
        than tuples)."""
        ordered = sorted(words, key=lambda w: self.rank.get(w, (0, w)))
        shared = math.ceil(self.threshold * len(ordered))
        k = min(_SHARED_WORDS, shared)
        prefix = ordered[: len(ordered) - shared + k]
        return [" ".join(combination) for combination in itertools.combinations(prefix, k)]

    def copies(self, postmortem: Postmortem, item: ActionItem) -> tuple[list[_Ref], bool]:
        """A few copies of ``item`` (an item of the corpus) on other pages (identical
        wording first, then the most similar of those found), and whether there are more
        than those."""
        mine = self.words[item.summary]
        if not mine:
            return [], False
        wanted = DUPLICATES_NAMED + 1  # one more than named tells whether there are more
        found = self.on_other_pages(mine, postmortem, wanted)
        similar: list[tuple[float, list[_Ref]]] = []
        me = self.number[mine]
        seen = {me}
        compared = 0
        size, signature = len(mine), self.signatures[me]
        low, high = self.threshold * size, size / self.threshold
        page = _page(postmortem)
        for number in self.candidates(mine):
            if len(found) >= wanted or compared >= _MOST_COMPARED:
                break
            if number in seen:
                continue
            seen.add(number)
            compared += 1
            other = self.signatures[number]
            # At least this many words of mine are not in it (and of its not in mine):
            # too many, and it cannot be similar enough. Most candidates stop at the first.
            missing = (signature & ~other).bit_count()
            if size - missing < low:
                continue
            if size - missing < self.threshold * (size + (other & ~signature).bit_count()):
                continue
            words = self.sets[number]
            if self.one_page[words] == page:  # no copies there, however similar
                continue
            similarity = _jaccard(mine, words) if low <= len(words) <= high else 0.0
            if similarity >= self.threshold:
                copies = self.on_other_pages(words, postmortem, wanted - len(found))
                similar.append((similarity, copies))
                found.extend(copies)
        exact = len(found) - sum(len(copies) for _, copies in similar)
        ordered = found[:exact]
        for _, copies in sorted(similar, key=lambda pair: -pair[0]):
            ordered.extend(copies)
        return ordered[:DUPLICATES_NAMED], len(ordered) > DUPLICATES_NAMED

    def candidates(self, words: frozenset[str]) -> Iterator[int]:
        """The numbers of the word sets that share an index key with ``words``."""
        # Chained in C: an item meets dozens of candidates in a big corpus.
        return itertools.chain.from_iterable(self.index.get(key, ()) for key in self.keys(words))

    def on_other_pages(
        self, words: frozenset[str], postmortem: Postmortem, most: int
    ) -> list[_Ref]:
        """Up to ``most`` items with exactly ``words`` that are not on ``postmortem``'s page."""
        refs = (ref for ref in self.by_words.get(words, ()) if _other_page(ref, postmortem))
        return list(itertools.islice(refs, most))


def _other_page(ref: _Ref, postmortem: Postmortem) -> bool:
    return _page(ref.postmortem) != _page(postmortem)


def _page(postmortem: Postmortem) -> object:
    """What tells pages apart: the page id, or the postmortem itself when it has none."""
    return postmortem.page_id if postmortem.page_id is not None else id(postmortem)


_LAST_CORPUS: list[tuple[set[int], list[Postmortem], _Corpus]] = []


def _corpus(postmortem: Postmortem, others: Sequence[Postmortem]) -> _Corpus:
    """The corpus of ``others`` and ``postmortem``, reused while the same postmortems
    come back (linting each page of a run against all the others builds it once). The
    entry holds the postmortems, so the ids in its key cannot be reused meanwhile."""
    key = set(map(id, others))
    key.add(id(postmortem))
    last = _LAST_CORPUS[0] if _LAST_CORPUS else None  # one read: other threads may lint
    if last is not None and last[0] == key:
        return last[2]
    everything = list({id(pm): pm for pm in (postmortem, *others)}.values())
    corpus = _Corpus(everything, DUPLICATE_THRESHOLD)
    _LAST_CORPUS[:] = [(key, everything, corpus)]
    return corpus


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

    Each item gets at most one ``duplicate`` finding, naming up to
    :data:`DUPLICATES_NAMED` of its copies (identical wording first) and saying when
    there are more. The duplicate index is
    built once and reused while ``others`` (with ``postmortem``) stays the same set, so
    linting each page of a run against the others costs time linear in the items; to
    lint a whole set, :func:`lint_corpus` does it in one call.
    """
    today = today or dt.date.today()
    corpus = _corpus(postmortem, others) if others else None
    return _lint(postmortem, today, corpus, frozenset(unresolved))


def lint_corpus(
    postmortems: Sequence[Postmortem],
    *,
    today: dt.date | None = None,
    unresolved: Collection[str] = (),
) -> tuple[Finding, ...]:
    """Lint every postmortem of ``postmortems`` against all the others, as calling
    :func:`lint` for each with ``others=postmortems`` does, with the duplicate index
    built once. The findings come page by page, in page order."""
    today = today or dt.date.today()
    # Copies are looked for on other pages only: one page has none to find.
    several = len({_page(pm) for pm in postmortems}) > 1
    corpus = _Corpus(postmortems, DUPLICATE_THRESHOLD) if several else None
    unresolved_set = frozenset(unresolved)
    return tuple(
        finding for pm in postmortems for finding in _lint(pm, today, corpus, unresolved_set)
    )


def _lint(
    postmortem: Postmortem,
    today: dt.date,
    corpus: _Corpus | None,
    unresolved_set: frozenset[str],
) -> tuple[Finding, ...]:
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
        copies, more = corpus.copies(postmortem, item) if corpus else ([], False)
        if copies:
            named = "; ".join(_other_where(ref) for ref in copies)
            if more:
                named += " and on other pages"
            add(
                "duplicate",
                "warning",
                f"the same action is on {named}; link the existing issue "
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
