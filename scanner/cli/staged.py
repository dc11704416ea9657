"""`leakscan staged [REPO]`: the pre-commit scan of what the index adds compared with HEAD."""
from __future__ import annotations

import dataclasses
import os

import click

from .. import pipeline
from ..errors import UsageError
from ..report import RunInfo
from ..sources import Notes
from ..sources.git_common import open_repo
from ..sources.git_staged import added_lines, on_added_lines, staged_diff
from ..sources.staged_archives import staged_archives
from .common import OutputOptions, engine_options, finish, load_spec, output_options
from .hooks import hook_hint


@click.command()
@click.argument("repo", default=".", type=click.Path(file_okay=False, dir_okay=True))
@engine_options
@output_options
def staged(repo: str, out: OutputOptions, jobs: int, max_file_size: int) -> None:
    """Scan staged changes: only lines the index adds; unstaged edits and deleted lines are ignored."""
    git_repo = open_repo(repo)
    if git_repo.bare:
        raise UsageError(f"{repo}: a bare repository has no index to scan")
    notes = Notes()
    items = added_lines(staged_diff(git_repo), notes)
    spec = load_spec(git_repo.work_tree or repo)
    report = pipeline.run(spec, items, jobs=jobs)
    report.findings = on_added_lines(report.findings, items)
    report.findings += staged_archives(git_repo, spec, notes, max_file_size, {item.path for item in items})
    report.notes.merge(notes)
    hook = bool(os.environ.get("PRE_COMMIT"))  # run by pre-commit: a short, redacted report and the way out
    if hook:
        out = dataclasses.replace(out, redact=True)
    finish(report, spec, out, RunInfo(command="staged", root=repo),
           after=hook_hint("commit", "leakscan", "commit") if hook else None)
