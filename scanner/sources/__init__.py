"""Sources turn working trees, staged diffs and git history into work items that yield chunks."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..model import Chunk


@dataclass
class Notes:
    """What a work item could not do: skipped inputs and warnings. Never holds a secret."""

    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    files_scanned: int = 0

    def merge(self, other: Notes) -> None:
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)
        self.errors.extend(other.errors)
        self.bytes_scanned += other.bytes_scanned
        self.files_scanned += other.files_scanned


class WorkItem(Protocol):
    """A picklable unit of work, run in a worker process: it loads its input and yields chunks."""

    @property
    def size(self) -> int: ...

    def chunks(self, notes: Notes) -> Iterator[Chunk]: ...
