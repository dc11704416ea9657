"""What the git hooks print when they block: a short hint on allowing a false positive or skipping once."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from ..model import Finding, Kind
from ..report import RunInfo

HOOK_HINT = (
    "leakscan blocked this {what}. A false positive? Add `leakscan:allow` on that line (or its fingerprint to "
    ".leakscanignore). To skip the hook once: SKIP={hook} git {verb} ..."
)


def hook_hint(what: str, hook: str, verb: str) -> Callable[[Sequence[Finding], RunInfo], None]:
    def after(findings: Sequence[Finding], _info: RunInfo) -> None:
        if any(f.kind is Kind.SECRET for f in findings):  # identifiers alone never block
            click.echo(HOOK_HINT.format(what=what, hook=hook, verb=verb), err=True)

    return after
