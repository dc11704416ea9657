"""Options every scan command shares, and the tail every scan command runs: filter, report, exit."""
from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import click

from ..engine import EngineSpec
from ..errors import EXIT_CLEAN, EXIT_FINDINGS, LeakscanError, SourceError
from ..model import Confidence, Finding, Kind
from ..pipeline import ScanReport
from ..sources.archives import DEFAULT_DEPTH as DEFAULT_ARCHIVE_DEPTH
from ..report import RunInfo
from . import project as project_mod
from .verifying import check_verify_usage, failing, verify_options, verify_step

DEFAULT_DECODE_DEPTH = 2
_DECODE_DEPTH = "leakscan.decode_depth"
_ARCHIVE_DEPTH = "leakscan.max_archive_depth"
FORMATS = ("console", "json", "jsonl", "sarif")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'1048576', '500KB', '10MB', '1GB' -> bytes (powers of 1024)."""
    m = _SIZE.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a size (examples: 1000000, 500KB, 10MB, 1GB)")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


if TYPE_CHECKING:
    _IntParam = click.ParamType[int, Any]
else:  # click.ParamType is generic only in recent releases: never subscript it at run time
    _IntParam = click.ParamType


class SizeType(_IntParam):
    name = "SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


@dataclass(frozen=True)
class OutputOptions:
    format: str
    output: str | None
    redact: bool
    show_secrets: bool
    exit_code: int
    min_confidence: Confidence
    quiet: bool
    verbose: int
    verify: bool = False
    only_verified: bool = False
    fail_on: str = "any"
    verify_timeout: float = 10.0
    verify_workers: int = 8
    strict: bool = False
    identifiers: bool = True  # report identifier findings (ARNs, bucket names...) in their own section


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Reporting options shared by scan, history and staged."""
    options = [
        click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="console", show_default=True,
                     help="Report format."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
                     help="Write the report to this file (atomically) instead of stdout."),
        click.option("--redact", is_flag=True, help="Remove secrets from every output."),
        click.option("--show-secrets", is_flag=True, help="Show secrets unmasked in the console view."),
        click.option("--exit-code", type=int, default=EXIT_FINDINGS, show_default=True,
                     help="Exit status when leaks are found."),
        click.option("--min-confidence", type=click.Choice([c.value for c in Confidence]), default="low",
                     show_default=True, help="Report only findings at or above this confidence."),
        click.option("--quiet", "-q", is_flag=True, help="No progress and no summary on stderr."),
        click.option("--verbose", "-v", count=True, help="List skipped inputs and warnings on stderr."),
        *verify_options(),
        click.option("--strict", is_flag=True,
                     help="Exit 3 when any input could not be read or was only partially scanned."),
        click.option("--identifiers/--no-identifiers", default=True, show_default=True,
                     help="Report identifiers that are not secrets (ARNs, bucket names, OAuth client ids) in a "
                          "section of their own; they never change the exit status."),
    ]
    for option in reversed(options):
        f = option(f)

    @functools.wraps(f)
    def wrapper(*args: Any, fmt: str, output: str | None, redact: bool, show_secrets: bool, exit_code: int,
                min_confidence: str, quiet: bool, verbose: int, verify: bool, only_verified: bool, fail_on: str,
                verify_timeout: float, verify_workers: int, strict: bool, identifiers: bool, **kwargs: Any) -> Any:
        check_verify_usage(verify, only_verified, fail_on)
        out = OutputOptions(fmt, output, redact, show_secrets, exit_code, Confidence(min_confidence), quiet,
                            verbose, verify, only_verified, fail_on, verify_timeout, verify_workers, strict,
                            identifiers)
        return f(*args, out=out, **kwargs)

    return wrapper


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
                     help="Worker processes (default: one per core)."),
        click.option("--max-file-size", type=SizeType(), default="50MB", show_default=True,
                     help="Skip files larger than this (bytes, or with a KB, MB or GB suffix)."),
        click.option("--decode-depth", type=click.IntRange(0, 8), default=None,
                     help=f"Decode base64, hex and percent-encoded strings and scan what they hold, this many "
                          f"levels deep (default {DEFAULT_DECODE_DEPTH}; 0 turns decoding off)."),
        click.option("--max-archive-depth", type=click.IntRange(0, 8), default=None,
                     help=f"Scan inside zip/jar, tar, gzip, bzip2 and xz archives, archives in them this many levels "
                          f"deep (default {DEFAULT_ARCHIVE_DEPTH}; 0 turns it off)."),
    ]
    for option in reversed(options):
        f = option(f)
    inner = f

    @functools.wraps(inner)
    def wrapper(*args: Any, decode_depth: int | None, max_archive_depth: int | None, **kwargs: Any) -> Any:
        meta = click.get_current_context().meta  # read by load_spec
        meta[_DECODE_DEPTH], meta[_ARCHIVE_DEPTH] = decode_depth, max_archive_depth
        return inner(*args, **kwargs)

    return project_mod.project_options(wrapper)


def filter_findings(findings: Sequence[Finding], out: OutputOptions) -> list[Finding]:
    floor = out.min_confidence.rank
    return [f for f in findings if f.confidence.rank >= floor and (out.identifiers or f.kind is not Kind.IDENTIFIER)]


def render(findings: Sequence[Finding], info: RunInfo, out: OutputOptions, stream: TextIO) -> None:
    if out.format == "json":
        from ..report import json as json_report

        json_report.render(findings, info, stream, redacted=out.redact)
    elif out.format == "jsonl":
        from ..report import json as json_report

        json_report.render_lines(findings, info, stream, redacted=out.redact)
    elif out.format == "sarif":
        from ..report import sarif

        for warning in sarif.render(findings, info, stream, redacted=out.redact):
            click.echo(f"warning: {warning}", err=True)
    else:
        from ..report import plain

        is_file = stream is not sys.stdout
        if not findings and plain.unstyled(stream, is_file=is_file):
            stream.write(plain.clean_report(info))  # what rich would print, without importing it
            return
        from rich.console import Console

        from ..report import console as console_report

        console = Console(file=stream, no_color=is_file or bool(os.environ.get("NO_COLOR")),
                          force_terminal=False if is_file else None, width=120 if is_file else None,
                          highlight=False, soft_wrap=True)
        console_report.render(findings, info, console, show_secrets=out.show_secrets, redacted=out.redact)


def write_report(findings: Sequence[Finding], info: RunInfo, out: OutputOptions) -> None:
    if out.output is None:
        # Paths with bytes that are not UTF-8 (held as surrogate escapes) come out as \udcXX, which
        # is also their JSON escape: lossless, and never a crash (see README, Limits and guarantees).
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
        render(findings, info, out, sys.stdout)
        sys.stdout.flush()
        return
    from ..outfile import write_text  # only with --output

    write_text(out.output, lambda fh: render(findings, info, out, fh))


def report_notes(info: RunInfo, out: OutputOptions, partial: Sequence[tuple[str, str]] = ()) -> None:
    """Warnings on stderr. Paths and reasons only: never a secret."""
    if out.verbose:
        for path, reason in info.skipped:
            click.echo(f"skipped: {path}: {reason}", err=True)
    for warning in info.warnings:
        click.echo(f"warning: {warning}", err=True)
    for path, rule_id in partial:
        click.echo(f"warning: {path}: partially scanned, rule {rule_id} hit its time limit", err=True)


def exit_status(findings: Sequence[Finding], out: OutputOptions) -> int:
    """Only secrets fail a scan: identifiers are there to be read, not to block a commit or a build."""
    secrets = [f for f in findings if f.kind is Kind.SECRET]
    return out.exit_code if failing(secrets, out.fail_on) else EXIT_CLEAN


def load_spec(root: str, **options: Any) -> EngineSpec:
    """The rule set for a scan rooted at ``root``: built-in rules with the project's config applied."""
    project = project_mod.current_project(root)
    ctx = click.get_current_context(silent=True)
    depth = ctx.meta.get(_DECODE_DEPTH) if ctx is not None else None
    if depth is None:  # the command line wins over the config file, which wins over the default
        depth = project.config.options.decode_depth
    options.setdefault("decode_depth", DEFAULT_DECODE_DEPTH if depth is None else depth)
    archives = ctx.meta.get(_ARCHIVE_DEPTH) if ctx is not None else None  # the config filled it in if unset
    spec = project_mod.spec_for(project, **options)
    return dataclasses.replace(spec, archive_depth=DEFAULT_ARCHIVE_DEPTH if archives is None else archives)


def finish(report: ScanReport, spec: EngineSpec, out: OutputOptions, info: RunInfo,
           after: Callable[[Sequence[Finding], RunInfo], None] | None = None) -> None:
    """The tail every scan command shares: filter, suppress, report, warn, exit. Never returns.

    ``after`` sees the reported findings last (CI summaries, hook hints); it must not print secrets.
    """
    findings = filter_findings(report.findings, out)
    project = project_mod.active_project()
    suppressed = None
    if project is not None:  # before verification: ignored findings are never sent anywhere
        mode = project_mod.baseline_mode()
        suppressed = project_mod.suppress(findings, project, use_baseline=mode is None, spec=spec,
                                          scanned=report.findings)
        findings = suppressed.findings
        if mode is not None:
            project_mod.write_baseline(findings, project, mode, scanned=report.findings)
            sys.exit(EXIT_CLEAN)
    if out.verify:  # after suppression: ignored findings are never sent anywhere
        findings = verify_step(findings, spec, timeout=out.verify_timeout, workers=out.verify_workers,
                               quiet=out.quiet, only_verified=out.only_verified)
    info = dataclasses.replace(
        info,
        files_scanned=info.files_scanned or report.notes.files_scanned,
        bytes_scanned=info.bytes_scanned or report.notes.bytes_scanned,
        duration=info.duration or report.duration,
        skipped=info.skipped + tuple(report.notes.skipped),
        warnings=info.warnings + tuple(report.notes.errors + report.notes.warnings),
        rules=spec.rules,
    )
    write_report(findings, info, out)
    report_notes(info, out, report.partial)
    if suppressed is not None and project is not None:
        project_mod.report_suppression(suppressed, project, out.verbose)
    if after is not None:
        after(findings, info)
    incomplete = len(report.notes.errors) + len({path for path, _rule in report.partial})
    if out.strict and incomplete:
        raise SourceError(f"--strict: {incomplete} input(s) could not be scanned completely (see warnings)")
    sys.exit(exit_status(findings, out))
