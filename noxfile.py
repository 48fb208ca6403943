"""Developer tasks: ``nox -s tests lint typecheck docs bench clients``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict on src/."""
    session.install("-e", ".[typecheck]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with --strict: a warning is an error."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark script and print its ratios."""
    session.install("-e", ".[test]")  # sync_bench fixes the clock with time-machine
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("*_bench.py")):
        session.run("python", str(script), *session.posargs)


def _lower_bound(name: str) -> str:
    """The oldest version pyproject.toml allows for a dependency (declared once, there)."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        found = re.match(rf"{re.escape(name)}>=([\w.]+)", requirement, re.IGNORECASE)
        if found:
            return found.group(1)
    raise ValueError(f"no lower bound for {name} in pyproject.toml")


@nox.session
@nox.parametrize("clients", ["oldest", "newest"])
def clients(session: nox.Session, clients: str) -> None:
    """The gateway, sync, CLI and Slack tests against the oldest supported and the newest
    atlassian-python-api and slack_sdk (CI runs the newest with ``tests``)."""
    session.install("-e", ".[test]")
    names = ("atlassian-python-api", "slack_sdk")
    if clients == "oldest":
        session.install(*(f"{name}=={_lower_bound(name)}" for name in names))
    else:
        session.install("--upgrade", *names)
    session.run("python", "-m", "pip", "show", *names)
    # The emulator's own tests call client helpers that not every version has; these
    # drive pmsync's gateways (raw requests through the clients' sessions) end to end.
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "tests/sync",
        "tests/cli",
        "tests/loop",
        "tests/emulator/test_cloud_today.py",
        *session.posargs,
    )
