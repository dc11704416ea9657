"""leakscan: a fast secret-leak scanner for working trees, staged changes and git history."""
from __future__ import annotations

__version__ = "0.1.0"
