"""`leakscan scan PATH...`: working trees, files and standard input."""
from __future__ import annotations

import sys

import click

from .. import pipeline
from ..ruleset import build_spec, default_rules
from ..sources import Notes, WorkItem
from ..sources.filesystem import StdinItem, walk
from ..report import RunInfo
from .common import OutputOptions, engine_options, exit_status, filter_findings, output_options, report_notes, write_report
from ..errors import SourceError


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
    spec = build_spec(default_rules())
    notes = Notes()
    items: list[WorkItem] = []
    for p in paths:
        if p == "-":
            items.append(StdinItem(sys.stdin.buffer.read()))
    fs_paths = [p for p in paths if p != "-"]
    items.extend(walk(fs_paths, notes, max_file_size=max_file_size, follow_symlinks=follow_symlinks,
                      scan_binaries=scan_binaries))
    if notes.errors and not items:
        raise SourceError(notes.errors[0])
    report = pipeline.run(spec, items, jobs=jobs)
    report.notes.merge(notes)
    findings = filter_findings(report.findings, out)
    info = RunInfo(
        command="scan",
        files_scanned=report.notes.files_scanned,
        bytes_scanned=report.notes.bytes_scanned,
        duration=report.duration,
        skipped=tuple(report.notes.skipped),
        warnings=tuple(report.notes.errors + report.notes.warnings),
        rules=spec.rules,
    )
    write_report(findings, info, out)
    report_notes(info, out, report.partial)
    sys.exit(exit_status(findings, out))
