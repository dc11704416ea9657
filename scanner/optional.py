"""Optional accelerators (Hyperscan, RE2): imported when installed and not disabled by the environment."""
from __future__ import annotations

import importlib
import os
from types import ModuleType


def optional_module(name: str, disable_env: str) -> ModuleType | None:
    """The module, or None when it is missing or ``disable_env`` is set (the accelerator-free CI pass)."""
    if os.environ.get(disable_env):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - exercised where the accelerator is not installed
        return None
