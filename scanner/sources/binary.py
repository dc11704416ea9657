"""Printable strings from binary files (like strings(1)), for --scan-binaries."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{8,}")
_PRINTABLE_BYTES = bytes(range(0x20, 0x7F)) + b"\t"
MAX_CARRY = 64 << 10  # a printable run longer than this is cut where a piece ends


def printable_strings(data: bytes) -> bytes:
    """Runs of 8+ printable ASCII bytes, one per line."""
    return b"\n".join(m.group() for m in _PRINTABLE.finditer(data))


def printable_blocks(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """printable_strings over a file given in pieces; a run split across two pieces stays whole."""
    carry = b""
    for piece in pieces:
        data = carry + piece
        cut = len(data.rstrip(_PRINTABLE_BYTES))  # the trailing run may go on in the next piece
        if len(data) - cut > MAX_CARRY:
            cut = len(data)
        data, carry = data[:cut], data[cut:]
        strings = printable_strings(data)
        if strings:
            yield strings + b"\n"
    if carry:
        strings = printable_strings(carry)
        if strings:
            yield strings + b"\n"
