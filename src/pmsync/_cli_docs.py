"""Generated reference pages: the command line (docs/cli.md) from the click commands, and
the environment variables (docs/environment.md) from :data:`pmsync.ENVIRONMENT`.

Each page has a hand-written introduction and a generated part between two markers.
``python -m pmsync._cli_docs`` rewrites the generated parts; ``--check`` exits 1 when a
file is stale, and a test does the same, so the reference can never drift from the code.
Pure apart from :func:`main`: rendering reads only the click objects and the mapping.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import click

__all__ = [
    "BEGIN",
    "END",
    "refreshed",
    "refreshed_environment",
    "render_environment",
    "render_reference",
    "undocumented",
]

BEGIN = "<!-- BEGIN GENERATED: python -m pmsync._cli_docs -->"
END = "<!-- END GENERATED -->"


def _paragraphs(text: str) -> Iterator[str]:
    """click help text as Markdown: ``\\b`` blocks become text blocks, the rest reflows."""
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            body = "\n".join(lines[1:])
            indent = min(len(line) - len(line.lstrip()) for line in lines[1:] if line.strip())
            yield "```text\n" + "\n".join(ln[indent:] for ln in body.splitlines()) + "\n```"
        else:
            yield " ".join(line.strip() for line in lines if line.strip())


def _usage(command: click.Command, ctx: click.Context) -> str:
    pieces = command.collect_usage_pieces(ctx)
    return " ".join([ctx.command_path, *pieces])


def _command_section(command: click.Command, ctx: click.Context, level: str) -> list[str]:
    out = [f"{level} `{ctx.command_path}`", ""]
    out += [*(p + "\n" for p in _paragraphs(command.help or "")), ""]
    out += ["```text", _usage(command, ctx), "```", ""]
    options = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or not isinstance(param, click.Option):
            continue  # arguments are in the usage line and the help text
        names, help_text = record
        help_text = " ".join(help_text.split())
        options.append(f"- `{names}`: {help_text}" if help_text else f"- `{names}`")
    if options:
        out += ["Options:", "", *options, ""]
    return out


def render_reference(group: click.Group, name: str = "pmsync") -> str:
    """The Markdown reference of ``group``: its help, then one section per command."""
    root = click.Context(group, info_name=name, **group.context_settings)
    lines = [*_command_section(group, root, "###")]
    for command_name, command in sorted(group.commands.items()):
        ctx = click.Context(command, info_name=command_name, parent=root)
        lines += _command_section(command, ctx, "###")
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"


def undocumented(group: click.Group) -> list[str]:
    """Commands and options that lack help text, as ``command`` or ``command --option``."""
    missing: list[str] = []
    for command_name, command in sorted(group.commands.items()):
        if not (command.help or "").strip():
            missing.append(command_name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and not param.help:
                missing.append(f"{command_name} {param.opts[0]}")
    return missing


def render_environment(environment: Mapping[str, str]) -> str:
    """A Markdown table of ``environment``: each variable and what it is for."""
    escaped = {name: what.replace("*", r"\*") for name, what in environment.items()}
    rows = [f"| `{name}` | {what} |" for name, what in escaped.items()]  # *.atlassian.net
    return "\n".join(["| variable | what for |", "|---|---|", *rows]) + "\n"


def _replaced(text: str, generated: str) -> str:
    """``text`` with the part between the markers replaced by ``generated``."""
    try:
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing") from None
    return f"{head}{BEGIN}\n\n{generated}\n{END}{tail}"


def refreshed(text: str, group: click.Group) -> str:
    """``text`` (the contents of docs/cli.md) with its generated part rendered afresh."""
    return _replaced(text, render_reference(group))


def refreshed_environment(text: str) -> str:
    """``text`` (the contents of docs/environment.md) with its table rendered afresh."""
    from pmsync._env import ENVIRONMENT  # noqa: PLC0415

    return _replaced(text, render_environment(ENVIRONMENT))


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite docs/cli.md and docs/environment.md (with ``--check``: exit 1 if stale)."""
    from pmsync.cli import main as cli  # noqa: PLC0415  (import cycle)

    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [Path(a) for a in args if a != "--check"] or [
        Path("docs/cli.md"),
        Path("docs/environment.md"),
    ]
    stale = False
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = refreshed_environment(text) if path.name == "environment.md" else refreshed(text, cli)
        if new == text:
            continue
        if check:
            sys.stderr.write(f"{path} is stale: run python -m pmsync._cli_docs\n")
            stale = True
        else:
            path.write_text(new, encoding="utf-8")
            sys.stderr.write(f"updated {path}\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
