"""`leakscan ignore add` and `leakscan baseline create|update`."""
from __future__ import annotations

from pathlib import Path

import click

from .. import ignorefile
from ..config import find_project_file
from ..errors import UsageError
from .project import BASELINE_MODE


@click.group("ignore")
def ignore_group() -> None:
    """Manage the .leakscanignore file."""


@ignore_group.command("add")
@click.argument("fingerprint", required=False)
@click.option("--at", "location", metavar="FILE:LINE",
              help="Instead of a FINGERPRINT: ignore every finding on this line of this file.")
@click.option("--reason", required=True, help="Why this finding is not a leak (kept as a comment).")
@click.option("--path", "path_glob", default="", help="Tie the entry to this path glob (default: any path).")
@click.option("--file", "ignore_file", type=click.Path(dir_okay=False),
              help="Ignore file (default: the project's .leakscanignore, created in the current directory).")
def ignore_add(fingerprint: str | None, location: str | None, reason: str, path_glob: str,
               ignore_file: str | None) -> None:
    """Ignore a finding by its FINGERPRINT (the report's fingerprint field), or by --at FILE:LINE."""
    if (fingerprint is None) == (location is None):
        raise UsageError("give either a FINGERPRINT or --at FILE:LINE")
    if any(c.isspace() or c == "#" for c in path_glob):
        raise UsageError("--path must not contain spaces or '#'")
    reason = " ".join(reason.split())
    if location is not None:
        found = _fingerprints_at(location)
    else:
        fingerprint = fingerprint.strip().lower() if fingerprint else ""
        if not ignorefile.FINGERPRINT.match(fingerprint):
            raise UsageError("not a leakscan fingerprint (32 hex digits, as in the report's fingerprint field)")
        found = [(fingerprint, "")]
    target = ignore_file or str(find_project_file(".", (ignorefile.IGNORE_NAME,)) or ignorefile.IGNORE_NAME)
    entries = [ignorefile.IgnoreEntry(fp, path_glob, reason + (f" ({rule_id})" if rule_id else ""))
               for fp, rule_id in found]
    ignorefile.append_entries(target, entries)
    for entry in entries:
        click.echo(f"{target}: added {entry.render()}", err=True)


def _fingerprints_at(location: str) -> list[tuple[str, str]]:
    """(fingerprint, rule id) of every finding on FILE:LINE, found with the project's rules."""
    path, _, line_text = location.rpartition(":")
    if not path or not line_text.isdigit():
        raise UsageError("--at takes FILE:LINE")
    from ..migrate.suppressions import file_findings
    from .migrate_cmd import migration_engine

    findings = file_findings(migration_engine(Path("."), None), Path(path))
    if findings is None:
        raise UsageError(f"{path}: cannot be read")
    line = int(line_text)
    hits = sorted({(f.fingerprint, f.rule_id) for f in findings if f.line <= line <= f.end_line})
    if not hits:
        raise UsageError(f"{path}:{line}: no finding on that line")
    return hits


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
