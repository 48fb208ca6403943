"""The thin HTTP layer of the emulated Slack Web API.

Slack methods are ``POST /slack/api/<method>`` (GET works too) whose arguments may come
as a query string, a form body or a JSON body, as slack_sdk sends them. Answers are
``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` with HTTP 200, except rate
limits (429 with ``Retry-After``) and unknown methods (404).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from pmsync.testing._faults import StatusFault
from pmsync.testing._slack import BOT_ID, BOT_USER_ID, TEAM_ID, TEAM_NAME, SlackBackend, SlackError
from pmsync.testing._users import User
from pmsync.testing._wire import json_response

__all__ = ["SlackHttp", "slack_params"]

_CONTENT_TYPE = "application/json; charset=utf-8"
Method = Callable[[dict[str, Any]], dict[str, Any]]


def slack_params(request: Request) -> dict[str, Any]:
    """Every argument of a Web API call: query string, then form or JSON body."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json":
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            params.update(body)
    else:
        params.update(request.form.items())
    return params


def _ok(data: dict[str, Any]) -> Response:
    return json_response({"ok": True, **data}, content_type=_CONTENT_TYPE)


class SlackHttp:
    """Routes and methods of the Slack Web API subset."""

    name = "slack"

    def __init__(self, backend: SlackBackend, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url
        self.methods: dict[str, Method] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "users.lookupByEmail": self._lookup_by_email,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "chat.update": self._update_message,
            "usergroups.users.list": self._usergroup_users,
        }
        self.mutating = frozenset({"chat.postMessage", "conversations.open", "chat.update"})

    def rules(self) -> list[Rule]:
        """Every Web API method, and the ``response_url`` of interactivity payloads."""
        return [
            Rule("/slack/api/<method>", methods=["GET", "POST"], endpoint="slack.method"),
            Rule("/slack/responses/<response_id>", methods=["POST"], endpoint="slack.response"),
        ]

    def is_mutating(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Whether this call changes the workspace (posts, updates, opens a conversation)."""
        return endpoint == "slack.response" or values.get("method") in self.mutating

    def needs_auth(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Every known method but ``api.test`` needs a token; unknown ones answer 404 first.

        A ``response_url`` needs none: its unguessable path is the credential, as in Slack.
        """
        if endpoint == "slack.response":
            return False
        method = values.get("method")
        return method in self.methods and method != "api.test"

    # -- answers the app needs ----------------------------------------------------------

    def not_found(self, request: Request) -> Response:
        """Slack's answer to an unknown path."""
        method = request.path.rsplit("/", 1)[-1]
        return json_response(
            {"ok": False, "error": "unknown_method", "req_method": method},
            404,
            content_type=_CONTENT_TYPE,
        )

    def method_not_allowed(self, request: Request) -> Response:
        """Slack's answer to a method it does not serve over this verb."""
        return self.not_found(request)

    def unauthorized(self, *, missing: bool) -> Response:
        """Slack's answer to a missing or wrong token (HTTP 200, as Slack does)."""
        error = "not_authed" if missing else "invalid_auth"
        return json_response({"ok": False, "error": error}, content_type=_CONTENT_TYPE)

    def fault(self, fault: StatusFault) -> Response:
        """A scripted 429 or 5xx in Slack's shape."""
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        error = "ratelimited" if fault.kind == "rate_limit" else "service_unavailable"
        return json_response(
            {"ok": False, "error": error}, fault.status, headers, content_type=_CONTENT_TYPE
        )

    def internal_error(self) -> Response:
        """Slack's answer when the emulator itself failed."""
        return json_response(
            {"ok": False, "error": "internal_error"}, 500, content_type=_CONTENT_TYPE
        )

    def is_known(self, method: str) -> bool:
        """Whether the emulator serves this Web API method."""
        return method in self.methods

    def handle(
        self, endpoint: str, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        """Run one Web API method, or record a post to a ``response_url``."""
        del user
        if endpoint == "slack.response":
            return self._response_url(request, values["response_id"])
        method = values["method"]
        if method not in self.methods:
            return self.not_found(request)
        try:
            return _ok(self.methods[method](slack_params(request)))
        except SlackError as exc:
            return json_response(exc.body(), content_type=_CONTENT_TYPE)

    # -- methods ---------------------------------------------------------------------------

    def _api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        args = {k: v for k, v in params.items() if k != "token"}
        return {"args": args} if args else {}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        del params
        return {
            "url": f"{self.base_url}/",
            "team": TEAM_NAME,
            "user": "pmsync",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.backend.post_message(params)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "message": self.backend.message_json(message),
        }

    def _update_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.backend.update_message(params)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self.backend.message_json(message),
        }

    def _usergroup_users(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"users": self.backend.usergroup_users(params)}

    def _response_url(self, request: Request, response_id: str) -> Response:
        """Slack answers a ``response_url`` post with a bare ``ok``."""
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return Response("invalid_payload", 400, content_type="text/plain")
        if not isinstance(body, dict):
            return Response("invalid_payload", 400, content_type="text/plain")
        self.backend.record_response(response_id, body)
        return Response("ok", 200, content_type="text/html")

    def _lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"user": self.backend.user_json(self.backend.lookup_by_email(params))}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"user": self.backend.user_json(self.backend.user_info(params))}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.backend.open_conversation(params)
        if str(params.get("return_im", "")).lower() in ("true", "1"):
            return {
                "no_op": False,
                "already_open": False,
                "channel": {
                    "id": channel.id,
                    "created": 0,
                    "is_im": channel.user is not None,
                    "is_org_shared": False,
                    "user": channel.user,
                    "is_user_deleted": False,
                    "priority": 0,
                },
            }
        return {"channel": {"id": channel.id}}
