"""The words pmsync reads on pages: header names, statuses, priorities, section headings.

Pure: no I/O. Every lookup goes through :func:`normalise_words`, so ``Owner(s)``,
``OWNER`` and ``owner`` (with a non-breaking space or a trailing colon) are the same
word. The sync engine reuses :func:`status_from_text` for Jira status names and
:func:`normalise_priority` for page priorities, so pages and Jira speak one vocabulary.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from pmsync._model import Status

__all__ = [
    "ACTION_HEADINGS",
    "CORE_FIELDS",
    "DEFAULT_COLUMNS",
    "HeaderVocabulary",
    "fold_words",
    "is_action_heading",
    "is_placeholder",
    "normalise_priority",
    "normalise_words",
    "status_from_lozenge",
    "status_from_text",
    "trailing_status",
]

#: Fields that map onto :class:`~pmsync.ActionItem` attributes rather than ``extra``.
CORE_FIELDS = frozenset({"summary", "description", "owner", "due", "priority", "status", "ticket"})

#: Fields whose presence (beside ``summary``) makes a table an action-item table.
_QUALIFYING_FIELDS = frozenset({"owner", "due", "priority", "status", "ticket"})

#: The built-in header vocabulary: field -> header names (matched after normalisation).
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "summary": (
        "action item",
        "action",
        "task",
        "item",
        "follow-up",
        "follow up",
        "followup",
        "corrective action",
        "preventive action",
        "preventative action",
        "remediation",
        "remediation item",
        "recommendation",
        "next step",
        "description",
        "title",
    ),
    "owner": (
        "owner",
        "owners",
        "assignee",
        "assigned to",
        "responsible",
        "responsibility",
        "who",
        "dri",
        "action owner",
    ),
    "due": (
        "due",
        "due date",
        "due by",
        "due on",
        "deadline",
        "target date",
        "by when",
        "eta",
    ),
    "priority": ("priority", "prio", "severity", "sev"),
    "status": ("status", "state", "progress"),
    "ticket": (
        "jira",
        "ticket",
        "issue",
        "key",
        "bug",
        "bug #",
        "bug id",
        "jira ticket",
        "jira issue",
        "jira key",
        "issue key",
        "ticket #",
    ),
    "type": ("type", "category", "kind"),
}

#: Section headings whose task lists hold action items (matched after normalisation).
ACTION_HEADINGS: tuple[str, ...] = (
    "action items",
    "action item",
    "actions",
    "action plan",
    "follow ups",
    "follow up",
    "followups",
    "follow up actions",
    "follow up items",
    "corrective actions",
    "corrective action",
    "corrective and preventive actions",
    "corrective and preventative actions",
    "corrective and preventive measures",
    "corrective and preventative measures",
    "preventive actions",
    "preventative actions",
    "next steps",
    "remediation",
    "remediations",
    "remediation items",
    "remediation plan",
)

# A heading that starts with one of these words (``Action items for Q3``) also counts.
_ACTION_HEADING_PREFIXES: tuple[str, ...] = tuple(
    sorted({h for h in ACTION_HEADINGS if h != "actions"}, key=len, reverse=True)
)

_PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_ASCII_FOLD = bytes(
    byte + 32 if 65 <= byte <= 90 else byte if 97 <= byte <= 122 or 48 <= byte <= 57 else 32
    for byte in range(256)
)
_NOT_WORD = re.compile(r"[\W_]+")
_PLURAL_OF = "(s)"

# Cell contents that mean "nothing here yet": no value, and no warning either.
_PLACEHOLDERS = frozenset({"", "n a", "na", "none", "tbd", "tbc", "tba", "unknown", "nil"})
# Longer texts are never placeholders, whatever punctuation surrounds them.
_LONGEST_PLACEHOLDER = 24


def _fold_unicode(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def _space_like() -> re.Pattern[str]:
    """Non-ASCII spaces and punctuation that fold to nothing but a word break (``\xa0``,
    ``’``, ``–``, ``…``, zero-width characters), for :func:`fold_words`' quick path.

    Only spaces, punctuation and format characters qualify: no letter, digit or mark
    composes with them under NFKC, so turning them into a space before folding gives what
    folding the whole text gives (a property test checks it on random text)."""
    chars = []
    for codepoint in (*range(0x80, 0x100), *range(0x2000, 0x2070), 0x3000, 0xFEFF):
        char = chr(codepoint)
        category = unicodedata.category(char)
        if (
            (category[0] in "ZP" or category == "Cf")
            and not _fold_unicode(char)
            and not unicodedata.combining(char)
        ):
            chars.append(re.escape(char))
    return re.compile(f"[{''.join(chars)}]")


_SPACE_LIKE = _space_like()


def fold_words(text: str) -> str:
    """``text`` case-folded and compatibility-normalised (a non-breaking space is a
    space), with every run of punctuation and whitespace turned into one space:
    ``"Follow-up:  DNS"`` gives ``"follow up dns"``."""
    if not text.isascii():
        # Most non-ASCII summaries are ASCII words with a non-breaking space, a curly
        # quote or a dash: those characters become spaces and the text takes the ASCII
        # path (NFKC over the whole text costs ten times as much).
        text = _SPACE_LIKE.sub(" ", text)
        if not text.isascii():
            return _fold_unicode(text)
    # bytes.translate folds case and punctuation in one C pass: the hot path.
    return " ".join(text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split())


def normalise_words(text: str) -> str:
    """Fold ``text`` for vocabulary lookups.

    As :func:`fold_words`, with parenthesised asides and ``(s)`` dropped first:
    ``"Owner(s):"`` and ``"OWNER  (primary)"`` both give ``"owner"``. When dropping
    the parentheses would leave nothing, their content is kept.
    """
    if "(" not in text and "[" not in text:
        return fold_words(text)
    without_asides = fold_words(_PARENTHESISED.sub(" ", text.replace(_PLURAL_OF, "")))
    return without_asides or fold_words(text)


def is_placeholder(text: str) -> bool:
    """Whether a cell's text means "no value" (``-``, ``n/a``, ``TBD``, ``?``...)."""
    return len(text) <= _LONGEST_PLACEHOLDER and normalise_words(text) in _PLACEHOLDERS


def is_action_heading(text: str) -> bool:
    """Whether a section heading announces action items (``Action items``, ``Next steps``)."""
    words = normalise_words(text)
    if words in ACTION_HEADINGS:
        return True
    return any(words.startswith(prefix + " ") for prefix in _ACTION_HEADING_PREFIXES)


def _singular(words: str) -> str:
    """``"action items"`` -> ``"action item"``; words ending in ``ss``/``us`` stay."""
    if len(words) > 3 and words.endswith("s") and not words.endswith(("ss", "us")):
        return words[:-1]
    return words


class HeaderVocabulary:
    """Header names -> field names: the built-in vocabulary plus a caller's ``columns``.

    Build one with :meth:`build` (cached per distinct ``columns``). Names a caller gives
    win over built-in ones, so ``{"notes": ["Description"]}`` turns the ``Description``
    column into an ``extra["notes"]`` column instead of a summary column.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = dict(names)

    @classmethod
    def build(cls, columns: Mapping[str, Sequence[str] | str] | None = None) -> HeaderVocabulary:
        """The vocabulary with ``columns`` (field -> extra header names) added on top.

        Raises:
            TypeError: ``columns`` is not a mapping of field names to header names.
        """
        if not columns:
            return _default_vocabulary()
        return _vocabulary(_freeze_columns(columns))

    def field(self, header: str) -> str | None:
        """The field a header cell's text names, or ``None`` when it names none."""
        words = normalise_words(header)
        if not words:
            return None
        found = self._names.get(words)
        if found is None:
            found = self._names.get(_singular(words))
        return found

    @staticmethod
    def is_action_header(fields: Iterable[str]) -> bool:
        """Whether a header naming ``fields`` makes its table an action-item table."""
        present = set(fields)
        return "summary" in present and bool(present & _QUALIFYING_FIELDS)


def _freeze_columns(
    columns: Mapping[str, Sequence[str] | str],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(columns, Mapping):
        raise TypeError(
            f"columns must map field names to header names, got {type(columns).__name__}"
        )
    frozen = []
    for field, names in columns.items():
        if not isinstance(field, str) or not field.strip():
            raise TypeError(f"columns: field names must be non-empty strings, got {field!r}")
        seq = (names,) if isinstance(names, str) else names
        try:
            items = tuple(seq)
        except TypeError:
            raise TypeError(
                f"columns[{field!r}] must be a header name or a list of header names, "
                f"got {type(names).__name__}"
            ) from None
        for name in items:
            if not isinstance(name, str):
                raise TypeError(f"columns[{field!r}]: header names must be strings, got {name!r}")
        frozen.append((field.strip().casefold(), items))
    return tuple(frozen)


def _names_of(columns: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for field, headers in columns:
        for header in headers:
            words = normalise_words(header)
            if words:
                names[words] = field
    return names


@functools.cache
def _default_vocabulary() -> HeaderVocabulary:
    return HeaderVocabulary(_names_of(DEFAULT_COLUMNS.items()))


@functools.lru_cache(maxsize=64)
def _vocabulary(columns: tuple[tuple[str, tuple[str, ...]], ...]) -> HeaderVocabulary:
    names = _names_of(DEFAULT_COLUMNS.items())
    names.update(_names_of(columns))
    return HeaderVocabulary(names)


# --- statuses ---------------------------------------------------------------------------

_STATUS_WORDS: Mapping[Status, tuple[str, ...]] = {
    Status.DONE: (
        "done",
        "complete",
        "completed",
        "closed",
        "resolved",
        "fixed",
        "finished",
        "shipped",
        "released",
        "deployed",
        "merged",
        "implemented",
        "won t do",
        "won t fix",
        "wont do",
        "wont fix",
        "wontfix",
        "cancelled",
        "canceled",
        "declined",
        "rejected",
        "duplicate",
        "obsolete",
        "abandoned",
    ),
    Status.IN_PROGRESS: (
        "in progress",
        "inprogress",
        "wip",
        "ongoing",
        "on going",
        "started",
        "doing",
        "in review",
        "under review",
        "review",
        "code review",
        "in code review",
        "blocked",
        "on hold",
        "in development",
        "in dev",
        "in qa",
        "qa",
        "in test",
        "in testing",
        "testing",
        "active",
        "at risk",
        "on track",
        "partially done",
        "partial",
        "waiting",
        "waiting for customer",
        "pending review",
    ),
    Status.TODO: (
        "todo",
        "to do",
        "open",
        "not started",
        "new",
        "planned",
        "backlog",
        "incomplete",
        "not done",
        "not complete",
        "not completed",
        "not fixed",
        "selected for development",
        "ready",
        "ready for development",
        "pending",
        "reopened",
        "scheduled",
        "triage",
        "needs triage",
    ),
}

_STATUS_BY_WORDS: Mapping[str, Status] = {
    words: status for status, all_words in _STATUS_WORDS.items() for words in all_words
}
_STATUS_PREFIXES: tuple[str, ...] = tuple(sorted(_STATUS_BY_WORDS, key=len, reverse=True))

_STATUS_SYMBOLS: Mapping[str, Status] = {
    "✅": Status.DONE,
    "✔": Status.DONE,
    "☑": Status.DONE,
    "✓": Status.DONE,
    "🚧": Status.IN_PROGRESS,
}

# Lozenge colours as pmsync writes them: Grey to do, Blue in progress, Green done.
_STATUS_BY_COLOUR: Mapping[str, Status] = {
    "green": Status.DONE,
    "blue": Status.IN_PROGRESS,
    "grey": Status.TODO,
    "gray": Status.TODO,
}


def _coerce_status(value: Status | str) -> Status:
    return value if isinstance(value, Status) else Status(str(value).strip().casefold())


@functools.lru_cache(maxsize=64)
def _extra_statuses(extra: tuple[tuple[str, str], ...]) -> Mapping[str, Status]:
    return {normalise_words(word): _coerce_status(status) for word, status in extra}


def _freeze_extra(extra: Mapping[str, Status | str] | None) -> Mapping[str, Status]:
    if not extra:
        return {}
    try:
        return _extra_statuses(tuple((str(k), str(v)) for k, v in extra.items()))
    except ValueError as exc:
        raise ValueError(f"statuses: {exc}; use todo, in_progress or done") from None


def status_from_text(text: str, extra: Mapping[str, Status | str] | None = None) -> Status | None:
    """The status category a word or phrase names, or ``None`` when it names none.

    Reads page statuses (``Done``, ``WIP``, ``Not started``, ``✅``) and Jira status names
    (``In Review``, ``To Do``, ``Backlog``, ``Won't Do``) alike. Case, punctuation and
    parenthesised asides are ignored, and a known phrase at the start is enough
    (``Done - shipped in 2.3`` is done). ``extra`` maps more words to a status (the
    ``status_map`` configuration) and wins over the built-in words.

    >>> status_from_text("In Review")
    <Status.IN_PROGRESS: 'in_progress'>
    >>> status_from_text("parked", {"parked": "todo"})
    <Status.TODO: 'todo'>
    """
    stripped = text.strip()
    if not stripped:
        return None
    extras = _freeze_extra(extra)
    words = normalise_words(stripped)
    if words in extras:
        return extras[words]
    found = _STATUS_BY_WORDS.get(words)
    if found is not None:
        return found
    if words:
        for phrase, status in extras.items():
            if phrase and words.startswith(phrase + " "):
                return status
        for phrase in _STATUS_PREFIXES:
            if words.startswith(phrase + " "):
                return _STATUS_BY_WORDS[phrase]
    for symbol, status in _STATUS_SYMBOLS.items():
        if stripped.startswith(symbol):
            return status
    return None


def trailing_status(
    text: str, extra: Mapping[str, Status | str] | None = None
) -> tuple[Status | None, str]:
    """Split a trailing status off ``text``: ``"Bug 5554823 TODO"`` -> todo, ``"Bug 5554823"``.

    This is how the Google SRE template writes status inside its ``Bug`` column. Tries
    the last one, two and three words; returns ``(None, text)`` when none is a status.
    """
    words = text.split()
    for take in (3, 2, 1):
        if len(words) < take:
            continue
        status = _exact_status(" ".join(words[-take:]), extra)
        if status is not None:
            return status, " ".join(words[:-take])
    return None, text


def _exact_status(text: str, extra: Mapping[str, Status | str] | None) -> Status | None:
    words = normalise_words(text)
    extras = _freeze_extra(extra)
    return extras.get(words) or _STATUS_BY_WORDS.get(words)


def status_from_lozenge(
    title: str, colour: str | None, extra: Mapping[str, Status | str] | None = None
) -> Status | None:
    """The status a status lozenge shows: its title, else its colour.

    pmsync writes lozenges titled with the Jira status name and coloured by category
    (Grey to do, Blue in progress, Green done), so a lozenge titled with any workflow
    status (``QA``, ``Awaiting deploy``) still reads back as the right category.
    """
    status = status_from_text(title, extra)
    if status is None and colour:
        status = _STATUS_BY_COLOUR.get(colour.strip().casefold())
    return status


# --- priorities -------------------------------------------------------------------------

_PRIORITY_WORDS: Mapping[str, tuple[str, ...]] = {
    "Highest": ("p0", "critical", "crit", "blocker", "highest", "urgent", "showstopper"),
    "High": ("p1", "high", "major"),
    "Medium": ("p2", "medium", "normal", "med", "moderate"),
    "Low": ("p3", "low", "minor"),
    "Lowest": ("p4", "p5", "trivial", "lowest", "nice to have"),
}
_PRIORITY_BY_WORDS: Mapping[str, str] = {
    words: name for name, all_words in _PRIORITY_WORDS.items() for words in all_words
}
_PRIORITY_PREFIXES: tuple[str, ...] = tuple(sorted(_PRIORITY_BY_WORDS, key=len, reverse=True))


@functools.lru_cache(maxsize=64)
def _extra_priorities(extra: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    return {normalise_words(word): name for word, name in extra}


def normalise_priority(text: str, extra: Mapping[str, str] | None = None) -> str | None:
    """A page priority as a Jira priority name.

    ``P0``/``critical``/``blocker``/``highest`` -> ``Highest``, ``P1``/``high`` -> ``High``,
    ``P2``/``medium``/``normal`` -> ``Medium``, ``P3``/``low`` -> ``Low``,
    ``P4``/``trivial``/``lowest`` -> ``Lowest``; a known word at the start is enough
    (``P1 - customer facing``). ``extra`` (the ``priority_map`` configuration) maps more
    page words to Jira names and wins over the built-in words. Anything else is kept
    as written (whitespace collapsed); an empty cell or a placeholder (``-``, ``n/a``)
    gives ``None``.

    >>> normalise_priority("p1")
    'High'
    >>> normalise_priority("Sev 1", {"sev 1": "Highest"})
    'Highest'
    """
    written = " ".join(text.split())
    if is_placeholder(written):
        return None
    words = normalise_words(written)
    if extra:
        extras = _extra_priorities(tuple((str(k), str(v)) for k, v in extra.items()))
        if words in extras:
            return extras[words]
        for phrase, name in extras.items():
            if phrase and words.startswith(phrase + " "):
                return name
    found = _PRIORITY_BY_WORDS.get(words)
    if found is not None:
        return found
    for phrase in _PRIORITY_PREFIXES:
        if words.startswith(phrase + " "):
            return _PRIORITY_BY_WORDS[phrase]
    return written
