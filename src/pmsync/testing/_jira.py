"""The emulated Jira: projects, workflows, issues, properties, comments and their rules.

This is the backend half of the moto-style split: it holds the state and enforces what
Jira enforces (field validation with Jira's messages, workflows, required fields), and it
renders issues in Jira's REST shapes because inspection (``emu.issues()``) needs the same
shapes as the wire. It knows nothing about HTTP requests; ``_jira_http`` does that.

Errors a client can cause raise :class:`JiraError`, which carries Jira's
``errorMessages``/``errors`` body and the status to answer with.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from pmsync.testing._clock import jira_time, now
from pmsync.testing._jql import PRIORITY_IDS, CompiledJql, compile_jql
from pmsync.testing._querylang import ChangedSince
from pmsync.testing._users import Directory, User

__all__ = [
    "CATEGORIES",
    "PRIORITIES",
    "Comment",
    "FieldSpec",
    "Issue",
    "IssueType",
    "JiraBackend",
    "JiraError",
    "Project",
    "StatusDef",
    "adf_to_text",
    "text_to_adf",
]

Flavour = Literal["cloud", "server"]

CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
PRIORITIES: tuple[tuple[str, str], ...] = (
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
)
_PRIORITY_BY_NAME = {name.lower(): (pid, name) for pid, name in PRIORITIES}
_DEFAULT_STATUSES = (
    ("10000", "To Do", "new"),
    ("3", "In Progress", "indeterminate"),
    ("10001", "In Review", "indeterminate"),
    ("10002", "Done", "done"),
)
_FIELD_NAMES = {
    "summary": "Summary",
    "description": "Description",
    "assignee": "Assignee",
    "reporter": "Reporter",
    "duedate": "Due date",
    "priority": "Priority",
    "labels": "Labels",
    "components": "Component/s",
    "issuetype": "Issue Type",
    "project": "Project",
}
SYSTEM_FIELDS = (
    "summary",
    "description",
    "assignee",
    "reporter",
    "creator",
    "duedate",
    "priority",
    "status",
    "labels",
    "components",
    "issuetype",
    "project",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "comment",
)
_SETTABLE_FIELDS = frozenset(
    {
        "summary",
        "description",
        "assignee",
        "reporter",
        "duedate",
        "priority",
        "labels",
        "components",
        "issuetype",
        "project",
    }
)
_NOT_NAVIGABLE = frozenset({"comment"})
_CUSTOM_FIELD_ID = re.compile(r"^customfield_\d+$")
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
_MAX_PROPERTY_BYTES = 32768
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
STRING_REQUIRED = "Operation value must be a string"


class JiraError(Exception):
    """A request Jira would refuse: the HTTP status and Jira's error body."""

    def __init__(
        self,
        status: int,
        error_messages: Sequence[str] = (),
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_messages = list(error_messages)
        self.errors = dict(errors or {})
        super().__init__("; ".join([*self.error_messages, *self.errors.values()]) or str(status))

    def body(self) -> dict[str, Any]:
        """The JSON body Jira sends with this error."""
        return {"errorMessages": self.error_messages, "errors": self.errors}


def _not_found() -> JiraError:
    return JiraError(404, ["Issue does not exist or you do not have permission to see it."])


class _FieldError(Exception):
    """One invalid field value; collected into ``errors[field]``."""


@attrs.frozen
class StatusDef:
    """A workflow status and its category key (``new``, ``indeterminate``, ``done``)."""

    id: str
    name: str
    category: str


@attrs.frozen
class IssueType:
    """An issue type of a project."""

    id: str
    name: str


@attrs.frozen
class Component:
    """A project component."""

    id: str
    name: str


@attrs.define
class Project:
    """A Jira project with its issue types, components, custom fields and workflow."""

    id: str
    key: str
    name: str
    issue_types: list[IssueType]
    components: list[Component]
    custom_fields: dict[str, str]
    required_fields: tuple[str, ...]
    workflow: dict[str, list[str]]
    next_number: int = 1

    @property
    def initial_status(self) -> str:
        """The status new issues start in (the first one of the workflow)."""
        return next(iter(self.workflow))

    def transition_id(self, status: str) -> str:
        """The stable transition id leading to ``status`` (11, 21, 31...)."""
        names = list(self.workflow)
        return str(11 + 10 * names.index(status))

    def issue_type(self, ref: Mapping[str, Any]) -> IssueType | None:
        """The issue type named by ``{"id": ..}`` or ``{"name": ..}``."""
        for it in self.issue_types:
            if str(ref.get("id", "")) == it.id or (
                "name" in ref and str(ref["name"]).lower() == it.name.lower()
            ):
                return it
        return None


@attrs.define
class Comment:
    """A comment on an issue (the body is kept as plain text)."""

    id: str
    body: str
    author: User | None
    created: dt.datetime
    updated: dt.datetime


@attrs.frozen
class Change:
    """One entry of an issue's changelog: who changed which fields when (``expand=changelog``).

    ``items`` holds ``(field, from, to)`` with the values as Jira shows them as strings.
    """

    id: str
    created: dt.datetime
    author: User | None
    items: tuple[tuple[str, str | None, str | None], ...]


# The fields whose edits the changelog records, and how a value shows as a string there.
_LOGGED_FIELDS = ("summary", "duedate", "priority", "assignee")


def _change_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, User):
        return value.display_name
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@attrs.define
class Issue:
    """One issue: its fields as plain Python values, its properties and comments."""

    id: str
    key: str
    project: Project
    issuetype: IssueType
    summary: str
    status: str
    status_category: str
    created: dt.datetime
    updated: dt.datetime
    description: str | None = None
    assignee: User | None = None
    reporter: User | None = None
    duedate: dt.date | None = None
    priority: str | None = "Medium"
    labels: list[str] = attrs.Factory(list)
    components: list[str] = attrs.Factory(list)
    custom: dict[str, Any] = attrs.Factory(dict)
    resolutiondate: dt.datetime | None = None
    properties: dict[str, Any] = attrs.Factory(dict)
    comments: list[Comment] = attrs.Factory(list)
    changelog: list[Change] = attrs.Factory(list)


@attrs.frozen
class FieldSpec:
    """Which fields a response carries: ``fields=`` as Jira reads it."""

    include: frozenset[str] | None  # None: every field
    navigable_only: bool
    exclude: frozenset[str]

    @classmethod
    def parse(cls, values: Iterable[str] | None, default: str) -> FieldSpec:
        """Read ``fields`` values (comma lists, possibly repeated); ``default`` if absent."""
        names = [n.strip() for v in (values or []) for n in str(v).split(",") if n.strip()]
        if not names and default:
            names = [default]
        include: set[str] | None = set()
        navigable_only = False
        exclude: set[str] = set()
        for name in names:
            if name == "*all":
                include = None
            elif name == "*navigable":
                include = None
                navigable_only = True
            elif name.startswith("-"):
                exclude.add(name[1:].lower())
            elif include is not None:
                include.add(name.lower())
        return cls(
            None if include is None else frozenset(include), navigable_only, frozenset(exclude)
        )

    @property
    def empty(self) -> bool:
        """True when no field at all is asked for."""
        return self.include is not None and not self.include

    def wants(self, field: str) -> bool:
        """Whether ``field`` goes into the response."""
        if field in self.exclude:
            return False
        if self.include is None:
            return not (self.navigable_only and field in _NOT_NAVIGABLE)
        return field in self.include


# -- Atlassian Document Format ----------------------------------------------------------


def text_to_adf(text: str) -> dict[str, Any]:
    """A plain-text description as an ADF document: one paragraph per line."""
    content: list[dict[str, Any]] = []
    for line in text.split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            paragraph["content"].append({"type": "text", "text": line})
        content.append(paragraph)
    return {"type": "doc", "version": 1, "content": content}


_ADF_BLOCKS = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow"}
)


def adf_to_text(doc: Mapping[str, Any]) -> str:
    """The text of an ADF document: text nodes joined, one line per block."""
    lines: list[str] = []
    current: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        kind = node.get("type")
        if kind == "text":
            current.append(str(node.get("text", "")))
            return
        if kind == "hardBreak":
            lines.append("".join(current))
            current.clear()
            return
        if kind == "mention":
            current.append(str(node.get("attrs", {}).get("text", "")))
            return
        for child in node.get("content", []) or []:
            walk(child)
        if kind in _ADF_BLOCKS:
            lines.append("".join(current))
            current.clear()

    walk(doc)
    if current:
        lines.append("".join(current))
    return "\n".join(lines)


def _is_adf(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def _text_value(value: Any, api_version: int) -> str:
    """A rich-text field value (description, comment body) as plain text."""
    if api_version >= 3:
        if not _is_adf(value):
            raise _FieldError(ADF_REQUIRED)
        return adf_to_text(value)
    if not isinstance(value, str):
        raise _FieldError(STRING_REQUIRED)
    return value


class JiraBackend:
    """The state and rules of one emulated Jira site. Thread-safe."""

    def __init__(self, lock: threading.RLock, directory: Directory, flavour: Flavour) -> None:
        self._lock = lock
        self.directory = directory
        self.flavour: Flavour = flavour
        #: ``key.path`` strings JQL may search, or ``None`` for every property.
        self.indexed_properties: frozenset[str] | None = None
        #: Seconds before a created or edited issue shows in JQL search as it now is.
        self.search_lag: float = 0.0
        # What search still sees of recently written issues: key -> (the issue as it was
        # before the write, None for a new one; when the index catches up).
        self._index_lag: dict[str, tuple[Issue | None, dt.datetime]] = {}
        self._projects: dict[str, Project] = {}
        self._issues: dict[str, Issue] = {}
        self._changed = ChangedSince()  # issue keys by the time of their updates
        self._statuses: dict[str, StatusDef] = {}
        self._next_issue_id = 10000
        self._next_comment_id = 10000
        self._next_project_id = 10000
        self._next_status_id = 10100
        self._next_component_id = 10000
        self.reset()

    def reset(self) -> None:
        """Forget every project and issue."""
        with self._lock:
            self._projects.clear()
            self._issues.clear()
            self._index_lag.clear()
            self._changed.clear()
            self._statuses = {
                name.lower(): StatusDef(sid, name, cat) for sid, name, cat in _DEFAULT_STATUSES
            }
            self._next_issue_id = 10000
            self._next_comment_id = 10000
            self._next_project_id = 10000
            self._next_status_id = 10100
            self._next_component_id = 10000

    # -- projects and statuses -----------------------------------------------------------

    def add_project(
        self,
        key: str,
        name: str | None = None,
        issue_types: Sequence[str] = ("Task",),
        *,
        required_fields: Sequence[str] = (),
        components: Sequence[str] = (),
        custom_fields: Mapping[str, str] | Sequence[str] = (),
        workflow: Mapping[str, Sequence[str]] | None = None,
        status_categories: Mapping[str, str] | None = None,
    ) -> Project:
        """Create a project; raise ValueError for anything Jira would not allow."""
        if not _PROJECT_KEY.match(key):
            raise ValueError(
                f"project key {key!r} must be 1-10 upper-case letters, digits or underscores, "
                "starting with a letter"
            )
        if not issue_types:
            raise ValueError(f"project {key} needs at least one issue type")
        customs = (
            dict(custom_fields)
            if isinstance(custom_fields, Mapping)
            else {f: f"Custom field {f.rsplit('_', 1)[-1]}" for f in custom_fields}
        )
        for field in required_fields:
            if _CUSTOM_FIELD_ID.match(field):
                customs.setdefault(field, f"Custom field {field.rsplit('_', 1)[-1]}")
            elif field not in _FIELD_NAMES:
                raise ValueError(f"required field {field!r} of project {key} is not a known field")
        for field in customs:
            if not _CUSTOM_FIELD_ID.match(field):
                raise ValueError(f"custom field id {field!r} must look like customfield_10010")
        with self._lock:
            if key in self._projects:
                raise ValueError(f"project {key} already exists")
            flow = self._build_workflow(key, workflow, status_categories or {})
            self._next_project_id += 1
            type_ids = {"task": "10001", "bug": "10004", "story": "10002", "epic": "10000"}
            types = [
                IssueType(type_ids.get(t.lower(), str(10010 + i)), t)
                for i, t in enumerate(issue_types)
            ]
            comps = []
            for comp in components:
                self._next_component_id += 1
                comps.append(Component(str(self._next_component_id), comp))
            project = Project(
                id=str(self._next_project_id),
                key=key,
                name=name or key.title(),
                issue_types=types,
                components=comps,
                custom_fields=customs,
                required_fields=tuple(required_fields),
                workflow=flow,
            )
            self._projects[key] = project
            return project

    def _build_workflow(
        self,
        key: str,
        workflow: Mapping[str, Sequence[str]] | None,
        categories: Mapping[str, str],
    ) -> dict[str, list[str]]:
        for status, category in categories.items():
            if category not in CATEGORIES:
                raise ValueError(
                    f"status {status!r}: category must be one of {', '.join(CATEGORIES)}"
                )
            existing = self._statuses.get(status.lower())
            if existing is None:
                self._next_status_id += 1
                self._statuses[status.lower()] = StatusDef(
                    str(self._next_status_id), status, category
                )
            elif existing.category != category:
                raise ValueError(
                    f"status {status!r} already exists in category {existing.category}"
                )
        if workflow is None:
            names = [
                s.name for s in self._statuses.values() if s.id in {"10000", "3", "10001", "10002"}
            ]
            return {n: [m for m in names if m != n] for n in names}
        flow: dict[str, list[str]] = {}
        for status, targets in workflow.items():
            for name in (status, *targets):
                if name.lower() not in self._statuses:
                    raise ValueError(
                        f"workflow of {key}: unknown status {name!r}; give its category in "
                        "status_categories"
                    )
            flow[self._statuses[status.lower()].name] = [
                self._statuses[t.lower()].name for t in targets
            ]
        for targets in flow.values():
            for target in targets:
                if target not in flow:
                    raise ValueError(
                        f"workflow of {key}: status {target!r} is reachable but not listed"
                    )
        if not flow:
            raise ValueError(f"workflow of {key} needs at least one status")
        return flow

    def project(self, ref: str) -> Project | None:
        """The project with this key or id (case-insensitive key)."""
        with self._lock:
            for project in self._projects.values():
                if ref.upper() == project.key or ref == project.id:
                    return project
        return None

    def projects(self) -> list[Project]:
        """Every project."""
        with self._lock:
            return list(self._projects.values())

    def status(self, name: str) -> StatusDef:
        """The status called ``name``."""
        with self._lock:
            return self._statuses[name.lower()]

    def statuses(self) -> list[StatusDef]:
        """Every status of the site."""
        with self._lock:
            return list(self._statuses.values())

    # -- lookups ---------------------------------------------------------------------------

    def issue(self, ref: str) -> Issue:
        """The issue with this key or id; raise a 404 JiraError if there is none."""
        with self._lock:
            found = self._issues.get(ref.upper())
            if found is None and ref.isdigit():
                found = next((i for i in self._issues.values() if i.id == ref), None)
            if found is None:
                raise _not_found()
            return found

    def issues(self, project: str | None = None) -> list[Issue]:
        """Every issue (of one project), in creation order."""
        with self._lock:
            return [
                i
                for i in self._issues.values()
                if project is None or i.project.key == project.upper()
            ]

    def user_from_ref(self, ref: Any) -> User | None:
        """The user a REST user reference (``{"accountId"}`` or ``{"name"}``) names.

        ``None`` (or an empty reference) means nobody; an unknown user raises _FieldError.
        """
        if ref is None:
            return None
        if not isinstance(ref, Mapping):
            raise _FieldError("data was not an object")
        if self.flavour == "cloud":
            if "name" in ref or "key" in ref:
                raise _FieldError(
                    "'accountId' must be the only user identifying query parameter in GDPR "
                    "strict mode."
                )
            account_id = ref.get("accountId", ref.get("id"))
            if account_id in (None, "", "-1"):
                return None
            user = self.directory.by_account_id(str(account_id))
            if user is None:
                raise _FieldError(
                    "Specified user does not exist or you do not have required permissions"
                )
            return user
        if "name" in ref:
            if ref["name"] in (None, "", "-1"):
                return None
            user = self.directory.by_username(str(ref["name"]))
            if user is None:
                raise _FieldError(f"User '{ref['name']}' does not exist.")
            return user
        if "key" in ref:
            if ref["key"] in (None, ""):
                return None
            user = self.directory.by_user_key(str(ref["key"]))
            if user is None:
                raise _FieldError(f"User with key '{ref['key']}' does not exist.")
            return user
        if not ref:
            return None
        raise _FieldError("Users must be identified by 'name' or 'key'.")

    # -- field conversion ------------------------------------------------------------------

    def _convert(self, project: Project, field: str, raw: Any, api_version: int) -> Any:
        """A REST field value as the internal value; raise _FieldError like Jira."""
        if field == "summary":
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise _FieldError("You must specify a summary of the issue.")
            if not isinstance(raw, str):
                raise _FieldError(STRING_REQUIRED)
            if "\n" in raw or "\r" in raw:
                raise _FieldError("The summary is invalid because it contains newline characters.")
            if len(raw) > 255:
                raise _FieldError("Summary must be less than 255 characters.")
            return raw
        if field == "description":
            return None if raw is None else _text_value(raw, api_version)
        if field in ("assignee", "reporter"):
            return self.user_from_ref(raw)
        if field == "duedate":
            if raw in (None, ""):
                return None
            try:
                return dt.date.fromisoformat(str(raw))
            except ValueError:
                raise _FieldError(f"Error parsing date string: {raw}") from None
        if field == "priority":
            if raw is None:
                return None
            if not isinstance(raw, Mapping):
                raise _FieldError("data was not an object")
            if "id" in raw:
                name = PRIORITY_IDS.get(str(raw["id"]))
                if name is None:
                    raise _FieldError("The priority selected is invalid.")
                return _PRIORITY_BY_NAME[name][1]
            found = _PRIORITY_BY_NAME.get(str(raw.get("name", "")).lower())
            if found is None:
                raise _FieldError(f"Priority name '{raw.get('name')}' is not valid")
            return found[1]
        if field == "labels":
            if raw is None:
                return []
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                raise _FieldError("data was not an array")
            for label in raw:
                _check_label(label)
            return list(dict.fromkeys(raw))
        if field == "components":
            if raw is None:
                return []
            if not isinstance(raw, list):
                raise _FieldError("data was not an array")
            return list(dict.fromkeys(self._component(project, ref) for ref in raw))
        raise _FieldError(
            f"Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
        )

    def _component(self, project: Project, ref: Any) -> str:
        if not isinstance(ref, Mapping):
            raise _FieldError("data was not an object")
        for comp in project.components:
            if str(ref.get("id", "")) == comp.id or ref.get("name") == comp.name:
                return comp.name
        if "id" in ref:
            raise _FieldError(f"Component with id '{ref['id']}' does not exist.")
        raise _FieldError(f"Component name '{ref.get('name')}' is not valid")

    def _fields_to_values(
        self, project: Project, fields: Mapping[str, Any], api_version: int, errors: dict[str, str]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field, raw in fields.items():
            if field in ("project", "issuetype"):
                continue
            try:
                if _CUSTOM_FIELD_ID.match(field):
                    if field not in project.custom_fields:
                        raise _FieldError(
                            f"Field '{field}' cannot be set. It is not on the appropriate "
                            "screen, or unknown."
                        )
                    values[field] = raw
                elif field not in _SETTABLE_FIELDS:
                    raise _FieldError(
                        f"Field '{field}' cannot be set. It is not on the appropriate screen, "
                        "or unknown."
                    )
                else:
                    values[field] = self._convert(project, field, raw, api_version)
            except _FieldError as exc:
                errors[field] = str(exc)
        return values

    @staticmethod
    def _required_errors(
        project: Project, values: Mapping[str, Any], errors: dict[str, str]
    ) -> None:
        for field in project.required_fields:
            if field in errors:
                continue
            value = values.get(field)
            if value is None or value in ([], ""):
                name = _FIELD_NAMES.get(field) or project.custom_fields.get(field, field)
                errors[field] = f"{name} is required."

    # -- create ----------------------------------------------------------------------------

    def create_issue(self, update: Any, *, api_version: int, actor: User | None) -> Issue:
        """Create an issue from a REST ``IssueUpdateDetails``; raise JiraError if invalid."""
        with self._lock:
            project, values, properties = self._validate_create(update, api_version)
            return self._insert(project, values, properties, actor)

    def bulk_create(
        self, body: Any, *, api_version: int, actor: User | None
    ) -> tuple[list[Issue], list[dict[str, Any]]]:
        """Create each element of ``issueUpdates``; return the issues and per-element errors."""
        if not isinstance(body, Mapping) or not isinstance(body.get("issueUpdates"), list):
            raise JiraError(400, ["Request body must contain an 'issueUpdates' array."])
        updates = body["issueUpdates"]
        if len(updates) > 50:
            raise JiraError(
                400, [f"You can create at most 50 issues in one request, not {len(updates)}."]
            )
        created: list[Issue] = []
        failures: list[dict[str, Any]] = []
        with self._lock:
            for index, update in enumerate(updates):
                try:
                    project, values, properties = self._validate_create(update, api_version)
                except JiraError as exc:
                    failures.append(
                        {
                            "status": exc.status,
                            "elementErrors": exc.body(),
                            "failedElementNumber": index,
                        }
                    )
                    continue
                created.append(self._insert(project, values, properties, actor))
        return created, failures

    def _validate_create(
        self, update: Any, api_version: int
    ) -> tuple[Project, dict[str, Any], dict[str, Any]]:
        if not isinstance(update, Mapping) or not isinstance(update.get("fields"), Mapping):
            raise JiraError(400, ["Issue fields are required."])
        fields: Mapping[str, Any] = update["fields"]
        errors: dict[str, str] = {}
        project = self._project_ref(fields.get("project"))
        if project is None:
            raise JiraError(400, errors={"project": "Specify a valid project ID or key"})
        issuetype_ref = fields.get("issuetype")
        issuetype = None
        if not isinstance(issuetype_ref, Mapping) or not issuetype_ref:
            errors["issuetype"] = "Specify an issue type"
        else:
            issuetype = project.issue_type(issuetype_ref)
            if issuetype is None:
                errors["issuetype"] = "The issue type selected is invalid."
        values = self._fields_to_values(project, fields, api_version, errors)
        if "summary" not in fields and "summary" not in errors:
            errors["summary"] = "You must specify a summary of the issue."
        values.update(self._update_ops(project, update.get("update"), fields, api_version, errors))
        self._required_errors(project, values, errors)
        properties = _properties_list(update.get("properties"), errors)
        if errors:
            raise JiraError(400, errors=errors)
        assert issuetype is not None
        values["issuetype"] = issuetype
        return project, values, properties

    def _project_ref(self, ref: Any) -> Project | None:
        if not isinstance(ref, Mapping):
            return None
        for project in self._projects.values():
            if (
                str(ref.get("id", "")) == project.id
                or str(ref.get("key", "")).upper() == project.key
            ):
                return project
        return None

    def _insert(
        self,
        project: Project,
        values: dict[str, Any],
        properties: dict[str, Any],
        actor: User | None,
    ) -> Issue:
        self._next_issue_id += 1
        moment = now()
        status = self._statuses[project.initial_status.lower()]
        comments = values.pop("comment", [])
        issue = Issue(
            id=str(self._next_issue_id),
            key=f"{project.key}-{project.next_number}",
            project=project,
            issuetype=values.pop("issuetype"),
            summary=values.pop("summary"),
            status=status.name,
            status_category=status.category,
            created=moment,
            updated=moment,
            reporter=actor,
        )
        project.next_number += 1
        self._written(issue.key, None)
        self._assign_values(issue, values)
        for body in comments:
            self._append_comment(issue, body, actor)
        if status.category == "done":
            issue.resolutiondate = moment
        issue.properties.update(properties)
        self._issues[issue.key] = issue
        self._changed.touch(issue.key, moment)
        return issue

    @staticmethod
    def _assign_values(issue: Issue, values: Mapping[str, Any]) -> None:
        for field, value in values.items():
            if _CUSTOM_FIELD_ID.match(field):
                if value is None:
                    issue.custom.pop(field, None)
                else:
                    issue.custom[field] = value
            else:
                setattr(issue, field, value)

    # -- edit ------------------------------------------------------------------------------

    def edit_issue(self, ref: str, body: Any, *, api_version: int, actor: User | None) -> Issue:
        """Apply a REST edit (``fields`` and ``update``); all or nothing."""
        with self._lock:
            issue = self.issue(ref)
            self._written(issue.key, issue)
            if not isinstance(body, Mapping):
                raise JiraError(400, ["Can not deserialize the request body."])
            fields = body.get("fields") or {}
            if not isinstance(fields, Mapping):
                raise JiraError(400, ["Can not deserialize the 'fields' object."])
            errors: dict[str, str] = {}
            project = issue.project
            if "project" in fields:
                errors["project"] = (
                    "Field 'project' cannot be set. It is not on the appropriate screen, or "
                    "unknown."
                )
            values = self._fields_to_values(project, fields, api_version, errors)
            if "issuetype" in fields:
                it = project.issue_type(fields["issuetype"] or {})
                if it is None:
                    errors["issuetype"] = "The issue type selected is invalid."
                else:
                    values["issuetype"] = it
            ops = self._update_ops(
                project, body.get("update"), fields, api_version, errors, issue=issue
            )
            values.update(ops)
            merged = {f: values.get(f, getattr(issue, f, None)) for f in _FIELD_NAMES}
            merged.update({f: values.get(f, issue.custom.get(f)) for f in project.custom_fields})
            self._required_errors(project, merged, errors)
            properties = _properties_list(body.get("properties"), errors)
            if errors:
                raise JiraError(400, errors=errors)
            comments = values.pop("comment", [])
            changed = tuple(
                (field, _change_string(getattr(issue, field)), _change_string(values[field]))
                for field in _LOGGED_FIELDS
                if field in values and values[field] != getattr(issue, field)
            )
            self._assign_values(issue, values)
            for text in comments:
                self._append_comment(issue, text, actor)
            issue.properties.update(properties)
            if values or comments:
                self._stamp(issue, now())
            if changed:
                self._log_change(issue, actor, changed)
            return issue

    @staticmethod
    def _log_change(
        issue: Issue, actor: User | None, items: tuple[tuple[str, str | None, str | None], ...]
    ) -> None:
        number = str(10000 + len(issue.changelog))
        issue.changelog.append(Change(number, issue.updated, actor, items))

    def _update_ops(
        self,
        project: Project,
        update: Any,
        fields: Mapping[str, Any],
        api_version: int,
        errors: dict[str, str],
        *,
        issue: Issue | None = None,
    ) -> dict[str, Any]:
        """Apply Jira's ``update`` verbs (set/add/remove) to copies of the current values."""
        if not update:
            return {}
        if not isinstance(update, Mapping):
            raise JiraError(400, ["Can not deserialize the 'update' object."])
        values: dict[str, Any] = {}
        for field, operations in update.items():
            if field in fields:
                errors[field] = (
                    f"Field '{field}' cannot be set in both the 'fields' and 'update' sections."
                )
                continue
            if not isinstance(operations, list):
                errors[field] = "data was not an array"
                continue
            try:
                if field in ("labels", "components"):
                    current = list(getattr(issue, field)) if issue else []
                    for operation in operations:
                        current = self._list_op(project, field, operation, current)
                    values[field] = current
                elif field == "comment":
                    bodies = []
                    for operation in operations:
                        add = operation.get("add") if isinstance(operation, Mapping) else None
                        if not isinstance(add, Mapping) or "body" not in add:
                            raise _FieldError("Comment operations must be 'add' with a body.")
                        text = _text_value(add["body"], api_version)
                        if not text.strip():
                            raise _FieldError("Comment body can not be empty!")
                        bodies.append(text)
                    values["comment"] = bodies
                else:
                    for operation in operations:
                        if not isinstance(operation, Mapping) or set(operation) != {"set"}:
                            raise _FieldError(
                                f"Field '{field}' only supports the 'set' operation here."
                            )
                        values.update(
                            self._fields_to_values(
                                project, {field: operation["set"]}, api_version, errors
                            )
                        )
            except _FieldError as exc:
                errors[field] = str(exc)
        return values

    def _list_op(
        self, project: Project, field: str, operation: Any, current: list[str]
    ) -> list[str]:
        if not isinstance(operation, Mapping) or len(operation) != 1:
            raise _FieldError(f"Operations on '{field}' must be one of set, add or remove.")
        verb, arg = next(iter(operation.items()))
        if verb == "set":
            result: list[str] = self._convert(project, field, arg, 2)
            return result
        if field == "labels":
            if not isinstance(arg, str):
                raise _FieldError("data was not a string")
            _check_label(arg)
            item = arg
        else:
            item = self._component(project, arg)
        if verb == "add":
            return current if item in current else [*current, item]
        if verb == "remove":
            return [x for x in current if x != item]
        raise _FieldError(f"Operation '{verb}' is not supported on '{field}'.")

    def delete_issue(self, ref: str) -> None:
        """Delete an issue for good (its key is never reused)."""
        with self._lock:
            issue = self.issue(ref)
            del self._issues[issue.key]

    def assign(self, ref: str, body: Any) -> None:
        """``PUT /issue/{key}/assignee``: set or clear the assignee."""
        with self._lock:
            issue = self.issue(ref)
            self._written(issue.key, issue)
            if body is not None and not isinstance(body, Mapping):
                raise JiraError(400, ["Can not deserialize the request body."])
            try:
                user = self.user_from_ref(body)
            except _FieldError as exc:
                raise JiraError(400, errors={"assignee": str(exc)}) from None
            issue.assignee = user
            self._stamp(issue, now())

    # -- workflow --------------------------------------------------------------------------

    def transitions(self, ref: str) -> list[tuple[str, StatusDef]]:
        """The transitions available from the issue's status: ``(id, target)``."""
        with self._lock:
            issue = self.issue(ref)
            project = issue.project
            return [
                (project.transition_id(target), self._statuses[target.lower()])
                for target in project.workflow.get(issue.status, [])
                if target != issue.status
            ]

    def transitions_json(self, issue: Issue, base_url: str) -> list[dict[str, Any]]:
        """The transitions available from the issue's status, as Jira lists them."""
        return [
            {
                "id": tid,
                "name": target.name,
                "to": self.status_json(target, base_url),
                "hasScreen": False,
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            for tid, target in self.transitions(issue.key)
        ]

    def transition(self, ref: str, body: Any) -> Issue:
        """``POST /issue/{key}/transitions``; ids may be int or str."""
        with self._lock:
            issue = self.issue(ref)
            if not isinstance(body, Mapping):
                raise JiraError(400, ["Can not deserialize the request body."])
            transition = body.get("transition")
            tid = transition.get("id") if isinstance(transition, Mapping) else None
            if tid is None or tid == "":
                raise JiraError(400, ["Missing 'transition' identifier"])
            for key in ("fields", "update"):
                extra = body.get(key)
                if extra:
                    if not isinstance(extra, Mapping):
                        raise JiraError(400, [f"Can not deserialize the '{key}' object."])
                    raise JiraError(
                        400,
                        errors={
                            f: f"Field '{f}' cannot be set. It is not on the appropriate "
                            "screen, or unknown."
                            for f in extra
                        },
                    )
            # Like create and edit, a transition takes entity properties, set with the
            # move or not at all.
            errors: dict[str, str] = {}
            properties = _properties_list(body.get("properties"), errors)
            if errors:
                raise JiraError(400, errors=errors)
            for candidate, target in self.transitions(issue.key):
                if candidate == str(tid).strip():
                    self._move(issue, target)
                    issue.properties.update(properties)
                    return issue
            raise JiraError(400, [f"Transition id '{tid}' is not valid for this issue."])

    def _move(self, issue: Issue, target: StatusDef) -> None:
        self._written(issue.key, issue)
        moment = now()
        was_done = issue.status_category == "done"
        before = issue.status
        issue.status = target.name
        issue.status_category = target.category
        if target.category == "done" and not was_done:
            issue.resolutiondate = moment
        elif target.category != "done":
            issue.resolutiondate = None
        self._stamp(issue, moment)
        if before != target.name:
            self._log_change(issue, None, (("status", before, target.name),))

    # -- properties ------------------------------------------------------------------------

    def set_property(self, ref: str, key: str, value: Any) -> bool:
        """Set an entity property; return True if it was created, False if updated."""
        with self._lock:
            issue = self.issue(ref)
            _check_property(key, value)
            self._written(issue.key, issue)
            created = key not in issue.properties
            issue.properties[key] = json.loads(json.dumps(value))
            return created

    def get_property(self, ref: str, key: str) -> Any:
        """An entity property's value; 404 JiraError if unset."""
        with self._lock:
            issue = self.issue(ref)
            if key not in issue.properties:
                raise JiraError(404, [f"The property with key '{key}' does not exist."])
            return json.loads(json.dumps(issue.properties[key]))

    def delete_property(self, ref: str, key: str) -> None:
        """Remove an entity property; 404 JiraError if unset."""
        with self._lock:
            issue = self.issue(ref)
            if key not in issue.properties:
                raise JiraError(404, [f"The property with key '{key}' does not exist."])
            self._written(issue.key, issue)
            del issue.properties[key]

    # -- comments --------------------------------------------------------------------------

    def add_comment(self, ref: str, body: Any, *, api_version: int, actor: User | None) -> Comment:
        """``POST /issue/{key}/comment``."""
        with self._lock:
            issue = self.issue(ref)
            if not isinstance(body, Mapping) or "body" not in body:
                raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
            try:
                text = _text_value(body["body"], api_version)
            except _FieldError as exc:
                raise JiraError(400, errors={"comment": str(exc)}) from None
            if not text.strip():
                raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
            self._written(issue.key, issue)
            comment = self._append_comment(issue, text, actor)
            self._stamp(issue, comment.created)
            return comment

    def _append_comment(self, issue: Issue, text: str, actor: User | None) -> Comment:
        self._next_comment_id += 1
        moment = now()
        comment = Comment(str(self._next_comment_id), text, actor, moment, moment)
        issue.comments.append(comment)
        return comment

    # -- search ----------------------------------------------------------------------------

    def _stamp(self, issue: Issue, moment: dt.datetime) -> None:
        """Set the issue's ``updated`` (what ``updated >=`` searches find it by)."""
        issue.updated = moment
        self._changed.touch(issue.key, moment)

    def _written(self, key: str, before: Issue | None) -> None:
        """Note a write to an issue: search shows ``before`` until the lag has passed."""
        if self.search_lag <= 0:
            return
        until = now() + dt.timedelta(seconds=self.search_lag)
        pending = self._index_lag.get(key)
        if pending is not None and pending[1] > now():
            self._index_lag[key] = (pending[0], until)  # the index has not caught up yet
        else:
            self._index_lag[key] = (None if before is None else _snapshot(before), until)

    def _as_indexed(self, issue: Issue, reconcile: Collection[str]) -> Issue | None:
        """The issue as search sees it now (``None``: not in the index yet)."""
        pending = self._index_lag.get(issue.key)
        if pending is None or issue.id in reconcile:
            return issue
        if pending[1] <= now():
            del self._index_lag[issue.key]
            return issue
        return pending[0]

    def search(
        self, jql: str, *, current_user: User | None, reconcile: Collection[str] = ()
    ) -> tuple[CompiledJql, list[Issue]]:
        """Run ``jql``; return the compiled query and the matching issues in order.

        With a :attr:`search_lag`, recently written issues are matched as the index
        last saw them (a new one not at all), unless their id is in ``reconcile``
        (Jira Cloud's ``reconcileIssues``). The issues returned are always current.
        """
        with self._lock:
            compiled = compile_jql(jql, self, current_user=current_user)
            pool: Iterable[Issue] = self._issues.values()
            if compiled.since is not None:  # a date range: only the issues updated since
                changed = (self._issues.get(k) for k in self._changed.since(compiled.since))
                pool = [issue for issue in changed if issue is not None]
            matching = []
            for issue in pool:
                seen = self._as_indexed(issue, reconcile)
                if seen is not None and compiled.matches(seen):
                    matching.append(issue)
            return compiled, compiled.sort(matching)

    # JqlScope
    def jql_project_ids(self, value: str) -> set[str]:
        """Ids of projects whose key, name or id is ``value``."""
        lowered = value.strip().lower()
        return {
            p.id
            for p in self._projects.values()
            if lowered in (p.key.lower(), p.name.lower(), p.id)
        }

    def jql_status_names(self, value: str) -> set[str]:
        """Lower-cased names of statuses named or numbered ``value``."""
        lowered = value.strip().lower()
        return {
            s.name.lower() for s in self._statuses.values() if lowered in (s.name.lower(), s.id)
        }

    def jql_user(self, value: str) -> User | None:
        """A user named in JQL: account id or email on Cloud; username, key or email on Server."""
        text = value.strip()
        if self.flavour == "cloud":
            return self.directory.by_account_id(text) or self.directory.by_email(text)
        return (
            self.directory.by_username(text)
            or self.directory.by_user_key(text)
            or self.directory.by_email(text)
        )

    def jql_issue_exists(self, key: str) -> bool:
        """Whether an issue with this key exists."""
        return key.upper() in self._issues

    def jql_issue_type_names(self, value: str) -> set[str]:
        """Lower-cased names of issue types named or numbered ``value``."""
        lowered = value.strip().lower()
        return {
            it.name.lower()
            for p in self._projects.values()
            for it in p.issue_types
            if lowered in (it.name.lower(), it.id)
        }

    def jql_component_names(self, value: str) -> set[str]:
        """Lower-cased names of components called or numbered ``value``."""
        lowered = value.strip().lower()
        return {
            c.name.lower()
            for p in self._projects.values()
            for c in p.components
            if lowered in (c.name.lower(), c.id)
        }

    def jql_custom_field(self, field_id: str) -> bool:
        """Whether some project declares ``field_id``."""
        return any(field_id in p.custom_fields for p in self._projects.values())

    def jql_property_indexed(self, key: str, path: str | None) -> bool:
        """Whether JQL may search ``issue.property[key].path``.

        ``indexed_properties`` is ``None`` (everything is searchable, the default) or the
        set of ``key.path`` strings an app has declared for indexing, as real Jira needs.
        """
        if self.indexed_properties is None:
            return True
        return (f"{key}.{path}" if path else key) in self.indexed_properties

    # -- what humans do ------------------------------------------------------------------

    def human_create(
        self,
        project_key: str,
        *,
        summary: str,
        description: str | None,
        assignee: str | None,
        reporter: str | None,
        duedate: str | dt.date | None,
        priority: str | None,
        status: str,
        labels: Sequence[str],
        properties: Mapping[str, Any] | None,
        components: Sequence[str],
        created: dt.datetime | None,
        issuetype: str | None,
    ) -> Issue:
        """Create an issue as a person would in the UI; raise ValueError if invalid."""
        with self._lock:
            project = self.project(project_key)
            if project is None:
                raise ValueError(f"no project {project_key!r}; add it with add_project() first")
            fields: dict[str, Any] = {
                "project": {"key": project.key},
                "issuetype": {"name": issuetype or project.issue_types[0].name},
                "summary": summary,
                "labels": list(labels),
            }
            fields.update(
                self._human_fields(
                    description=description,
                    assignee=assignee,
                    reporter=reporter,
                    duedate=duedate,
                    priority=priority,
                    components=components,
                )
            )
            update = {
                "fields": fields,
                "properties": [{"key": k, "value": v} for k, v in (properties or {}).items()],
            }
            try:
                project, values, props = self._validate_create(update, 2)
            except JiraError as exc:
                raise ValueError(f"cannot add issue to {project_key}: {exc}") from None
            actor = values.get("reporter")
            issue = self._insert(project, values, props, actor)
            if created is not None:
                issue.created = created.astimezone(dt.UTC)
                self._stamp(issue, issue.created)
            if status != issue.status:
                self._human_move(issue, status)
            # Seeded issues stand for the site's past: search has already indexed them.
            self._index_lag.pop(issue.key, None)
            return issue

    def _human_fields(self, **given: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if given.get("description") is not None:
            fields["description"] = given["description"]
        for role in ("assignee", "reporter"):
            if given.get(role) is not None:
                fields[role] = self._human_user_ref(given[role])
        if given.get("duedate") is not None:
            fields["duedate"] = str(given["duedate"])
        if given.get("priority") is not None:
            fields["priority"] = {"name": given["priority"]}
        if given.get("components"):
            fields["components"] = [{"name": c} for c in given["components"]]
        return fields

    def _human_user_ref(self, ident: str) -> dict[str, str]:
        user = (
            self.directory.by_account_id(ident)
            or self.directory.by_username(ident)
            or self.directory.by_user_key(ident)
            or self.directory.by_email(ident)
        )
        if user is None:
            raise ValueError(f"no user {ident!r}; add it with add_user() first")
        return (
            {"accountId": user.account_id} if self.flavour == "cloud" else {"name": user.username}
        )

    def human_edit(self, ref: str, fields: Mapping[str, Any]) -> Issue:
        """Edit fields as a person would: plain values (priority name, user id, ...)."""
        allowed = {
            "summary",
            "description",
            "assignee",
            "duedate",
            "priority",
            "labels",
            "components",
        }
        unknown = set(fields) - allowed - {f for f in fields if _CUSTOM_FIELD_ID.match(f)}
        if unknown:
            raise ValueError(f"edit_issue cannot set {', '.join(sorted(unknown))}")
        rest: dict[str, Any] = {}
        for field, value in fields.items():
            if field == "assignee":
                rest[field] = None if value is None else self._human_user_ref(value)
            elif field == "priority":
                rest[field] = None if value is None else {"name": value}
            elif field == "duedate":
                rest[field] = None if value is None else str(value)
            elif field == "components":
                rest[field] = [{"name": c} for c in value]
            elif field == "labels":
                rest[field] = list(value)
            else:
                rest[field] = value
        try:
            return self.edit_issue(ref, {"fields": rest}, api_version=2, actor=None)
        except JiraError as exc:
            raise ValueError(f"cannot edit {ref}: {exc}") from None

    def human_transition(self, ref: str, status: str) -> Issue:
        """Move the issue to ``status`` directly (a person may click through several steps)."""
        with self._lock:
            try:
                issue = self.issue(ref)
            except JiraError:
                raise ValueError(f"no issue {ref!r}") from None
            self._human_move(issue, status)
            return issue

    def _human_move(self, issue: Issue, status: str) -> None:
        names = {n.lower(): n for n in issue.project.workflow}
        if status.lower() not in names:
            raise ValueError(
                f"status {status!r} is not in the workflow of {issue.project.key} "
                f"({', '.join(issue.project.workflow)})"
            )
        self._move(issue, self._statuses[status.lower()])

    def human_set_property(self, ref: str, key: str, value: Any) -> None:
        """Set an entity property directly."""
        try:
            self.set_property(ref, key, value)
        except JiraError as exc:
            raise ValueError(f"cannot set property {key!r} on {ref}: {exc}") from None

    # -- rendering -------------------------------------------------------------------------

    def user_json(self, user: User | None, base_url: str) -> dict[str, Any] | None:
        """A user as Jira's REST API shows it in this flavour."""
        if user is None:
            return None
        avatars = {
            size: f"{base_url}/secure/useravatar?size={name}&avatarId=10122"
            for size, name in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"))
        }
        if self.flavour == "cloud":
            data: dict[str, Any] = {
                "self": f"{base_url}/rest/api/2/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "accountType": "atlassian",
            }
        else:
            data = {
                "self": f"{base_url}/rest/api/2/user?username={user.username}",
                "key": user.user_key,
                "name": user.username,
            }
        if user.email:
            data["emailAddress"] = user.email
        data.update(
            {
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": True,
                "timeZone": "Etc/UTC",
            }
        )
        if self.flavour == "cloud":
            data["locale"] = "en_US"
        return data

    def status_json(self, status: StatusDef, base_url: str) -> dict[str, Any]:
        """A status with its category."""
        category = CATEGORIES[status.category]
        return {
            "self": f"{base_url}/rest/api/2/status/{status.id}",
            "description": "",
            "iconUrl": f"{base_url}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{base_url}/rest/api/2/statuscategory/{category['id']}",
                **category,
            },
        }

    def project_json(
        self, project: Project, base_url: str, *, full: bool = False
    ) -> dict[str, Any]:
        """A project reference (or the full project for ``GET /project/{key}``)."""
        data: dict[str, Any] = {
            "self": f"{base_url}/rest/api/2/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": {"48x48": f"{base_url}/secure/projectavatar?avatarId=10324"},
        }
        if full:
            data.update(
                {
                    "description": "",
                    "lead": self.user_json(self.directory.all()[0], base_url)
                    if self.directory.all()
                    else None,
                    "components": [self.component_json(c, base_url) for c in project.components],
                    "issueTypes": [self.issue_type_json(t, base_url) for t in project.issue_types],
                    "assigneeType": "UNASSIGNED",
                    "versions": [],
                    "roles": {},
                }
            )
        return data

    @staticmethod
    def issue_type_json(issue_type: IssueType, base_url: str) -> dict[str, Any]:
        """An issue type."""
        return {
            "self": f"{base_url}/rest/api/2/issuetype/{issue_type.id}",
            "id": issue_type.id,
            "description": "",
            "iconUrl": f"{base_url}/images/icons/issuetypes/task.png",
            "name": issue_type.name,
            "subtask": False,
        }

    @staticmethod
    def component_json(component: Component, base_url: str) -> dict[str, Any]:
        """A component reference."""
        return {
            "self": f"{base_url}/rest/api/2/component/{component.id}",
            "id": component.id,
            "name": component.name,
        }

    @staticmethod
    def priority_json(name: str, base_url: str) -> dict[str, Any]:
        """A priority reference."""
        pid = _PRIORITY_BY_NAME[name.lower()][0]
        return {
            "self": f"{base_url}/rest/api/2/priority/{pid}",
            "iconUrl": f"{base_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def comment_json(
        self, issue: Issue, comment: Comment, *, base_url: str, api_version: int
    ) -> dict[str, Any]:
        """A comment in the shape of the API version asked for."""
        author = self.user_json(comment.author, base_url)
        return {
            "self": f"{base_url}/rest/api/{api_version}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": text_to_adf(comment.body) if api_version >= 3 else comment.body,
            "updateAuthor": author,
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
        }

    def issue_json(
        self,
        issue: Issue,
        *,
        base_url: str,
        api_version: int,
        fields: FieldSpec,
        properties: Sequence[str] = (),
        changelog: bool = False,
        transitions: bool = False,
    ) -> dict[str, Any]:
        """An issue as Jira's REST API returns it (GET issue, search results).

        ``changelog`` adds the issue's changes, newest first (``expand=changelog``);
        ``transitions`` the transitions available from the status shown, read in the
        same instant (``expand=transitions`` on GET issue).
        """
        with self._lock:
            data: dict[str, Any] = {
                "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                "versionedRepresentations",
                "id": issue.id,
                "self": f"{base_url}/rest/api/{api_version}/issue/{issue.id}",
                "key": issue.key,
            }
            if not fields.empty:
                data["fields"] = self._fields_json(issue, base_url, api_version, fields)
            if properties:
                wanted = list(issue.properties) if "*all" in properties else list(properties)
                data["properties"] = {
                    k: json.loads(json.dumps(issue.properties[k]))
                    for k in wanted
                    if k in issue.properties
                }
            if transitions:
                data["transitions"] = self.transitions_json(issue, base_url)
            if changelog:
                histories = [
                    {
                        "id": change.id,
                        "author": self.user_json(change.author, base_url),
                        "created": jira_time(change.created),
                        "items": [
                            {
                                "field": field,
                                "fieldtype": "jira",
                                "fieldId": field,
                                "from": before,
                                "fromString": before,
                                "to": after,
                                "toString": after,
                            }
                            for field, before, after in change.items
                        ],
                    }
                    for change in reversed(issue.changelog)
                ]
                data["changelog"] = {
                    "startAt": 0,
                    "maxResults": len(histories),
                    "total": len(histories),
                    "histories": histories,
                }
            return data

    def _fields_json(
        self, issue: Issue, base_url: str, api_version: int, spec: FieldSpec
    ) -> dict[str, Any]:
        status = self._statuses[issue.status.lower()]
        renderers: dict[str, Any] = {
            "summary": lambda: issue.summary,
            "description": lambda: (
                None
                if issue.description is None
                else (text_to_adf(issue.description) if api_version >= 3 else issue.description)
            ),
            "assignee": lambda: self.user_json(issue.assignee, base_url),
            "reporter": lambda: self.user_json(issue.reporter, base_url),
            "creator": lambda: self.user_json(issue.reporter, base_url),
            "duedate": lambda: issue.duedate.isoformat() if issue.duedate else None,
            "priority": lambda: (
                self.priority_json(issue.priority, base_url) if issue.priority else None
            ),
            "status": lambda: self.status_json(status, base_url),
            "labels": lambda: list(issue.labels),
            "components": lambda: [
                self.component_json(c, base_url)
                for c in issue.project.components
                if c.name in issue.components
            ],
            "issuetype": lambda: self.issue_type_json(issue.issuetype, base_url),
            "project": lambda: self.project_json(issue.project, base_url),
            "created": lambda: jira_time(issue.created),
            "updated": lambda: jira_time(issue.updated),
            "resolutiondate": lambda: (
                jira_time(issue.resolutiondate) if issue.resolutiondate else None
            ),
            "resolution": lambda: (
                {
                    "self": f"{base_url}/rest/api/2/resolution/10000",
                    "id": "10000",
                    "name": "Done",
                }
                if issue.resolutiondate
                else None
            ),
            "comment": lambda: {
                "comments": [
                    self.comment_json(issue, c, base_url=base_url, api_version=api_version)
                    for c in issue.comments
                ],
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
                "startAt": 0,
            },
        }
        out: dict[str, Any] = {}
        for field, render in renderers.items():
            if spec.wants(field):
                out[field] = render()
        for field in issue.project.custom_fields:
            if spec.wants(field):
                out[field] = json.loads(json.dumps(issue.custom.get(field)))
        return out

    def fields_json(self) -> list[dict[str, Any]]:
        """``GET /rest/api/2/field``: the system fields and every declared custom field."""
        with self._lock:
            result = []
            for field in SYSTEM_FIELDS:
                result.append(
                    {
                        "id": field,
                        "key": field,
                        "name": _FIELD_NAMES.get(field, field.title()),
                        "custom": False,
                        "orderable": field in _SETTABLE_FIELDS,
                        "navigable": field not in _NOT_NAVIGABLE,
                        "searchable": True,
                        "clauseNames": [field],
                    }
                )
            seen: set[str] = set()
            for project in self._projects.values():
                for field, name in project.custom_fields.items():
                    if field in seen:
                        continue
                    seen.add(field)
                    number = field.rsplit("_", 1)[-1]
                    result.append(
                        {
                            "id": field,
                            "key": field,
                            "name": name,
                            "custom": True,
                            "orderable": True,
                            "navigable": True,
                            "searchable": True,
                            "clauseNames": [f"cf[{number}]", name],
                            "schema": {"type": "any", "customId": int(number)},
                        }
                    )
            return result


def _snapshot(issue: Issue) -> Issue:
    """A copy of an issue's searchable state, as the search index holds it."""
    return attrs.evolve(
        issue,
        labels=list(issue.labels),
        components=list(issue.components),
        custom=copy.deepcopy(issue.custom),
        properties=copy.deepcopy(issue.properties),
        comments=list(issue.comments),
    )


def _check_label(label: str) -> None:
    if not label or any(c.isspace() for c in label):
        raise _FieldError(f"The label '{label}' contains spaces which is invalid.")
    if len(label) > 255:
        raise _FieldError(
            f"The label '{label}' exceeds the maximum length for a single label of 255 characters."
        )


def _check_property(key: str, value: Any) -> None:
    if not key or len(key) > 255:
        raise JiraError(400, ["The property key must be between 1 and 255 characters long."])
    if len(json.dumps(value).encode()) > _MAX_PROPERTY_BYTES:
        raise JiraError(
            400,
            [f"The property value is larger than the maximum size of {_MAX_PROPERTY_BYTES} bytes."],
        )


def _properties_list(raw: Any, errors: dict[str, str]) -> dict[str, Any]:
    """The ``properties`` array of a create/edit payload as a dict."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        errors["properties"] = "data was not an array"
        return {}
    result: dict[str, Any] = {}
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            errors["properties"] = "Each property needs a 'key' and a 'value'."
            continue
        try:
            _check_property(entry["key"], entry.get("value"))
        except JiraError as exc:
            errors["properties"] = exc.error_messages[0]
            continue
        result[entry["key"]] = json.loads(json.dumps(entry.get("value")))
    return result
