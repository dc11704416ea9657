"""`python -m scanner`."""
from __future__ import annotations

from .cli import console

console()
