"""`leakscan history [REPO|URL]`: every commit reachable from any ref, a branch, or a range for CI; a URL is cloned first."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import click

from ..report import RunInfo
from ..pipeline import ScanReport
from ..sources.git_common import GitRepo, open_repo
from ..sources.git_history import HistoryScan
from ..sources.git_range import CommitStream, Selection, rev_args
from ..sources.git_remote import cloned
from ..sources.remote_url import RemoteUrl, is_remote, parse_remote
from .common import OutputOptions, engine_options, finish, load_spec, output_options
from .git_progress import clone_progress, history_progress


@contextmanager
def _repository(repo: str, *, quiet: bool) -> Iterator[tuple[GitRepo, RemoteUrl | None]]:
    """The repository at a path, or a URL's mirror clone for the length of the block."""
    if not is_remote(repo):
        yield open_repo(repo), None
        return
    remote = parse_remote(repo)
    with ExitStack() as stack:
        with clone_progress(not quiet) as progress:
            git_repo = stack.enter_context(cloned(remote, progress))
        yield git_repo, remote


@click.command()
@click.argument("repo", default=".", metavar="[REPO|URL]", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--since", "since", metavar="REV", help="Only commits after REV, up to HEAD (or --branch).")
@click.option("--range", "rev_range", metavar="A..B", help="Only commits reachable from B and not from A.")
@click.option("--since-date", metavar="DATE", help="Only commits committed at or after DATE (git date syntax).")
@click.option("--branch", metavar="REF", help="Only the history of this ref (default: every ref).")
@click.option("--stashes/--no-stashes", default=True, show_default=True,
              help="With every ref: include stashes (refs/stash and its reflog).")
@click.option("--allow-shallow", is_flag=True,
              help="In a shallow clone, warn instead of failing when the scan reaches the boundary.")
@engine_options
@output_options
def history(repo: str, since: str | None, rev_range: str | None, since_date: str | None, branch: str | None,
            stashes: bool, allow_shallow: bool, out: OutputOptions, jobs: int, max_file_size: int) -> None:
    """Scan git history: each leak once per path, at the commit that introduced it.

    Commit and tag messages are scanned too. Submodules are not followed (a warning names them).
    A shallow clone whose boundary the scan reaches fails with exit code 3 unless --allow-shallow.
    A URL (https://, ssh://, git@host:path, file://) is cloned as a bare mirror into a temporary
    directory, scanned, and removed; credentials in it are never shown.
    """
    started = time.monotonic()
    with _repository(repo, quiet=out.quiet) as (git_repo, remote):
        selection = Selection(since=since, range=rev_range, since_date=since_date, branch=branch, stashes=stashes,
                              allow_shallow=allow_shallow)
        args, warnings = rev_args(git_repo, selection)  # unknown revisions: exit 2 before anything runs
        with CommitStream(git_repo, args, warnings, allow_shallow=allow_shallow) as commits:  # walks meanwhile
            # A remote's project is the URL's: no project files (the clone has no work tree), --config applies.
            spec = load_spec(repo if remote else git_repo.work_tree or git_repo.git_dir)
            with history_progress(not out.quiet) as progress:
                scan = HistoryScan(git_repo, commits, spec, jobs=jobs, max_file_size=max_file_size,
                                   progress=progress, tags=selection.full)
                result = scan.run()
        report = ScanReport(findings=result.findings, notes=result.notes, duration=time.monotonic() - started)
        report.notes.warnings[:0] = list(scan.resolved.warnings)
        info = RunInfo(command="history", commits_scanned=result.commits, root=remote.uri if remote else repo)
        finish(report, spec, out, info)
