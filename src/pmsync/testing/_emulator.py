"""``Emulator``: one Atlassian site (Confluence + Jira) and one Slack workspace on loopback.

The public face of :mod:`pmsync.testing`: it owns the backends (state and rules), the
fault knobs and the request log, serves them over real HTTP on ``127.0.0.1`` from a
background thread, and offers the seeding, human-action and inspection helpers that
tests use. All state is guarded by one re-entrant lock, so clients may hit the emulator
from many threads while a test inspects it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

from pmsync.testing._app import Credentials, EmulatorApp, RequestRecord
from pmsync.testing._clock import now
from pmsync.testing._confluence import ConfluenceBackend, ConfluenceError
from pmsync.testing._confluence_http import ConfluenceHttp
from pmsync.testing._faults import Faults
from pmsync.testing._gate import PendingRequest
from pmsync.testing._jira import FieldSpec, JiraBackend, JiraError
from pmsync.testing._jira_http import JiraHttp
from pmsync.testing._outbound import Delivery, Outbound, block_actions_payload
from pmsync.testing._server import ServerThread
from pmsync.testing._slack import BOT_USER_ID, SlackBackend
from pmsync.testing._slack_http import SlackHttp
from pmsync.testing._users import Directory, User

__all__ = ["Emulator"]

Flavour = Literal["cloud", "server"]
_CONTEXTS: dict[str, str] = {"cloud": "/wiki", "server": "/confluence"}
_BOT_ACCOUNT_ID = "712020:00000000-pmsync-emulator-bot"


class Emulator:
    """A stateful Confluence, Jira and Slack emulator served over HTTP on 127.0.0.1.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`)::

        with Emulator(flavour="cloud") as emu:
            page_id = emu.add_page("SRE", "Outage", "<p>Hello</p>")
            emu.confluence().get_page_by_id(page_id, expand="body.storage")

    ``flavour="cloud"`` speaks like Atlassian Cloud (Basic auth with email and API
    token, account ids, ``search/jql``, Confluence under ``/wiki``); ``"server"`` like
    Server/Data Center (Bearer personal access tokens, usernames and user keys,
    ``/rest/api/2/search``, Confluence under the ``/confluence`` context path).

    ``seed`` seeds the random generator behind fractional faults, so runs repeat.
    ``port=0`` picks a free port.

    Cloud speaks as Atlassian Cloud does today: ``v1_pages="gone"`` (the default)
    answers 410 Gone to the v1 page endpoints ``GET``/``PUT /wiki/rest/api/content/{id}``,
    as newer sites do; the REST v2 pages (``/wiki/api/v2/pages/{id}``) and page
    properties serve instead. ``v1_pages="ok"`` serves both, like older sites. CQL search
    and the other v1 endpoints stay. The API gateway paths
    (``/ex/jira/{cloud_id}/...``, ``/ex/confluence/{cloud_id}/wiki/...``, see
    :attr:`gateway_url`) and ``/_edge/tenant_info`` are served too.

    ``search_lag`` (seconds) makes Jira's search eventually consistent, as Jira Cloud's
    is: an issue created or edited through the REST API is matched by JQL as it was
    before the write (a new one not at all) until the lag has passed on the emulator's
    clock (freeze or move it with time-machine), unless the search names it in
    ``reconcileIssues``. Issues seeded with :meth:`add_issue` are indexed at once.

    JQL can search every issue entity property (``issue.property[pmsync].page_id``) by
    default. Real Jira only searches properties that an installed app declares for
    indexing; pass ``indexed_properties=("pmsync.page_id", ...)`` (``key.path`` strings,
    or ``()`` for none) to hold code to that rule.
    """

    def __init__(
        self,
        flavour: Flavour = "cloud",
        *,
        port: int = 0,
        seed: int = 0,
        email: str = "pmsync@example.com",
        token: str = "emulator-api-token",
        slack_token: str = "xoxb-emulator-token",
        indexed_properties: Iterable[str] | None = None,
        v1_pages: Literal["ok", "gone"] = "gone",
        search_lag: float = 0.0,
    ) -> None:
        if flavour not in _CONTEXTS:
            raise ValueError(f"flavour must be 'cloud' or 'server', not {flavour!r}")
        if v1_pages not in ("ok", "gone"):
            raise ValueError(f"v1_pages must be 'ok' or 'gone', not {v1_pages!r}")
        if search_lag < 0:
            raise ValueError(f"search_lag must not be negative, not {search_lag!r}")
        self.flavour: Flavour = flavour
        #: The email address the emulated site accepts as the login (with :attr:`token`).
        self.email = email
        #: The API token (Cloud) or personal access token (Server) the site accepts.
        self.token = token
        #: The Slack bot token the workspace accepts.
        self.slack_token = slack_token
        self._requested_port = port
        self._seed = seed
        self._lock = threading.RLock()
        self._directory = Directory(self._lock)
        self._jira = JiraBackend(self._lock, self._directory, flavour)
        if indexed_properties is not None:
            self._jira.indexed_properties = frozenset(indexed_properties)
        self._confluence = ConfluenceBackend(self._lock, self._directory, flavour)
        self._confluence.v1_pages = v1_pages
        self._jira.search_lag = float(search_lag)
        #: The Cloud site's id, as ``/_edge/tenant_info`` tells it.
        self.cloud_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pmsync-emulator-{seed}"))
        self._slack = SlackBackend(self._lock, self._directory)
        #: Scriptable faults: rate limits, server errors, latency, dropped connections.
        self.faults = Faults(self._lock, seed)
        self._requests: list[RequestRecord] = []
        self._listeners: list[Callable[[RequestRecord], object]] = []
        self._gate: Callable[[PendingRequest], object] | None = None
        self._server: ServerThread | None = None
        self._bot = self._add_bot()
        self._outbound = Outbound()

    def _add_bot(self) -> User:
        return self._directory.add(
            display_name="pmsync",
            account_id=_BOT_ACCOUNT_ID,
            username=self.email.split("@", 1)[0],
            email=self.email,
            slack_id=BOT_USER_ID,
        )

    def __repr__(self) -> str:
        where = self.url if self._server else "not started"
        return f"<Emulator flavour={self.flavour!r} {where}>"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Start serving on 127.0.0.1 (a free port unless one was given); return self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        # Bind first so that the URLs (with the port) are known to the HTTP layers.
        server = ServerThread(self._requested_port)
        url = f"http://127.0.0.1:{server.port}"
        context = _CONTEXTS[self.flavour]
        app = EmulatorApp(
            jira=JiraHttp(self._jira, url),
            confluence=ConfluenceHttp(self._confluence, self.faults, url + context, context),
            slack=SlackHttp(self._slack, url + "/slack"),
            confluence_context=context,
            faults=self.faults,
            credentials=Credentials(
                flavour=self.flavour,
                email=self.email,
                username=self._bot.username,
                token=self.token,
                slack_token=self.slack_token,
                user=self._bot,
                cloud_id=self.cloud_id,
            ),
            record=self._record,
            gate=self._pass_gate,
        )
        server.serve(app)
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and close open connections. State is kept; start() serves it again."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the emulator is serving."""
        return self._server is not None

    # -- where and how to connect ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it serves on."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use 'with'")
        return self._server.port

    @property
    def url(self) -> str:
        """The Jira base URL, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def confluence_url(self) -> str:
        """The Confluence base URL: ``url + "/wiki"`` (Cloud) or ``url + "/confluence"``."""
        return self.url + _CONTEXTS[self.flavour]

    @property
    def v1_pages(self) -> Literal["ok", "gone"]:
        """``"gone"``: Cloud answers 410 to v1 page reads and writes; ``"ok"``: it serves them."""
        return self._confluence.v1_pages

    @v1_pages.setter
    def v1_pages(self, mode: Literal["ok", "gone"]) -> None:
        if mode not in ("ok", "gone"):
            raise ValueError(f"v1_pages must be 'ok' or 'gone', not {mode!r}")
        self._confluence.v1_pages = mode

    @property
    def search_lag(self) -> float:
        """Seconds before Jira's search sees an issue written through the REST API."""
        return self._jira.search_lag

    @search_lag.setter
    def search_lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"search_lag must not be negative, not {seconds!r}")
        self._jira.search_lag = float(seconds)

    def gateway_url(self, product: Literal["jira", "confluence"]) -> str:
        """The API gateway's base URL for ``product``, as scoped tokens must use it:
        ``.../ex/jira/{cloud_id}`` or ``.../ex/confluence/{cloud_id}/wiki`` (Cloud only)."""
        if self.flavour != "cloud":
            raise ValueError("the api.atlassian.com gateway serves Cloud sites only")
        suffix = _CONTEXTS["cloud"] if product == "confluence" else ""
        return f"{self.url}/ex/{product}/{self.cloud_id}{suffix}"

    @property
    def slack_url(self) -> str:
        """The base URL for ``slack_sdk.WebClient(base_url=...)``."""
        return self.url + "/slack/api/"

    @property
    def bot(self) -> User:
        """The account the credentials belong to (``myself``, ``auth.test``)."""
        return self._bot

    def confluence(self, **kwargs: Any) -> Any:
        """A real ``atlassian.Confluence`` client pointed at the emulator (v1 REST methods)."""
        from atlassian import Confluence  # noqa: PLC0415 - keep client imports lazy

        factory: Any = Confluence  # the client's constructor is untyped

        if self.flavour == "cloud":
            return factory(
                url=self.confluence_url,
                username=self.email,
                password=self.token,
                cloud=False,
                **kwargs,
            )
        return factory(url=self.confluence_url, token=self.token, **kwargs)

    def jira(self, **kwargs: Any) -> Any:
        """A real ``atlassian.Jira`` client pointed at the emulator."""
        from atlassian import Jira  # noqa: PLC0415

        if self.flavour == "cloud":
            return Jira(
                url=self.url, username=self.email, password=self.token, cloud=True, **kwargs
            )
        return Jira(url=self.url, token=self.token, **kwargs)

    def slack(self, **kwargs: Any) -> Any:
        """A real ``slack_sdk.WebClient`` pointed at the emulator."""
        from slack_sdk import WebClient  # noqa: PLC0415

        return WebClient(token=self.slack_token, base_url=self.slack_url, **kwargs)

    # -- people ------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        display_name: str,
        account_id: str | None = None,
        username: str | None = None,
        user_key: str | None = None,
        email: str | None = None,
        slack_id: str | None = None,
    ) -> User:
        """Add a person to the site and the workspace; identifiers not given are generated.

        Returns the :class:`User` with every identifier filled in.
        """
        return self._directory.add(
            display_name=display_name,
            account_id=account_id,
            username=username,
            user_key=user_key,
            email=email,
            slack_id=slack_id,
        )

    def users(self) -> list[User]:
        """Every user, the emulator's own account first."""
        return self._directory.all()

    # -- Jira seeding and human actions ----------------------------------------------------

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
    ) -> None:
        """Add a Jira project.

        ``required_fields`` makes creates fail without them (``components``,
        ``duedate``, ``customfield_10010``...). ``custom_fields`` declares custom fields
        (ids, or ids mapped to names). ``workflow`` restricts transitions:
        ``{status: [statuses reachable from it]}``, the first status being the initial
        one; statuses other than To Do, In Progress, In Review and Done need a category in
        ``status_categories`` (``new``, ``indeterminate`` or ``done``). Without a
        workflow every status reaches every other, like Jira's simplified workflow.
        """
        self._jira.add_project(
            key,
            name,
            issue_types,
            required_fields=required_fields,
            components=components,
            custom_fields=custom_fields,
            workflow=workflow,
            status_categories=status_categories,
        )

    def add_issue(
        self,
        project: str,
        *,
        summary: str,
        description: str | None = None,
        assignee: str | None = None,
        duedate: str | dt.date | None = None,
        priority: str | None = None,
        status: str | None = None,
        labels: Sequence[str] = (),
        properties: Mapping[str, Any] | None = None,
        components: Sequence[str] = (),
        created: dt.datetime | None = None,
        reporter: str | None = None,
        issuetype: str | None = None,
    ) -> str:
        """Add an issue as a person would; return its key.

        Users are given by account id, username, user key or email. ``status`` defaults
        to the workflow's first status; ``created`` backdates the issue.
        """
        issue = self._jira.human_create(
            project,
            summary=summary,
            description=description,
            assignee=assignee,
            reporter=reporter,
            duedate=duedate,
            priority=priority,
            status=status or self._initial_status(project),
            labels=labels,
            properties=properties,
            components=components,
            created=created,
            issuetype=issuetype,
        )
        return issue.key

    def _initial_status(self, project: str) -> str:
        found = self._jira.project(project)
        if found is None:
            raise ValueError(f"no project {project!r}; add it with add_project() first")
        return found.initial_status

    def edit_issue(self, key: str, fields: Mapping[str, Any]) -> None:
        """Edit fields as a person would: ``summary``, ``description``, ``duedate``,
        ``priority`` (a name), ``assignee`` (an id, username or email; ``None`` clears),
        ``labels``, ``components`` or declared custom fields.

        Registered webhooks get ``jira:issue_updated`` (see :meth:`add_webhook`)."""
        before = self._issue_for_webhook(key)
        self._jira.human_edit(key, fields)
        self._issue_updated(key, before)

    def transition_issue(self, key: str, status_name: str) -> None:
        """Move an issue to ``status_name`` as a person would (any status of its workflow).

        Entering a Done-category status sets ``resolutiondate``; leaving it clears it.
        Registered webhooks get ``jira:issue_updated`` (see :meth:`add_webhook`).
        """
        before = self._issue_for_webhook(key)
        self._jira.human_transition(key, status_name)
        self._issue_updated(key, before)

    def delete_issue(self, key: str) -> None:
        """Delete an issue as a person would. Its key is not reused."""
        try:
            self._jira.delete_issue(key)
        except JiraError:
            raise ValueError(f"no issue {key!r}") from None

    def set_issue_property(self, key: str, property_key: str, value: Any) -> None:
        """Set an issue entity property directly."""
        self._jira.human_set_property(key, property_key, value)

    # -- Confluence seeding and human actions ---------------------------------------------

    def add_space(self, key: str, name: str | None = None) -> str:
        """Add a Confluence space (``add_page`` creates missing spaces itself)."""
        return self._confluence.add_space(key, name).key

    def add_page(
        self,
        space: str,
        title: str,
        storage: str,
        *,
        labels: Sequence[str] = (),
        parent_id: str | None = None,
        author: str | None = None,
    ) -> str:
        """Add a page (version 1) in storage format; return its id.

        The storage must be well-formed, as Confluence requires. ``author`` is a user
        identifier (account id, username or email).
        """
        self._confluence.add_space(space)
        try:
            page = self._confluence.create(
                space_key=space,
                title=title,
                storage=storage,
                parent_id=parent_id,
                labels=labels,
                author=self._find_user(author),
            )
        except ConfluenceError as exc:
            raise ValueError(f"cannot add page {title!r}: {exc.message}") from None
        self._page_event("page_created", page.id)
        return page.id

    def edit_page(
        self,
        page_id: str,
        storage: str,
        *,
        title: str | None = None,
        author: str | None = None,
    ) -> int:
        """Save a human edit (a new version); return the new version number."""
        try:
            page = self._confluence.save_version(
                page_id,
                number=None,
                title=title,
                storage=storage,
                author=self._find_user(author),
            )
        except ConfluenceError as exc:
            raise ValueError(f"cannot edit page {page_id}: {exc.message}") from None
        self._page_event("page_updated", page.id)
        return page.current.number

    def delete_page(self, page_id: str) -> None:
        """Delete a page as a person would: it goes to the trash and stops being served."""
        try:
            self._confluence.trash(page_id)
        except ConfluenceError as exc:
            raise ValueError(f"cannot delete page {page_id}: {exc.message}") from None

    def set_content_property(self, page_id: str, key: str, value: Any) -> int:
        """Write a content property as another client would (bumping its version).

        Returns the property's new version number.
        """
        try:
            existing = self._confluence.page(page_id).properties.get(key)
            number = 1 if existing is None else existing.version + 1
            prop, _ = self._confluence.update_property(page_id, key, value, number)
        except ConfluenceError as exc:
            raise ValueError(
                f"cannot set property {key!r} on page {page_id}: {exc.message}"
            ) from None
        return prop.version

    def _find_user(self, ident: str | None) -> User | None:
        if ident is None:
            return None
        user = (
            self._directory.by_account_id(ident)
            or self._directory.by_username(ident)
            or self._directory.by_user_key(ident)
            or self._directory.by_email(ident)
        )
        if user is None:
            raise ValueError(f"no user {ident!r}; add it with add_user() first")
        return user

    # -- Slack seeding -----------------------------------------------------------------------

    def add_channel(self, name: str) -> str:
        """Add a public Slack channel (``"incidents"`` or ``"#incidents"``); return its id."""
        return self._slack.add_channel(name)

    # -- what the services send to apps: button presses and webhooks --------------------

    @property
    def slack_signing_secret(self) -> str:
        """The signing secret the workspace signs interactivity requests with."""
        return self._outbound.signing_secret

    def set_slack_request_url(self, url: str, *, signing_secret: str | None = None) -> None:
        """Set the app's interactivity request URL (and its signing secret)."""
        self._outbound.request_url = url
        if signing_secret is not None:
            self._outbound.signing_secret = signing_secret

    def add_usergroup(self, handle: str, users: Sequence[str]) -> str:
        """Add a Slack user group (``@handle``) of Slack user ids; return its id (``S...``)."""
        return self._slack.add_usergroup(handle, users)

    def slack_click(
        self,
        message: Mapping[str, Any],
        action_id: str,
        *,
        user: str | User,
        selected_date: str | dt.date | None = None,
        timestamp: int | None = None,
        signing_secret: str | None = None,
    ) -> Delivery:
        """Press a button (or pick a date) of ``message`` as ``user``, exactly as Slack would.

        ``message`` is one of :meth:`slack_messages`; ``user`` a Slack user id or a
        :class:`User`. The ``block_actions`` payload goes form-encoded and signed to the URL
        set with :meth:`set_slack_request_url`; its ``response_url`` points back at the
        emulator, which records what the app posts there (:meth:`slack_responses`).
        ``timestamp`` and ``signing_secret`` forge old or wrongly signed requests. Returns
        the :class:`~pmsync.testing.Delivery` with the app's answer.
        """
        who = self._directory.by_slack_id(user) if isinstance(user, str) else user
        if who is None:
            raise ValueError(f"no Slack user {user!r}; add it with add_user() first")
        day = selected_date.isoformat() if isinstance(selected_date, dt.date) else selected_date
        response_url = f"{self.url}/slack/responses/{secrets.token_hex(12)}"
        payload = block_actions_payload(
            message, action_id, user=who, response_url=response_url, selected_date=day
        )
        return self._outbound.click(payload, timestamp=timestamp, secret=signing_secret)

    def slack_updates(self) -> list[dict[str, Any]]:
        """Every ``chat.update`` the app made, oldest first, shaped as :meth:`slack_messages`."""
        return [m.to_dict() for m in self._slack.updates()]

    def slack_responses(self) -> list[dict[str, Any]]:
        """Every post to a ``response_url``: its JSON body (``text``, ``response_type``...)."""
        return self._slack.responses()

    def add_webhook(
        self, url: str, *, secret: str | None = None, events: Sequence[str] | None = None
    ) -> None:
        """Send webhooks to ``url``: ``jira:issue_updated`` when a person edits or moves an
        issue, ``page_created`` and ``page_updated`` when a person adds or edits a page.

        ``events`` limits which (default: all). With a ``secret``, each body is signed
        ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``. Webhooks are sent for
        changes made through this object's human-action helpers, from the calling thread,
        before the helper returns.
        """
        self._outbound.add_webhook(url, secret, events)

    def deliveries(self) -> list[Delivery]:
        """Every button press and webhook sent to an app, oldest first, with the answers."""
        return self._outbound.deliveries()

    def _issue_for_webhook(self, key: str) -> dict[str, Any] | None:
        return self.issue(key) if self._outbound.wants("jira:issue_updated") else None

    def _issue_updated(self, key: str, before: dict[str, Any] | None) -> None:
        if before is None:
            return
        after = self.issue(key)
        items = []
        for field in ("summary", "status", "assignee", "duedate", "priority", "labels"):
            old, new = before["fields"].get(field), after["fields"].get(field)
            if old != new:
                items.append(
                    {
                        "field": field,
                        "fieldtype": "jira",
                        "fromString": _shown(old),
                        "toString": _shown(new),
                    }
                )
        stamp = int(now().timestamp() * 1000)
        self._outbound.fire(
            "jira:issue_updated",
            {
                "timestamp": stamp,
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": "issue_generic",
                "issue": {"id": after["id"], "key": after["key"], "fields": after["fields"]},
                "changelog": {"id": str(stamp), "items": items},
            },
        )

    def _page_event(self, event: str, page_id: str) -> None:
        if not self._outbound.wants(event):
            return
        page = self.page(page_id)
        self._outbound.fire(
            event,
            {
                "event": event,
                "timestamp": int(now().timestamp() * 1000),
                "page": {
                    "id": page["id"],
                    "title": page["title"],
                    "spaceKey": page["space"],
                    "version": page["version"],
                },
            },
        )

    # -- inspection --------------------------------------------------------------------------

    def page(self, page_id: str) -> dict[str, Any]:
        """A page: ``id``, ``title``, ``space``, ``storage``, ``version``, ``labels``,
        ``parent_id``, ``properties`` (key to value) and ``versions`` (every version's
        number, title and storage, oldest first)."""
        with self._lock:
            try:
                page = self._confluence.page(page_id)
            except ConfluenceError:
                raise KeyError(f"no page {page_id!r}") from None
            return {
                "id": page.id,
                "type": page.type,
                "title": page.title,
                "space": page.space.key,
                "storage": page.storage,
                "version": page.current.number,
                "labels": list(page.labels),
                "parent_id": page.parent_id,
                "properties": {k: _copy(p.value) for k, p in page.properties.items()},
                "versions": [
                    {
                        "number": v.number,
                        "title": v.title,
                        "storage": v.storage,
                        "message": v.message,
                    }
                    for v in page.versions
                ],
            }

    def pages(self) -> list[dict[str, Any]]:
        """Every page, as :meth:`page` shows them, in creation order."""
        with self._lock:
            return [self.page(p.id) for p in self._confluence.pages()]

    def state_by_row(self, project: str, *, property_key: str = "pmsync") -> dict[str, Any]:
        """The pages and the project's issues as a person sees them, each issue key
        replaced by the row it belongs to (``page title#item id``, from the issue's
        ``property_key`` property), so that two syncs that created the same issues in
        another order compare equal.

        ``pages``: title -> (version, storage, content properties); ``issues``: row ->
        summary, status, assignee, due date, priority, labels and properties.
        """
        with self._lock:
            pages = self.pages()
            issues = self.issues(project)
        titles = {p["id"]: p["title"] for p in pages}
        rows = {}
        for issue in issues:
            record = issue["properties"].get(property_key) or {}
            page = titles.get(str(record.get("page_id")), record.get("page_id"))
            rows[issue["key"]] = f"{page}#{record.get('item_id')}"

        def by_row(text: str) -> str:
            return re.sub(r"\b[A-Z][A-Z0-9_]+-\d+\b", lambda m: rows.get(m[0], m[0]), text)

        def person(user: Mapping[str, Any] | None) -> str | None:
            return None if user is None else user.get("accountId") or user.get("name")

        return {
            "pages": {
                p["title"]: (p["version"], by_row(p["storage"]), p["properties"]) for p in pages
            },
            "issues": {
                rows[i["key"]]: (
                    i["fields"]["summary"],
                    i["fields"]["status"]["name"],
                    person(i["fields"].get("assignee")),
                    i["fields"].get("duedate"),
                    (i["fields"].get("priority") or {}).get("name"),
                    sorted(i["fields"].get("labels") or []),
                    by_row(json.dumps(i["properties"], sort_keys=True)),
                )
                for i in issues
            },
        }

    def content_property(self, page_id: str, key: str) -> dict[str, Any] | None:
        """A content property as ``{"key", "value", "version"}``, or ``None`` if unset."""
        with self._lock:
            try:
                page = self._confluence.page(page_id)
            except ConfluenceError:
                raise KeyError(f"no page {page_id!r}") from None
            prop = page.properties.get(key)
            if prop is None:
                return None
            return {"key": prop.key, "value": _copy(prop.value), "version": prop.version}

    def issue(self, key: str) -> dict[str, Any]:
        """One issue, shaped as :meth:`issues` shapes them."""
        with self._lock:
            for issue in self._jira.issues():
                if issue.key == key.upper():
                    return self._issue_dict(issue)
        raise KeyError(f"no issue {key!r}")

    def issues(self, project: str | None = None) -> list[dict[str, Any]]:
        """Every issue (of one project), as Jira's REST API v2 returns them with
        ``fields=*all`` and every entity property under ``properties``."""
        with self._lock:
            return [self._issue_dict(i) for i in self._jira.issues(project)]

    def _issue_dict(self, issue: Any) -> dict[str, Any]:
        data = self._jira.issue_json(
            issue,
            base_url=self.url if self.running else "http://127.0.0.1",
            api_version=2,
            fields=FieldSpec.parse(None, "*all"),
            properties=["*all"],
        )
        data.setdefault("properties", {})
        return data

    def slack_messages(self) -> list[dict[str, Any]]:
        """Every Slack message posted: ``channel`` (id), ``channel_name``, ``dm_user``
        (the Slack id of a direct message's recipient), ``text``, ``blocks``, ``ts`` and
        ``thread_ts``, oldest first."""
        return [m.to_dict() for m in self._slack.messages()]

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def request_count(
        self,
        mutating: bool | None = None,
        *,
        service: str | None = None,
        method: str | None = None,
    ) -> int:
        """How many requests were received, optionally only (non-)mutating ones, of one
        service (``jira``, ``confluence``, ``slack``) or with one HTTP method."""
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (mutating is None or r.mutating == mutating)
                and (service is None or r.service == service)
                and (method is None or r.method == method.upper())
            )

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()

    def add_request_listener(self, listener: Callable[[RequestRecord], object]) -> None:
        """Call ``listener(record)`` after every request (``pmsync emulator`` prints them)."""
        with self._lock:
            self._listeners.append(listener)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)

    def set_request_gate(self, gate: Callable[[PendingRequest], object] | None) -> None:
        """Call ``gate(request)`` before each request is handled; ``None`` removes it.

        The gate runs in the server thread that serves the request, after routing and
        authentication and before ``drop_after`` and the handler, and may block: only that
        request waits. If it raises ``ConnectionAbortedError`` the connection closes without
        an answer; any other exception is answered 500. Either way the request is not
        handled. Race tests use it to pause a run between two requests (see
        docs/testing.md, "Pausing requests").
        """
        with self._lock:
            self._gate = gate

    def _pass_gate(self, request: PendingRequest) -> None:
        with self._lock:
            gate = self._gate
        if gate is not None:
            gate(request)

    def reset(self) -> None:
        """Forget everything: users, projects, issues, pages, messages, faults, the log.

        The emulator keeps serving on the same port, with its own account re-created.
        """
        with self._lock:
            self._jira.reset()
            self._confluence.reset()
            self._slack.reset()
            self._outbound.reset()
            self._directory.clear()
            self._bot = self._add_bot()
            self.faults.clear()
            self.faults.reseed(self._seed)
            self._requests.clear()
            self._gate = None


def _shown(value: Any) -> str | None:
    """A changelog's ``fromString``/``toString``: the name Jira shows for a value."""
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("displayName") or value.get("value") or "")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return None if value is None else str(value)


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value, so that inspection never hands out live state."""
    return json.loads(json.dumps(value))
