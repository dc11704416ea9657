"""`leakscan ignore add` and `leakscan baseline create|update`."""
from __future__ import annotations

import click

from .. import ignorefile
from ..config import find_project_file
from ..errors import UsageError
from .project import BASELINE_MODE


@click.group("ignore")
def ignore_group() -> None:
    """Manage the .leakscanignore file."""


@ignore_group.command("add")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why this finding is not a leak (kept as a comment).")
@click.option("--path", "path_glob", default="", help="Tie the entry to this path glob (default: any path).")
@click.option("--file", "ignore_file", type=click.Path(dir_okay=False),
              help="Ignore file (default: the project's .leakscanignore, created in the current directory).")
def ignore_add(fingerprint: str, reason: str, path_glob: str, ignore_file: str | None) -> None:
    """Ignore a finding by its FINGERPRINT (the report's fingerprint field)."""
    fingerprint = fingerprint.strip().lower()
    if not ignorefile.FINGERPRINT.match(fingerprint):
        raise UsageError("not a leakscan fingerprint (32 hex digits, as in the report's fingerprint field)")
    if any(c.isspace() or c == "#" for c in path_glob):
        raise UsageError("--path must not contain spaces or '#'")
    reason = " ".join(reason.split())
    target = ignore_file or str(find_project_file(".", (ignorefile.IGNORE_NAME,)) or ignorefile.IGNORE_NAME)
    entry = ignorefile.IgnoreEntry(fingerprint, path_glob, reason)
    ignorefile.append_entries(target, [entry])
    click.echo(f"{target}: added {entry.render()}", err=True)


@click.group("baseline")
def baseline_group() -> None:
    """Accept the current findings, so later scans report only new ones."""


def _run_scan(ctx: click.Context, mode: tuple[str, str], path: str, history: bool, config_file: str | None) -> None:
    name = "history" if history else "scan"
    root = ctx.find_root()
    command = root.command.get_command(root, name) if isinstance(root.command, click.Group) else None
    if command is None:
        raise UsageError(f"`leakscan {name}` is not available in this build")
    ctx.meta[BASELINE_MODE] = mode
    argv = [path, "--quiet"] + (["--config", config_file] if config_file else [])
    with command.make_context(name, argv, parent=ctx) as sub:
        command.invoke(sub)


@baseline_group.command("create")
@click.argument("path", default=".", type=click.Path())
@click.option("--output", "-o", default=".leakscan-baseline.json", show_default=True,
              type=click.Path(dir_okay=False), help="Baseline file to write.")
@click.option("--history", is_flag=True, help="Scan the repository's git history instead of the working tree.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file.")
@click.pass_context
def baseline_create(ctx: click.Context, path: str, output: str, history: bool, config_file: str | None) -> None:
    """Scan PATH and write every finding to a baseline (sorted, no line numbers, no secrets)."""
    _run_scan(ctx, ("create", output), path, history, config_file)


@baseline_group.command("update")
@click.argument("path", default=".", type=click.Path())
@click.option("--baseline", "-b", "baseline_file", default=".leakscan-baseline.json", show_default=True,
              type=click.Path(dir_okay=False), help="Baseline file to prune.")
@click.option("--history", is_flag=True, help="Scan the repository's git history instead of the working tree.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file.")
@click.pass_context
def baseline_update(ctx: click.Context, path: str, baseline_file: str, history: bool,
                    config_file: str | None) -> None:
    """Scan PATH and drop baseline entries that no longer match any finding."""
    _run_scan(ctx, ("update", baseline_file), path, history, config_file)
