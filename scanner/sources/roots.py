"""The root a scan's paths are reported against: the enclosing git work tree, else the scanned directory."""
from __future__ import annotations

import os
from collections.abc import Sequence


def scan_root(paths: Sequence[str]) -> str:
    """Absolute directory that repo-relative locations (SARIF URIs) are computed from.

    GitHub code scanning resolves a result's URI against the repository root, so a scan of a
    subdirectory of a work tree must still report `sub/dir/file`, not `file`.
    """
    dirs = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths if p != "-"]
    try:
        base = os.path.commonpath(dirs) if dirs else os.path.abspath(".")
    except ValueError:  # paths on different drives (Windows): no common root
        base = dirs[0]
    return _work_tree(base) or base


def _work_tree(start: str) -> str | None:
    current = start
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
