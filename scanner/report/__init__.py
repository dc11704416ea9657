"""Reporters: pure renderers from findings to text. Redaction happens here, behind one switch."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import Finding
from .scrub import Scrubber

REDACTED = "REDACTED"


@dataclass(frozen=True)
class RunInfo:
    """Facts about the scan that reporters may show (never a secret)."""

    command: str = "scan"
    files_scanned: int = 0
    bytes_scanned: int = 0
    commits_scanned: int = 0
    duration: float = 0.0
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    root: str = "."
    rules: tuple[Any, ...] = field(default=(), repr=False)  # the Rule objects, for SARIF's driver


def remediation_uri(remediation: str) -> str | None:
    """A rule's remediation when it is the provider's revoke/rotate page; None when it is advice in words
    (structural rules: a database password, a Secret manifest) or absent."""
    text = remediation.strip()
    return text if text.startswith(("https://", "http://")) and not any(c.isspace() for c in text) else None


def mask(secret: str) -> str:
    """A masked secret for display: a short prefix, then stars (at most 4 shown, never half)."""
    if len(secret) < 8:
        return "*" * len(secret)
    shown = min(4, len(secret) // 4)
    return secret[:shown] + "*" * min(len(secret) - shown, 16)


def redact(finding: Finding, replacement: str = REDACTED, others: Iterable[str] = ()) -> Finding:
    """The finding with its secret, its related findings' secrets and any of ``others`` (the run's other
    secrets) removed from every field that could carry them."""
    return _redact(finding, replacement, Scrubber(_secrets_of([finding], others), lambda _: replacement))


def redact_all(findings: Iterable[Finding], replacement: str = REDACTED) -> list[Finding]:
    """Every finding redacted, with every secret of the run removed from every finding's text."""
    items = list(findings)
    scrub = Scrubber(_secrets_of(items), lambda _: replacement)
    return [_redact(f, replacement, scrub) for f in items]


def _secrets_of(findings: Iterable[Finding], others: Iterable[str] = ()) -> list[str]:
    return [*(s for f in findings for s in (f.secret, *(secret for _, secret in f.related))), *others]


def _redact(finding: Finding, replacement: str, scrub: Scrubber) -> Finding:
    commit = finding.commit
    if commit is not None:  # a secret found in a commit message is in the message
        commit = dataclasses.replace(commit, message=scrub(commit.message))
    verification = finding.verification
    if verification is not None:
        verification = dataclasses.replace(
            verification, reason=scrub(verification.reason), identity=scrub(verification.identity)
        )
    return dataclasses.replace(
        finding,
        path=scrub(finding.path),
        verification=verification,
        secret=replacement,
        # a secret found through an encoding may sit in the match in encoded form, which scrubbing misses
        match=replacement if finding.decoded else scrub(finding.match),
        line_text="" if finding.decoded else scrub(finding.line_text),
        related=tuple((rule_id, replacement) for rule_id, _ in finding.related),
        commit=commit,
    )


def sort_key(f: Finding) -> tuple[Any, ...]:
    return (f.path, f.line, f.column, f.rule_id, f.commit.sha if f.commit else "")


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=sort_key)


def finding_dict(f: Finding) -> dict[str, Any]:
    """The documented JSON shape of a finding (schema: scanner/schemas/finding.schema.json)."""
    c = f.commit
    v = f.verification
    return {
        "rule_id": f.rule_id,
        "description": f.description,
        "path": f.path,
        "line": f.line,
        "end_line": f.end_line,
        "column": f.column,
        "end_column": f.end_column,
        "secret": f.secret,
        "match": f.match,
        "entropy": f.entropy,
        "fingerprint": f.fingerprint,
        "commit": c.sha if c else None,
        "author": c.author if c else None,
        "email": c.email if c else None,
        "date": c.date if c else None,
        "message": c.message if c else None,
        "tags": list(f.tags),
        "kind": f.kind.value,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "remediation": f.remediation or None,
        "decoded": f.decoded or None,
        "related": [{"rule_id": rule_id, "secret": secret} for rule_id, secret in f.related],
        "verification": (
            {"verdict": v.verdict.value, "reason": v.reason, "identity": v.identity or None} if v else None
        ),
    }
