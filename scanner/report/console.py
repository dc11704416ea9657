"""The human view: findings grouped by file (or commit), then a summary table. Built with rich."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import Finding, Kind, Severity, Verdict
from . import REDACTED, RunInfo, mask, remediation_uri, sorted_findings
from .plain import skipped_line, verdict_line
from .scrub import Scrubber

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_LINE_WIDTH = 160  # longer lines (minified code) are cut to a window around the match
_CONTEXT = 40  # characters kept before the match when a line is cut
_BATCH = 500  # lines per print


def render(
    findings: Sequence[Finding],
    info: RunInfo,
    console: Console,
    *,
    show_secrets: bool = False,
    redacted: bool = False,
) -> None:
    """Print findings grouped by file (or by commit for history), then the summary.

    Secrets are masked unless ``show_secrets``; ``redacted`` wins over it and removes them entirely.
    Every secret of the run is hidden in every line shown, not only the finding's own.
    """
    show = show_secrets and not redacted

    def hide(secret: str) -> str:
        return secret if show else (REDACTED if redacted else mask(secret))

    hide_in = Scrubber(_values(findings), hide)
    # An identifier is shown in full, but a secret inside it (an ARN ending in a token) is not.
    secrets_in = Scrubber(_values(f for f in findings if f.kind is Kind.SECRET), hide)

    identifiers = [f for f in findings if f.kind is Kind.IDENTIFIER]
    every = findings
    findings = [f for f in findings if f.kind is not Kind.IDENTIFIER]
    by_commit = info.command == "history" or any(f.commit is not None for f in every)
    ordered = sorted_findings(findings)
    if by_commit:
        ordered.sort(key=lambda f: (f.commit.date if f.commit else "", f.commit.sha if f.commit else "", f.path,
                                    f.line, f.column, f.rule_id))
    key: Callable[[Finding], str] = (lambda f: f.commit.sha if f.commit else "") if by_commit else (lambda f: f.path)
    plain = not console.is_terminal or console.no_color
    lines: list[Text] = []
    for _group, items in groupby(ordered, key=key):
        group_items = list(items)
        lines += _header(group_items[0], by_commit, hide_in)
        for f in group_items:
            lines += _finding(f, hide, hide_in, plain=plain)
        lines.append(Text())
        if len(lines) >= _BATCH:
            _flush(console, lines)
    _flush(console, lines)
    _identifiers(console, identifiers, secrets_in, redacted=redacted)
    _summary(console, findings, info, identifiers=len(identifiers))


def _values(findings: Iterable[Finding]) -> Iterator[str]:
    """The findings' secrets and their companions' (the other parts of a multi-part credential)."""
    for f in findings:
        yield f.secret
        yield from (secret for _, secret in f.related)


def _identifiers(console: Console, identifiers: Sequence[Finding], secrets_in: Callable[[str], str], *,
                 redacted: bool) -> None:
    """One line each, after the secrets: names of the owner's resources, shown in full (they grant
    nothing) unless --redact. Nothing to rotate, so no fix line."""
    if not identifiers:
        return
    lines = [Text(f"identifiers, not secrets ({len(identifiers)})", style="bold")]
    for f in sorted_findings(identifiers):
        commit = f"  commit {f.commit.sha[:12]}" if f.commit is not None else ""
        value = REDACTED if redacted else secrets_in(f.secret.split("\n", 1)[0])
        line = Text(f"  {f.path}:{f.line}:{f.column}  ", style="dim")
        line.append(f.rule_id)
        line.append(f"  {value}{commit}")
        lines.append(line)
    lines.append(Text())
    _flush(console, lines)


def _flush(console: Console, lines: list[Text]) -> None:
    # One print per batch of lines, not per line: each print costs rich a layout pass.
    if lines:
        console.print(Text("\n").join(lines))
        lines.clear()


def _header(first: Finding, by_commit: bool, hide_in: Callable[[str], str]) -> list[Text]:
    c = first.commit
    if by_commit and c is not None:
        who = f"  {c.author} <{c.email}>" if c.author or c.email else ""
        lines = [Text(f"commit {c.sha[:12]}{who}  {c.date}".rstrip(), style="bold")]
        if c.message:
            lines.append(Text(f"    {hide_in(c.message)}", style="dim"))  # a secret may be in the message
        return lines
    return [Text(first.path or "-", style="bold underline")]


def _finding(f: Finding, hide: Callable[[str], str], hide_in: Callable[[str], str], *, plain: bool) -> list[Text]:
    style = _SEVERITY_STYLE.get(f.severity.value, "")
    head = Text("  ")
    head.append(f"{f.severity.value.upper():8}", style=style)
    head.append(f" {f.rule_id}", style="bold")
    head.append(f"  {f.description}")
    decoded = f"   found {f.decoded}-encoded" if f.decoded else ""
    lines = [head, Text(f"    at {f.path}:{f.line}:{f.column}   secret {hide(f.secret)}{decoded}"
                        f"   confidence {f.confidence.value}")]
    if f.line_text:
        lines += _matched_line(f, hide, hide_in, plain=plain)
    if f.verification is not None:
        v = f.verification
        detail = "; ".join(part for part in (v.reason, v.identity) if part)
        lines.append(Text(f"    verified: {v.verdict.value}" + (f" ({detail})" if detail else ""),
                          style="bold red" if v.verdict is Verdict.VALID else ""))
    lines.append(Text(f"    fix: {_fix(f.remediation)}", style="dim"))
    return lines


def _fix(remediation: str) -> str:
    """The provider's revoke page when the rule names one; the rule's own advice when it gives it in words."""
    uri = remediation_uri(remediation)
    if uri:
        return f"revoke or rotate it at {uri}, then remove it from the code"
    if remediation.strip():
        return remediation.strip()
    return "revoke or rotate it with the provider that issued it, then remove it from the code"


def _matched_line(
    f: Finding, hide: Callable[[str], str], hide_in: Callable[[str], str], *, plain: bool
) -> list[Text]:
    """The first matched line, every secret hidden, this finding's secret highlighted (carets when plain).

    A secret found through an encoding (base64) is in the line only in encoded form, which hiding
    cannot see: such a line is shown only with --show-secrets.
    """
    hidden = hide(f.secret) != f.secret
    if f.decoded and hidden:
        return []
    line = f.line_text.rstrip("\r\n")
    head = f.secret.split("\n", 1)[0]  # a multi-line secret starts on this line
    start = f.column - 1  # the line may be an excerpt of a long line: then only a search finds it
    if not (head and line.startswith(head, start) and start >= 0):
        start = line.find(head) if head else -1
    before, after = (line[:start], line[start + len(head):]) if start >= 0 else (line, "")
    shown = (hide(f.secret) if hidden else head) if start >= 0 else ""
    before, after = hide_in(before), hide_in(after)
    indent = len(before) - len(before.lstrip())
    before = before[indent:]
    if len(before) > _CONTEXT and len(before) + len(shown) + len(after) > _LINE_WIDTH:
        before = "…" + before[-_CONTEXT:]
    room = max(_LINE_WIDTH - len(before) - len(shown), 0)
    if len(after) > room:
        after = after[:room] + "…"
    gutter = f"    {f.line} │ "
    text = Text()
    text.append(gutter, style="dim")
    text.append(before)
    text.append(shown, style="reverse bold")
    text.append(after)
    if plain and shown:
        return [text, Text(" " * (len(gutter) + len(before)) + "^" * len(shown))]
    return [text]


def _summary(console: Console, findings: Sequence[Finding], info: RunInfo, *, identifiers: int = 0) -> None:
    if findings:
        table = Table(title="Findings by rule", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("rule")
        table.add_column("severity")
        table.add_column("count", justify="right")
        counts = Counter((f.rule_id, f.severity) for f in findings)
        for (rule_id, severity), count in sorted(counts.items(), key=lambda kv: (-kv[0][1].rank, -kv[1], kv[0][0])):
            table.add_row(rule_id, Text(severity.value, style=_SEVERITY_STYLE[severity.value]), str(count))
        console.print(table)
        by_severity = Counter(f.severity for f in findings)
        parts = [f"{by_severity[s]} {s.value}" for s in sorted(by_severity, key=lambda s: -s.rank)]
        console.print(Text("by severity: " + ", ".join(parts)))
    style = "bold red" if any(f.severity.rank >= Severity.HIGH.rank for f in findings) else "bold"
    console.print(Text(verdict_line(len(findings), info, identifiers=identifiers), style=style))
    if info.skipped:
        console.print(Text(skipped_line(info), style="dim"))
