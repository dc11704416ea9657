"""The ``--verify`` options every scan command shares, and the verification step of the common tail."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import click

from ..engine import EngineSpec
from ..model import Finding, Kind, Verdict

FAIL_ON = ("any", "valid")


def verify_options() -> list[Callable[[Any], Any]]:
    return [
        click.option("--verify", is_flag=True,
                     help="Ask each provider whether the secrets found are live (sends them to the provider)."),
        click.option("--only-verified", is_flag=True, help="Report only findings verified live (needs --verify)."),
        click.option("--fail-on", type=click.Choice(FAIL_ON), default="any", show_default=True,
                     help="Findings that make the exit status non-zero: any, or only live ones (needs --verify)."),
        click.option("--verify-timeout", type=click.FloatRange(min=0.1, max=120), default=10.0, show_default=True,
                     help="Seconds to wait for each verification request."),
        click.option("--verify-workers", type=click.IntRange(min=1, max=64), default=8, show_default=True,
                     help="Verification requests in flight at once."),
    ]


def check_verify_usage(verify: bool, only_verified: bool, fail_on: str) -> None:
    # Only the literal --verify flag may send secrets anywhere: the options that depend on it don't imply it.
    if not verify and only_verified:
        raise click.UsageError("--only-verified needs --verify")
    if not verify and fail_on == "valid":
        raise click.UsageError("--fail-on valid needs --verify")


def verify_step(findings: Sequence[Finding], spec: EngineSpec, *, timeout: float, workers: int, quiet: bool,
                only_verified: bool) -> list[Finding]:
    """Verify the (already filtered and suppressed) secrets; keep only live ones if asked.

    Identifiers grant nothing, so there is nothing to verify: they are never sent, and --only-verified drops them.
    """
    from ..verify.runner import Settings, verify_findings

    identifiers = [f for f in findings if f.kind is Kind.IDENTIFIER]
    findings = [f for f in findings if f.kind is not Kind.IDENTIFIER]
    if findings and not quiet:
        click.echo(f"verifying {len(findings)} finding{'s' if len(findings) != 1 else ''}...", err=True)
    verified = verify_findings(findings, spec.rules, Settings(timeout=timeout, workers=workers))
    if verified and not quiet:
        counts = Counter(f.verification.verdict.value for f in verified if f.verification is not None)
        summary = ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict if counts[v.value])
        click.echo(f"verification: {summary}", err=True)
    if only_verified:
        return [f for f in verified if f.verification is not None and f.verification.verdict is Verdict.VALID]
    return verified + identifiers


def failing(findings: Sequence[Finding], fail_on: str) -> bool:
    if fail_on == "valid":
        return any(f.verification is not None and f.verification.verdict is Verdict.VALID for f in findings)
    return bool(findings)
