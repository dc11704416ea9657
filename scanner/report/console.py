"""The human view: findings grouped by file (or commit), then a summary table. Built with rich."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import Finding
from . import REDACTED, RunInfo, mask, sorted_findings

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render(
    findings: Sequence[Finding],
    info: RunInfo,
    console: Console,
    *,
    show_secrets: bool = False,
    redacted: bool = False,
) -> None:
    ordered = sorted_findings(findings)
    by_commit = info.command == "history"
    key = (lambda f: f.commit.sha if f.commit else "") if by_commit else (lambda f: f.path)
    if by_commit:
        ordered.sort(key=lambda f: (f.commit.date if f.commit else "", key(f), f.path, f.line))
    for group, items in groupby(ordered, key=key):
        group_items = list(items)
        if by_commit and group_items[0].commit is not None:
            c = group_items[0].commit
            console.print(Text(f"commit {c.sha[:12]}  {c.author} <{c.email}>  {c.date}", style="bold"))
            console.print(Text(f"  {c.message}", style="dim"))
        else:
            console.print(Text(group or "-", style="bold underline"))
        for f in group_items:
            _finding(console, f, show_secrets=show_secrets and not redacted, redacted=redacted, with_path=by_commit)
        console.print()
    _summary(console, findings, info)


def _finding(console: Console, f: Finding, *, show_secrets: bool, redacted: bool, with_path: bool) -> None:
    style = _SEVERITY_STYLE.get(f.severity.value, "")
    shown = f.secret if show_secrets else (REDACTED if redacted else mask(f.secret))
    head = Text("  ")
    head.append(f"{f.severity.value.upper():8}", style=style)
    head.append(f" {f.rule_id}", style="bold")
    head.append(f"  {f.description}")
    console.print(head)
    where = f"{f.path}:{f.line}:{f.column}" if with_path else f"line {f.line}, column {f.column}"
    console.print(Text(f"    {where}   secret {shown}   confidence {f.confidence.value}"))
    if f.line_text:
        line = f.line_text if show_secrets else f.line_text.replace(f.secret, shown)
        text = Text("    > ")
        body = Text(line.strip()[:200])
        idx = body.plain.find(shown)
        if idx >= 0:
            body.stylize("reverse", idx, idx + len(shown))
        text.append_text(body)
        console.print(text)
    if f.verification is not None:
        v = f.verification
        console.print(Text(f"    verified: {v.verdict.value}" + (f" ({v.reason})" if v.reason else "")))
    if f.remediation:
        console.print(Text(f"    fix: rotate or revoke it, see {f.remediation}", style="dim"))


def _summary(console: Console, findings: Sequence[Finding], info: RunInfo) -> None:
    if findings:
        table = Table(title="Findings by rule", title_justify="left")
        table.add_column("rule")
        table.add_column("severity")
        table.add_column("count", justify="right")
        counts = Counter((f.rule_id, f.severity.value) for f in findings)
        for (rule_id, severity), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(rule_id, Text(severity, style=_SEVERITY_STYLE.get(severity, "")), str(count))
        console.print(table)
    scanned = f"{info.commits_scanned} commits, " if info.command == "history" else ""
    scanned += f"{info.files_scanned} files, {_human_bytes(info.bytes_scanned)}"
    verdict = f"{len(findings)} leak{'s' if len(findings) != 1 else ''} found" if findings else "no leaks found"
    console.print(Text(f"{verdict}; scanned {scanned} in {info.duration:.2f}s", style="bold"))
    if info.skipped:
        console.print(Text(f"{len(info.skipped)} inputs skipped (use -v to list them)", style="dim"))


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover
