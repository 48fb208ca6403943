"""Log setup: greppable text lines, JSON lines, levels, and secrets redacted everywhere."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from pathlib import Path

import pytest

from pmsync._logging import (
    REDACTED,
    JsonFormatter,
    Redactor,
    TextFormatter,
    level_for,
    log_to,
    secrets_from_env,
)

TOKEN = "tok-3f9a8b7c6d5e"


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("pmsync", logging.INFO, __file__, 1, msg, args, exc_info)


def test_secrets_come_from_the_variables() -> None:
    assert (TOKEN,) == secrets_from_env({"PMSYNC_SLACK_TOKEN": TOKEN})


def test_secrets_come_from_files_named_by_file_variables(tmp_path: Path) -> None:
    (tmp_path / "pat").write_text(TOKEN + "\n")
    found = secrets_from_env({"PMSYNC_JIRA_PAT_FILE": str(tmp_path / "pat")})
    assert TOKEN in found


def test_secrets_include_the_basic_auth_credential() -> None:
    found = secrets_from_env({"PMSYNC_EMAIL": "me@example.com", "PMSYNC_API_TOKEN": TOKEN})
    assert base64.b64encode(f"me@example.com:{TOKEN}".encode()).decode() in found


def test_secrets_ignore_unreadable_files(tmp_path: Path) -> None:
    assert () == secrets_from_env({"PMSYNC_API_TOKEN_FILE": str(tmp_path / "missing")})


def test_redactor_replaces_every_occurrence() -> None:
    redact = Redactor([TOKEN])
    assert f"a {REDACTED} b {REDACTED}" == redact(f"a {TOKEN} b {TOKEN}")


def test_redactor_never_shows_its_secrets_in_repr() -> None:
    assert TOKEN not in repr(Redactor([TOKEN]))


def test_text_lines_are_greppable_utc() -> None:
    record = _record("read %d pages", 3)
    record.created = 1795726800.0  # 2026-11-26T21:00:00Z
    assert "2026-11-26T21:00:00Z INFO pmsync: read 3 pages" == TextFormatter().format(record)


def test_json_lines_carry_time_level_logger_and_message() -> None:
    record = _record("read %d pages", 3)
    record.created = 1795726800.0
    assert {
        "time": "2026-11-26T21:00:00Z",
        "level": "INFO",
        "logger": "pmsync",
        "message": "read 3 pages",
    } == json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(("verbosity", "level"), [(-1, "ERROR"), (0, "INFO"), (1, "DEBUG")])
def test_levels_follow_verbosity(verbosity: int, level: str) -> None:
    assert level == logging.getLevelName(level_for(verbosity))


def test_log_to_redacts_messages_and_arguments() -> None:
    stream = io.StringIO()
    with log_to(stream, redact=Redactor([TOKEN])):
        logging.getLogger("pmsync.http").warning("auth with %s failed", TOKEN)
    assert TOKEN not in stream.getvalue()
    assert f"auth with {REDACTED} failed" in stream.getvalue()


def test_log_to_redacts_tracebacks_in_json() -> None:
    stream = io.StringIO()
    with log_to(stream, fmt="json", redact=Redactor([TOKEN])):
        try:
            raise RuntimeError(f"header Bearer {TOKEN}")
        except RuntimeError:
            logging.getLogger("pmsync").exception("request failed")
    line = json.loads(stream.getvalue())
    assert TOKEN not in stream.getvalue()
    assert REDACTED in line["exception"]


def test_log_to_removes_its_handler_afterwards() -> None:
    logger = logging.getLogger("pmsync")
    before = list(logger.handlers)
    with log_to(io.StringIO()):
        assert len(before) + 1 == len(logger.handlers)
    assert before == logger.handlers


def test_log_to_silences_client_libraries_by_default() -> None:
    stream = io.StringIO()
    with log_to(stream):
        logging.getLogger("stamina").warning("stamina.retry_scheduled")
    assert "" == stream.getvalue()


def test_log_to_shows_client_libraries_with_vv() -> None:
    stream = io.StringIO()
    with log_to(stream, verbosity=2):
        logging.getLogger("urllib3.connectionpool").debug("GET /rest/api/search")
    assert re.search(r"DEBUG urllib3\.connectionpool: GET /rest/api/search", stream.getvalue())
