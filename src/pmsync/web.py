"""pmsync as a small web service: Slack's buttons and Jira and Confluence webhooks.

:func:`wsgi_app` returns a plain WSGI application (no framework needed) serving:

- ``POST /slack/actions``: the Slack app's interactivity request URL. Each request is
  verified with the signing secret (:class:`slack_sdk.signature.SignatureVerifier`: HMAC
  of the body, timestamp within 5 minutes); a signature seen before is a replay and is
  refused too (401). The press is acknowledged at once (Slack allows 3 seconds) and done
  after, on the worker pool (see :mod:`pmsync._actions`).
- ``POST /webhooks/jira``: Jira's ``jira:issue_updated`` for issues pmsync manages whose
  status, assignee or due date changed: the issue's page is synced, which writes Jira's
  values back into the page.
- ``POST /webhooks/confluence``: ``page_created`` and ``page_updated`` events (from a
  Confluence Automation "send web request" rule or an app webhook) with ``page.id``: the
  page is synced when it matches ``Config.cql`` (without ``cql``, page events are ignored).
- ``GET /healthz``: ``{"ok": true}`` while the service runs.

Webhook bodies must be signed with the shared secret: ``X-Hub-Signature: sha256=<hex
HMAC-SHA256 of the body>`` (as Jira sends it), compared in constant time. Bodies over
``max_body`` bytes are refused (413); events pmsync does not handle are answered 204.

Events are coalesced per page: a burst of edits is one sync, ``quiet`` seconds after the
last event, and a page is never synced twice at once by one service. Syncs run on a
bounded pool of ``workers`` threads, each as ``syncer.sync(page_ids=[page_id])``, so the
engine's own safeguards against concurrent runs (such as a cron ``pmsync sync``) apply. A
sync that fails (Atlassian rate limiting past the retry budget, an outage) is logged and
left for the next cron run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_sdk.signature import SignatureVerifier
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pmsync._actions import ItemActions, ReplayGuard, press_from_payload
from pmsync.exceptions import ConfigError, PmsyncError

if TYPE_CHECKING:
    from pmsync._sync import Syncer

__all__ = ["WebApp", "serve", "wsgi_app"]

log = logging.getLogger("pmsync.web")

#: The largest body accepted by default (Slack and Jira payloads are far smaller).
MAX_BODY = 1024 * 1024
_JIRA_FIELDS = frozenset({"status", "assignee", "duedate"})
_PAGE_EVENTS = frozenset({"page_created", "page_updated"})
_PAGE_ID = re.compile(r"[0-9]+")


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a body of another shape)."""
    return value if isinstance(value, dict) else {}


def _text(status: int, text: str = "") -> Response:
    return Response(text, status, content_type="text/plain; charset=utf-8")


class _Coalescer:
    """Per-page debouncing on a bounded pool: a burst of events is one run.

    Each event for a page pushes its run to ``quiet`` seconds after the event (by
    ``clock``). A page whose run is going is not started again until that run ends; events
    arriving meanwhile make one more run afterwards. A run that returns True (it found the
    page's lease held by another pmsync run) is tried once more after the quiet period;
    if the page is still held then, the next cron run syncs it.
    """

    def __init__(
        self,
        run: Callable[[str, int], bool],
        pool: ThreadPoolExecutor,
        *,
        quiet: float,
        clock: Callable[[], float],
    ) -> None:
        self._run = run
        self._pool = pool
        self._quiet = quiet
        self._clock = clock
        self._cond = threading.Condition()
        self._due: dict[str, tuple[float, int]] = {}  # page -> (when, events)
        self._running: set[str] = set()
        self._retried: set[str] = set()  # pages whose pending run is the one retry
        self._busy = 0  # other jobs on the pool (Slack presses, webhook look-ups)
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, page_id: str) -> None:
        """One event for ``page_id``."""
        with self._cond:
            _, events = self._due.get(page_id, (0.0, 0))
            self._due[page_id] = (self._clock() + self._quiet, events + 1)
            if self._thread is None:  # started on first use: safe under forking servers
                self._thread = threading.Thread(
                    target=self._dispatch, name="pmsync-coalescer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the pool now (counted until it ends, for :meth:`wait_idle`)."""
        with self._cond:
            self._busy += 1

        def wrapped() -> None:
            try:
                job()
            except Exception:
                log.exception("pmsync web: a background job failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

        self._pool.submit(wrapped)

    def wake(self) -> None:
        """Look at the clock again (after a test moved it)."""
        with self._cond:
            self._cond.notify_all()

    def _dispatch(self) -> None:
        with self._cond:
            while not self._closed:
                now = self._clock()
                ready = [
                    p
                    for p, (when, _) in self._due.items()
                    if when <= now and p not in self._running
                ]
                for page_id in ready:
                    _, events = self._due.pop(page_id)
                    self._running.add(page_id)
                    self._pool.submit(self._page_job, page_id, events)
                waits = [when - now for p, (when, _) in self._due.items() if p not in self._running]
                self._cond.wait(timeout=max(min(waits), 0.01) if waits else None)

    def _page_job(self, page_id: str, events: int) -> None:
        again = False
        try:
            again = self._run(page_id, events)
        except Exception:
            log.exception("pmsync web: the sync of page %s failed", page_id)
        finally:
            with self._cond:
                self._running.discard(page_id)
                if again and page_id not in self._retried and page_id not in self._due:
                    self._retried.add(page_id)
                    self._due[page_id] = (self._clock() + self._quiet, events)
                else:
                    self._retried.discard(page_id)
                self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None, *, quiet_too: bool = True) -> bool:
        """Wait until no job runs or is due to; False on timeout.

        ``quiet_too`` also waits for the pages still in their quiet period.
        """

        def idle() -> bool:
            now = self._clock()
            due = [w for p, (w, _) in self._due.items() if p not in self._running]
            waiting = any(w <= now for w in due) or (quiet_too and bool(self._due))
            return not self._running and not self._busy and not waiting

        with self._cond:
            return self._cond.wait_for(idle, timeout)

    def close(self) -> None:
        """Stop dispatching; pending events are dropped (the next cron run covers them)."""
        with self._cond:
            self._closed = True
            self._due.clear()
            self._cond.notify_all()


class WebApp:
    """The WSGI application :func:`wsgi_app` returns. Call :meth:`close` to stop it."""

    def __init__(
        self,
        syncer: Syncer,
        *,
        signing_secret: str | None,
        webhook_secret: str | None,
        quiet: float,
        workers: int,
        max_body: int,
        clock: Callable[[], float],
    ) -> None:
        if signing_secret and syncer.slack is None:
            raise ConfigError(
                "Slack buttons need the syncer's Slack client: set PMSYNC_SLACK_TOKEN",
                key="PMSYNC_SLACK_TOKEN",
            )
        self.syncer = syncer
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._webhook_secret = webhook_secret.encode() if webhook_secret else None
        self._max_body = max_body
        self._actions = ItemActions(syncer) if signing_secret else None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pmsync-web")
        self._work = _Coalescer(self._sync_page, self._pool, quiet=quiet, clock=clock)
        self._replays = ReplayGuard()
        self._routes = Map(
            [
                Rule("/healthz", methods=["GET"], endpoint="healthz"),
                Rule("/slack/actions", methods=["POST"], endpoint="slack"),
                Rule("/webhooks/jira", methods=["POST"], endpoint="jira"),
                Rule("/webhooks/confluence", methods=["POST"], endpoint="confluence"),
            ]
        )

    def __repr__(self) -> str:
        return f"WebApp({self.syncer!r})"

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve one request (WSGI)."""
        request = Request(environ)
        request.max_content_length = self._max_body
        try:
            endpoint, _ = self._routes.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request)
        except RequestEntityTooLarge:
            response = _text(413, f"bodies are limited to {self._max_body} bytes")
        except HTTPException as exc:
            response = _text(exc.code or 500, exc.description or "")
        answer: Iterable[bytes] = response(environ, start_response)
        return answer

    # -- endpoints ----------------------------------------------------------------------

    def _healthz(self, request: Request) -> Response:
        del request
        return Response(json.dumps({"ok": True}), 200, content_type="application/json")

    def _slack(self, request: Request) -> Response:
        if self._verifier is None or self._actions is None:
            raise NotFound("Slack actions are not set up here (no signing secret)")
        body = request.get_data()
        signature = request.headers.get("X-Slack-Signature", "")
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        # isascii: str.isdigit() is true of '²', which int() (in the verifier) refuses.
        valid = stamp.isascii() and stamp.isdigit()
        if not valid or not self._verifier.is_valid(body, stamp, signature):
            log.warning("Slack: refused a request with a bad or expired signature")
            return _text(401, "invalid signature")
        if not self._replays.first_time(signature, stamp):
            log.warning("Slack: refused a replayed request")
            return _text(401, "replayed request")
        try:
            payload = json.loads(request.form.get("payload", ""))
            press = press_from_payload(payload)
        except ValueError:
            return _text(400, "the payload is not a pmsync action")
        if press is not None:
            actions = self._actions
            self._work.submit(lambda: log.debug("%s", actions.handle(press)))
        return _text(200)  # the acknowledgement; the work goes on after

    def _jira(self, request: Request) -> Response:
        event = self._webhook(request)
        if event is None:
            return _text(401, "invalid signature")
        issue = _object(event.get("issue"))
        key = issue.get("key")
        labels = _object(issue.get("fields")).get("labels")
        changelog = _object(event.get("changelog"))
        items = changelog.get("items")
        changed = {_object(i).get("field") for i in items} if isinstance(items, list) else set()
        if (
            event.get("webhookEvent") != "jira:issue_updated"
            or not isinstance(key, str)
            or (isinstance(labels, list) and self.syncer.config.label not in labels)
            or (changelog and not changed & _JIRA_FIELDS)
        ):
            return _text(204)
        self._work.submit(lambda: self._issue_changed(key))
        return _text(202)

    def _confluence(self, request: Request) -> Response:
        event = self._webhook(request)
        if event is None:
            return _text(401, "invalid signature")
        page_id = str(_object(event.get("page")).get("id") or "")
        name = event.get("event") or event.get("webhookEvent")
        if name not in _PAGE_EVENTS or not _PAGE_ID.fullmatch(page_id):
            return _text(204)
        if not self.syncer.config.cql:
            log.info("webhook: page %s ignored: no cql is configured to check it", page_id)
            return _text(204)
        self._work.add(page_id)
        return _text(202)

    # -- checks --------------------------------------------------------------------------

    def _webhook(self, request: Request) -> dict[str, Any] | None:
        """The verified JSON body of a webhook, or None when the signature is wrong."""
        if self._webhook_secret is None:
            raise NotFound("webhooks are not set up here (no webhook secret)")
        body = request.get_data()
        given = request.headers.get("X-Hub-Signature", "")
        expected = "sha256=" + hmac.new(self._webhook_secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("webhook: refused a request with a bad signature (%s)", request.path)
            return None
        try:
            event = json.loads(body)
        except ValueError:
            return {}
        return _object(event)

    # -- work ----------------------------------------------------------------------------

    def _issue_changed(self, key: str) -> None:
        """Find the page of a managed issue and queue its sync."""
        try:
            issue = self.syncer.jira.issue(key)
        except PmsyncError as exc:
            log.warning("webhook: could not read %s (%s); the next cron run will see it", key, exc)
            return
        page_id = str((issue.prop or {}).get("page_id") or "")
        # The property is anyone's to edit in Jira: only a page id may reach the CQL.
        if _PAGE_ID.fullmatch(page_id) and self.syncer.config.label in issue.labels:
            self._work.add(page_id)

    def _sync_page(self, page_id: str, events: int) -> bool:
        """Sync one page; True when another run held its lease (worth one retry)."""
        cql = self.syncer.config.cql
        try:
            if cql and not any(
                True for _ in self.syncer.confluence.search(f"id = {page_id} AND ({cql})")
            ):
                log.info("webhook: page %s does not match the configured CQL; ignored", page_id)
                return False
            result = self.syncer.sync(page_ids=[page_id])
        except PmsyncError as exc:
            log.warning(
                "webhook: the sync of page %s failed (%s); the next cron run will retry",
                page_id,
                exc,
            )
            return False
        log.info(
            "webhook: synced page %s after %d event(s): %d created, %d updated, %d errors",
            page_id,
            events,
            len(result.created),
            len(result.updated),
            len(result.errors),
        )
        # Held by another run (a cron run, say): the page is tried once more after the
        # quiet period, since the holder may have read it before these events.
        return bool(result.skipped)

    # -- lifecycle -----------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the clock again now (for tests that move a fake clock)."""
        self._work.wake()

    def wait_idle(self, timeout: float | None = None, *, quiet_too: bool = True) -> bool:
        """Wait until every event was handled and every job ended; False on timeout.

        With ``quiet_too=False``, pages still in their quiet period do not count.
        """
        return self._work.wait_idle(timeout, quiet_too=quiet_too)

    def close(self) -> None:
        """Stop taking work and wait for the jobs running now."""
        self._work.close()
        self._pool.shutdown(wait=True)


def wsgi_app(
    syncer: Syncer,
    *,
    signing_secret: str | None = None,
    webhook_secret: str | None = None,
    quiet: float = 5.0,
    workers: int = 4,
    max_body: int = MAX_BODY,
    clock: Callable[[], float] = time.monotonic,
) -> WebApp:
    """A WSGI application serving Slack's buttons and the webhooks for ``syncer``.

    ``signing_secret`` (the Slack app's) turns on ``/slack/actions``; ``webhook_secret``
    turns on ``/webhooks/jira`` and ``/webhooks/confluence``. ``quiet`` is how long a page
    must go without events before it is synced, ``workers`` how many syncs and presses run
    at once, ``max_body`` the largest body accepted, and ``clock`` the monotonic clock the
    quiet period is measured with. Serve it with any WSGI server (gunicorn,
    ``pmsync serve``); call ``close()`` on shutdown.
    """
    if not signing_secret and not webhook_secret:
        raise ConfigError(
            "nothing to serve: give the Slack signing secret, the webhook secret or both "
            "(PMSYNC_SLACK_SIGNING_SECRET, PMSYNC_WEBHOOK_SECRET)",
            key="PMSYNC_SLACK_SIGNING_SECRET",
        )
    return WebApp(
        syncer,
        signing_secret=signing_secret,
        webhook_secret=webhook_secret,
        quiet=quiet,
        workers=workers,
        max_body=max_body,
        clock=clock,
    )


def serve(app: WebApp, host: str, port: int, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve ``app`` with werkzeug's threaded server until interrupted (development and
    small sites; use gunicorn in production). ``ready(url)`` is called once listening."""
    from werkzeug.serving import make_server  # noqa: PLC0415

    server = make_server(host, port, app, threaded=True)
    if ready is not None:
        ready(f"http://{host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()
