"""Small request and response helpers shared by the emulator's HTTP layers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

__all__ = [
    "JSON_TYPE",
    "ParameterError",
    "RequestBodyError",
    "empty_response",
    "int_param",
    "json_response",
    "list_param",
    "read_json",
]

#: The exact type Atlassian sends; atlassian-python-api compares it verbatim on a 401.
JSON_TYPE = "application/json;charset=UTF-8"


class RequestBodyError(Exception):
    """The request body is not the JSON the endpoint needs."""


class ParameterError(Exception):
    """A query parameter has a value of the wrong kind."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"The value '{value}' of the parameter '{name}' is invalid.")
        self.name = name
        self.value = value


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = JSON_TYPE,
) -> Response:
    """A JSON response with Atlassian's content type unless told otherwise."""
    response = Response(
        json.dumps(data, ensure_ascii=False), status=status, content_type=content_type
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def empty_response(status: int = 204) -> Response:
    """A response without a body (204, or 200/201 for property writes)."""
    response = Response(b"", status=status)
    response.headers.pop("Content-Type", None)
    return response


def read_json(request: Request) -> Any:
    """The request body parsed as JSON; ``None`` for an empty body."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RequestBodyError(f"The request body is not valid JSON: {exc}") from None


def list_param(request: Request, name: str) -> list[str]:
    """A parameter that may repeat and may hold comma-separated values."""
    return [
        part.strip()
        for value in request.args.getlist(name)
        for part in value.split(",")
        if part.strip()
    ]


def int_param(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    """An integer query parameter; raise ParameterError for garbage or a too-small value."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError(name, raw) from None
    if value < minimum:
        raise ParameterError(name, raw)
    return value
