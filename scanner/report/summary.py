"""A Markdown summary of findings for a CI job page ($GITHUB_STEP_SUMMARY). Never holds a secret."""
from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Kind
from . import RunInfo, sorted_findings

MAX_ROWS = 200


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render(findings: Sequence[Finding], info: RunInfo, *, reason: str = "") -> str:
    """Secrets in a table; identifiers (ARNs, buckets) only counted: they are notes in the SARIF report."""
    lines = ["## leakscan", ""]
    if reason:
        lines += [f"Scanned: {_cell(reason)}.", ""]
    identifiers = sum(f.kind is Kind.IDENTIFIER for f in findings)
    findings = [f for f in findings if f.kind is not Kind.IDENTIFIER]
    if identifiers:
        lines += [f"{identifiers} identifier{'s' if identifiers != 1 else ''} (not secrets) listed in the report.", ""]
    if not findings:
        lines.append(f"No leaks found ({info.commits_scanned} commits, {info.files_scanned} files scanned).")
        return "\n".join(lines) + "\n"
    lines += [f"**{len(findings)} leak{'s' if len(findings) != 1 else ''} found.** Secrets are not shown here;"
              " the code-scanning alerts and the job log have the locations.", "",
              "| severity | rule | location | commit | verified | fingerprint |",
              "|---|---|---|---|---|---|"]
    for f in sorted_findings(findings)[:MAX_ROWS]:
        commit = f.commit.sha[:12] if f.commit else ""
        verdict = f.verification.verdict.value if f.verification else ""
        lines.append(f"| {f.severity.value} | `{_cell(f.rule_id)}` | `{_cell(f.path)}:{f.line}` | {commit} | "
                     f"{verdict} | `{f.fingerprint[:16]}` |")
    if len(findings) > MAX_ROWS:
        lines.append(f"\n... and {len(findings) - MAX_ROWS} more.")
    lines += ["", "A false positive? Add `leakscan:allow` on its line, or its fingerprint to `.leakscanignore`."]
    return "\n".join(lines) + "\n"
