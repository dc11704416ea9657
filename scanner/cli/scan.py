"""`leakscan scan PATH...`: working trees, files and standard input."""
from __future__ import annotations

import itertools
import os
import sys

import click

from .. import pipeline
from ..errors import SourceError
from ..report import RunInfo
from ..sources import Notes, WorkItem
from ..sources.archives import ArchiveOptions
from ..sources.filesystem import StdinItem, walk
from ..sources.roots import scan_root
from .common import OutputOptions, engine_options, finish, load_spec, output_options


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@engine_options
@output_options
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (off: links are skipped).")
@click.option("--scan-binaries", is_flag=True, help="Scan printable strings of binary files with provider rules.")
def scan(paths: tuple[str, ...], out: OutputOptions, jobs: int, max_file_size: int, follow_symlinks: bool,
         scan_binaries: bool) -> None:
    """Scan files and directories (default: the current directory). '-' reads standard input."""
    paths = paths or (".",)
    fs_paths = [p for p in paths if p != "-"]
    spec = load_spec(fs_paths[0] if fs_paths else ".")
    notes = Notes()
    archives = ArchiveOptions(spec.archive_depth, scan_binaries, max_file_size)
    stdin: list[WorkItem] = [StdinItem(sys.stdin.buffer.read(), archives)] if "-" in paths else []
    files = walk(fs_paths, notes, max_file_size=max_file_size, follow_symlinks=follow_symlinks,
                 scan_binaries=scan_binaries, archive_depth=spec.archive_depth)
    if fs_paths and not stdin and not any(os.path.lexists(p) for p in fs_paths):
        for _ in files:  # nothing to scan: the walk notes why
            pass
        raise SourceError(notes.errors[0])
    # A stream, not a list: workers start on the first files while the walk lists the rest.
    report = pipeline.run(spec, itertools.chain(stdin, files), jobs=jobs)
    report.notes.merge(notes)
    finish(report, spec, out, RunInfo(command="scan", root=scan_root(fs_paths)))
