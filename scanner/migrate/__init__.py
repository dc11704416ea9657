"""Migration from other scanners' configuration, ignore files and baselines."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MigrationReport:
    """What was carried over, and what could not be (never holds a secret)."""

    carried: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
