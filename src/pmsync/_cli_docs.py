"""The command-line reference in docs/cli.md, generated from the click commands themselves.

docs/cli.md has a hand-written introduction and a generated part between two markers.
``python -m pmsync._cli_docs`` rewrites the generated part; ``--check`` exits 1 when the
file is stale, and a test does the same, so the reference can never drift from the CLI.
Pure apart from :func:`main`: rendering reads only the click objects.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

__all__ = ["BEGIN", "END", "refreshed", "render_reference", "undocumented"]

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


def refreshed(text: str, group: click.Group) -> str:
    """``text`` (the contents of docs/cli.md) with its generated part rendered afresh."""
    try:
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing") from None
    return f"{head}{BEGIN}\n\n{render_reference(group)}\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite docs/cli.md (or, with ``--check``, exit 1 if it is stale)."""
    from pmsync.cli import main as cli  # noqa: PLC0415  (import cycle)

    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    path = Path(paths[0] if paths else "docs/cli.md")
    text = path.read_text(encoding="utf-8")
    new = refreshed(text, cli)
    if new == text:
        return 0
    if check:
        sys.stderr.write(f"{path} is stale: run python -m pmsync._cli_docs\n")
        return 1
    path.write_text(new, encoding="utf-8")
    sys.stderr.write(f"updated {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
