"""`leakscan ci` (GitHub Actions: the event's commit range) and `leakscan pre-push` (pre-commit's pre-push hook)."""
from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from .. import ci_range, pipeline
from ..engine import EngineSpec
from ..errors import UsageError
from ..model import Finding, Kind
from ..pipeline import ScanReport
from ..report import RunInfo
from ..report import summary as summary_report
from ..sources import Notes
from ..sources.filesystem import walk
from ..sources.git_common import GitRepo, open_repo
from ..sources.git_history import HistoryScan
from ..sources.git_range import Resolved, Selection, list_commits, resolve_args
from .common import OutputOptions, engine_options, finish, load_spec, output_options
from .hooks import hook_hint

_SHA = re.compile(r"^\^?[0-9a-f]{40}$")
ZERO = "0" * 40


def _rev_list_args(revs: Sequence[str]) -> list[str]:
    """ScanPlan revs to rev-list arguments, accepting only object ids and the one option the plan uses."""
    args: list[str] = []
    for rev in revs:
        if rev == "--no-walk":
            args.append(rev)
        elif ".." in rev:
            lo, hi = rev.split("..", 1)
            args += _rev_list_args([hi, f"^{lo}"])
        elif _SHA.match(rev):
            args.append(rev)
        else:
            raise UsageError(f"not a commit id: {rev!r}")
    return args


def _scan_history(git_repo: GitRepo, resolved: Resolved, out: OutputOptions, jobs: int, max_file_size: int,
                  *, full: bool) -> tuple[ScanReport, RunInfo, EngineSpec]:
    spec = load_spec(git_repo.work_tree or git_repo.git_dir)
    started = time.monotonic()
    result = HistoryScan(git_repo, resolved, spec, jobs=jobs, max_file_size=max_file_size, tags=full).run()
    report = ScanReport(findings=result.findings, notes=result.notes, duration=time.monotonic() - started)
    report.notes.warnings[:0] = list(resolved.warnings)
    return report, RunInfo(command="history", commits_scanned=result.commits), spec


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


@click.command()
@click.argument("repo", default=".", type=click.Path(file_okay=False, dir_okay=True))
@click.option("--mode", type=click.Choice(["auto", "history", "range", "dir"]), default="auto", show_default=True,
              help="auto: the commits of the GitHub event (push range, pull-request range, full history on "
                   "schedule); history: every commit; range: --range; dir: the working tree.")
@click.option("--range", "rev_range", default="", metavar="A..B", help="The range for --mode range.")
@click.option("--summary", "summary_file", default="", metavar="FILE",
              help="Append a Markdown summary (no secrets) here, e.g. $GITHUB_STEP_SUMMARY.")
@click.option("--github-output", default="", metavar="FILE", help="Append step outputs here ($GITHUB_OUTPUT).")
@engine_options
@output_options
def ci(repo: str, mode: str, rev_range: str, summary_file: str, github_output: str, out: OutputOptions, jobs: int,
       max_file_size: int) -> None:
    """Scan what a CI run should scan, from the GitHub Actions event (GITHUB_EVENT_NAME/GITHUB_EVENT_PATH).

    A shallow checkout that lacks the commits fails (exit 3) and says to use fetch-depth: 0: it never
    passes silently.
    """
    reason = ""
    if mode == "dir":
        spec = load_spec(repo)
        notes = Notes()
        items = list(walk([repo], notes, max_file_size=max_file_size, archive_depth=spec.archive_depth))
        report = pipeline.run(spec, items, jobs=jobs)
        report.notes.merge(notes)
        info = RunInfo(command="scan", root=repo)
        reason = "the working tree"
    else:
        git_repo = open_repo(repo)
        if mode == "range":
            if not rev_range:
                raise UsageError("--mode range needs --range A..B")
            resolved, full, reason = list_commits(git_repo, Selection(range=rev_range)), False, f"range {rev_range}"
        elif mode == "history":
            resolved, full, reason = list_commits(git_repo, Selection()), True, "full history"
        else:
            event, payload = ci_range.load_event()
            plan = ci_range.plan(Path(git_repo.work_tree or git_repo.git_dir), event, payload)
            reason = plan.reason
            full = plan.full
            if plan.full:
                resolved = list_commits(git_repo, Selection())
            elif plan.revs:
                resolved = resolve_args(git_repo, _rev_list_args(plan.revs), hint=ci_range.SHALLOW_HINT)
            else:
                resolved = Resolved(args=(), commits=())
        click.echo(f"leakscan: scanning {reason} ({len(resolved.commits)} commits)", err=True)
        report, info, spec = _scan_history(git_repo, resolved, out, jobs, max_file_size, full=full)
    info = dataclasses.replace(info, root=repo)

    def after(findings: Sequence[Finding], final: RunInfo) -> None:
        _append(summary_file, summary_report.render(findings, final, reason=reason))
        secrets = sum(f.kind is Kind.SECRET for f in findings)  # identifiers never fail a job: counted apart
        identifiers = len(findings) - secrets
        _append(github_output, f"findings={secrets}\nidentifiers={identifiers}\nsarif-file={out.output or ''}\n")
        click.echo(f"leakscan: {secrets} finding{'s' if secrets != 1 else ''}"
                   + (f", {identifiers} identifier{'s' if identifiers != 1 else ''}" if identifiers else ""), err=True)

    finish(report, spec, out, info, after=after)


def push_revs(env: dict[str, str] | None = None, stdin_lines: Sequence[str] = ()) -> list[str]:
    """rev-list arguments for the commits a push sends, from pre-commit's environment or git's hook input."""
    env = dict(os.environ) if env is None else env
    pairs: list[tuple[str, str]] = []
    to_ref, from_ref = env.get("PRE_COMMIT_TO_REF", ""), env.get("PRE_COMMIT_FROM_REF", "")
    if to_ref:
        pairs.append((from_ref, to_ref))
    for line in stdin_lines:  # git's own pre-push input: <local ref> <local sha> <remote ref> <remote sha>
        parts = line.split()
        if len(parts) == 4:
            pairs.append((parts[3], parts[1]))
    args: list[str] = []
    for remote, local in pairs:
        if local == ZERO:
            continue  # deleting a remote branch sends nothing
        if not remote or remote == ZERO:
            args += [local, "--not", "--remotes"]  # a new branch: what no remote has yet
        else:
            args += [local, f"^{remote}"]
    return args


@click.command("pre-push")
@click.argument("repo", default=".", type=click.Path(file_okay=False, dir_okay=True))
@engine_options
@output_options
def pre_push(repo: str, out: OutputOptions, jobs: int, max_file_size: int) -> None:
    """Scan the commits about to be pushed (pre-commit's pre-push stage, or a plain git pre-push hook)."""
    git_repo = open_repo(repo)
    from_env = bool(os.environ.get("PRE_COMMIT_TO_REF"))
    lines = [] if from_env or sys.stdin is None or sys.stdin.isatty() else sys.stdin.read().splitlines()
    args = push_revs(stdin_lines=lines)
    for arg in args:  # pre-commit and git pass commit ids; anything else is refused, never passed to git
        if arg not in ("--not", "--remotes") and not _SHA.match(arg):
            raise UsageError(f"not a commit id: {arg.lstrip('^')!r}")
    resolved = resolve_args(git_repo, args) if args else Resolved(args=(), commits=())
    if not args:
        click.echo("leakscan: nothing to push to scan (set PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF)", err=True)
    report, info, spec = _scan_history(git_repo, resolved, out, jobs, max_file_size, full=False)
    hook_out = dataclasses.replace(out, redact=True, quiet=True)
    finish(report, spec, hook_out, dataclasses.replace(info, root=repo),
           after=hook_hint("push", "leakscan-push", "push"))
