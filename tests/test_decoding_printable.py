"""The fast printable-text test of decoded strings gives exactly the per-character rule's decisions."""
from __future__ import annotations

import random

import pytest

from scanner import decoding


def _reference(text: bytes) -> bool:
    """The rule as first written, one character at a time: the definition the fast test must match."""
    if len(text) < 6:
        return False
    decoded = text.decode("utf-8", "replace")
    printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in decoded)
    return not printable < len(decoded) * 0.95


# Pieces that stress each shortcut: printable and control ASCII, the allowed whitespace, printable and
# non-printable multi-byte characters (NBSP, NEL, zero-width space, line separator, private use), a
# literal U+FFFD, and invalid UTF-8 (lone continuation, truncated and overlong sequences, surrogates).
_PRINTABLE = [b"a", b"Z", b"7", b" ", b"~", b"=", "é".encode(), "漢".encode(), "😀".encode()]
_HARMLESS = [b"\t", b"\n", b"\r"]
_CONTROL = [b"\x00", b"\x01", b"\x0b", b"\x0c", b"\x1b", b"\x1f", b"\x7f"]
_NON_PRINTABLE = ["\u00a0", "\u0085", "\u200b", "\u2028", "\ue000", "\ufffd"]
_INVALID = [b"\x80", b"\xbf", b"\xc3", b"\xe6\xbc", b"\xf0\x9f\x98", b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xf5"]
_BAD = _CONTROL + [c.encode() for c in _NON_PRINTABLE] + _INVALID


def _mixed(rng: random.Random, size: int, bad_share: float) -> bytes:
    parts = []
    for _ in range(size):
        pool = _BAD if rng.random() < bad_share else (_HARMLESS if rng.random() < 0.05 else _PRINTABLE)
        parts.append(rng.choice(pool))
    return b"".join(parts)


def _near_threshold(rng: random.Random) -> bytes:
    """Exactly k bad pieces among n, k around 5% of n: the accept/reject boundary."""
    n = rng.randint(6, 240)
    k = max(0, round(n * 0.05) + rng.randint(-2, 2))
    pieces = [rng.choice(_BAD) for _ in range(min(k, n))] + [rng.choice(_PRINTABLE + _HARMLESS) for _ in range(n - k)]
    rng.shuffle(pieces)
    return b"".join(pieces)


def _inputs(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = [rng.randbytes(rng.randint(0, 96)) for _ in range(3000)]  # what base64 of binaries decodes to
    out += [bytes(rng.randrange(0x80) for _ in range(rng.randint(0, 96))) for _ in range(1500)]  # ASCII only
    out += [_mixed(rng, rng.randint(1, 120), rng.choice([0.0, 0.01, 0.03, 0.05, 0.08, 0.2])) for _ in range(4000)]
    out += [_near_threshold(rng) for _ in range(4000)]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed-1", "seed-2", "seed-3"])
def test_fast_printable_test_decides_like_the_per_character_rule(seed: int) -> None:
    inputs = _inputs(seed)
    fast = [decoding._printable("base64", t) is not None for t in inputs]
    assert fast == [_reference(t) for t in inputs]
    assert 0 < sum(fast) < len(fast)  # both decisions are exercised


@pytest.mark.parametrize(("text", "accepted"), [
    pytest.param(b"x" * 19 + b"\x00", True, id="ascii-one-control-in-20"),
    pytest.param(b"x" * 18 + b"\x00\x01", False, id="ascii-two-controls-in-20"),
    pytest.param("é".encode() * 19 + b"\x00", True, id="utf8-one-control-in-20-chars"),
    pytest.param("é".encode() * 9 + b"\x00\x01", False, id="utf8-two-controls-in-11-chars"),
    pytest.param(b"x" * 37 + "é".encode() + b"\x00\x01", True, id="two-controls-in-40-chars-of-41-bytes"),
    pytest.param("é".encode() * 19 + b"\xff", True, id="utf8-one-bad-byte-in-20-chars"),
    pytest.param("é".encode() * 18 + b"\xff\xfe", False, id="utf8-two-bad-bytes-in-20-chars"),
    pytest.param("é".encode() * 19 + "\u200b".encode(), True, id="utf8-one-zero-width-in-20-chars"),
    pytest.param("é".encode() * 18 + "\u200b\u2028".encode(), False, id="utf8-two-non-printable-in-20-chars"),
    pytest.param(b"ab\r\n\tcd", True, id="whitespace-counts-as-text"),
    pytest.param(b"abcde", False, id="too-short"),
])
def test_printable_share_boundary(text: bytes, accepted: bool) -> None:
    assert _reference(text) is accepted
    assert (decoding._printable("hex", text) is not None) is accepted
