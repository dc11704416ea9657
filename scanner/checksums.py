"""Checksums some providers embed in their tokens; a valid one raises a finding's confidence.

Validators sit in an explicit table, named by the ``checksum`` key of a rule.
"""
from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(value: int, width: int) -> str:
    out = []
    while value:
        value, rem = divmod(value, 62)
        out.append(_BASE62[rem])
    return "".join(reversed(out)).rjust(width, "0")


def crc32_base62_suffix(token: str) -> bool:
    """GitHub-style tokens (ghp_, gho_, ghu_, ghs_, ghr_, npm_): the last 6 characters are the
    base62 CRC32 of the 30-character random part that precedes them."""
    prefix, sep, body = token.partition("_")
    if not sep or len(body) < 7:
        return False
    payload, check = body[:-6], body[-6:]
    return _base62(zlib.crc32(payload.encode("ascii", "replace")), 6) == check


def crc32_hex_suffix(token: str) -> bool:
    """Private Packagist tokens and API credentials: the last 8 characters are the zero-padded lowercase
    hex CRC32 of everything before them (prefix included), as Packagist documents:
    https://packagist.com/docs/composer-authentication#token-format"""
    if len(token) < 9:
        return False
    return format(zlib.crc32(token[:-8].encode("ascii", "replace")), "08x") == token[-8:]


def grafana_crc32_le(token: str) -> bool:
    """Grafana service account tokens (glsa_<32>_<8 hex>): the suffix is the CRC32 of "glsa_<secret>"
    written as its four bytes little-endian, in hex (Grafana's pkg/components/satokengen)."""
    key, sep, check = token.rpartition("_")
    if not sep or len(check) != 8:
        return False
    return zlib.crc32(key.encode("ascii", "replace")).to_bytes(4, "little").hex() == check


def basic_auth_parts(token: str) -> tuple[str, str] | None:
    """The user and password of base64 "user:password", or None when it is not one."""
    try:
        text = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep and text.isprintable() else None


def basic_auth_base64(token: str) -> bool:
    """Docker config.json "auth" values and HTTP Basic credentials: base64 of "user:password"."""
    parts = basic_auth_parts(token)
    return parts is not None and all(parts)


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_BECH32_GEN):
            chk ^= gen if (top >> i) & 1 else 0
    return chk


def bech32(token: str) -> bool:
    """Bech32 strings (BIP-173; age keys, c2sp.org/age): the last 6 data characters are a BCH
    checksum over the human-readable part (before the last '1') and the data, computed lower case."""
    lowered = token.lower()
    hrp, sep, data = lowered.rpartition("1")
    if not sep or not hrp or len(data) < 6 or any(ch not in _BECH32 for ch in data):
        return False
    expanded = [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]
    return _bech32_polymod(expanded + [_BECH32.index(ch) for ch in data]) == 1


CHECKS: dict[str, Callable[[str], bool]] = {
    "crc32-base62": crc32_base62_suffix,
    "basic-auth-base64": basic_auth_base64,
    "crc32-hex-suffix": crc32_hex_suffix,
    "grafana-crc32-le": grafana_crc32_le,
    "bech32": bech32,
}


def check(name: str, secret: str) -> bool:
    return CHECKS[name](secret)
