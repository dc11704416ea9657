"""A rich progress bar on stderr for history scans: commits, blobs, bytes and rate (terminals only)."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def history_progress(enabled: bool) -> Iterator[Callable[[int, int, int, int], None] | None]:
    """Yield an update callback, or None when stderr is not a terminal or progress is off (--quiet)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]history"),
        BarColumn(),
        TextColumn("{task.fields[commits]} commits  {task.completed:.0f}/{task.total:.0f} blobs"),
        TextColumn("{task.fields[mb]:.0f} MB  {task.fields[rate]:.0f} MB/s"),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = progress.add_task("history", total=None, commits=0, mb=0.0, rate=0.0)

    def update(commits: int, blobs_done: int, blobs_listed: int, bytes_done: int) -> None:
        elapsed = progress.tasks[0].elapsed or 1e-9
        mb = bytes_done / 1e6
        progress.update(task, completed=blobs_done, total=max(blobs_listed, 1), commits=commits, mb=mb,
                        rate=mb / elapsed)

    with progress:
        yield update
