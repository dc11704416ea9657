"""Printable strings from binary files (like strings(1)), for --scan-binaries."""
from __future__ import annotations

import re

_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{8,}")


def printable_strings(data: bytes) -> bytes:
    """Runs of 8+ printable ASCII bytes, one per line."""
    return b"\n".join(m.group() for m in _PRINTABLE.finditer(data))
