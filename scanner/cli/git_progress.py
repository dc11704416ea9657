"""Progress on stderr for history scans (terminals only): the clone of a remote, then commits, changes, MB, MB/s."""
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
        TextColumn("{task.fields[commits]} commits  {task.fields[done]}/{task.fields[listed]} changes"),
        TextColumn("{task.fields[mb]:.0f} MB  {task.fields[rate]:.0f} MB/s"),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = progress.add_task("history", total=None, commits=0, done=0, listed=0, mb=0.0, rate=0.0)

    def update(commits: int, blobs_done: int, blobs_listed: int, bytes_done: int) -> None:
        elapsed = progress.tasks[0].elapsed or 1e-9
        mb = bytes_done / 1e6
        progress.update(task, completed=blobs_done, total=max(blobs_listed, blobs_done, 1), commits=commits,
                        done=blobs_done, listed=blobs_listed, mb=mb, rate=mb / elapsed)

    with progress:
        yield update


@contextmanager
def clone_progress(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """Yield a callback showing git's latest clone progress line, or None (not a terminal, --quiet)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    with Console(file=sys.stderr).status("clone") as status:
        yield lambda line: status.update(Text(f"clone: {line}", no_wrap=True, overflow="ellipsis"))
