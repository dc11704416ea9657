"""RSASSA-PKCS1-v1_5 with SHA-256 (RS256) from a PEM private key, with the standard library only.

Used to sign the JWT a GCP service-account key exchanges for a token. The `cryptography` package is
not installed with leakscan's dependencies (pygit2 needs only cffi), and this is all we need of it:
DER parsing of PKCS#1 / PKCS#8 RSA keys and one modular exponentiation (RFC 8017, sections 8.2 and 9.2).
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

# DER of DigestInfo for SHA-256, which precedes the hash inside the padded block (RFC 8017, 9.2 note 1)
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_RSA_OID = bytes.fromhex("2a864886f70d010101")
_PEM = re.compile(r"-----BEGIN (RSA )?PRIVATE KEY-----(.*?)-----END (?:RSA )?PRIVATE KEY-----", re.S)


class KeyFormatError(ValueError):
    """The text is not an RSA private key we can read. Messages never quote the key."""


@dataclass(frozen=True)
class PrivateKey:
    n: int = field(repr=False)
    e: int = field(repr=False)
    d: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise KeyFormatError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or pos + count > len(data):
            raise KeyFormatError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise KeyFormatError("truncated DER")
    return tag, data[pos:pos + length], pos + length


def _sequence(data: bytes) -> list[tuple[int, bytes]]:
    tag, body, _ = _tlv(data, 0)
    if tag != 0x30:
        raise KeyFormatError("expected a DER sequence")
    items, pos = [], 0
    while pos < len(body):
        t, v, pos = _tlv(body, pos)
        items.append((t, v))
    return items


def _rsa_private_key(der: bytes) -> PrivateKey:
    items = _sequence(der)
    if len(items) < 9 or any(t != 0x02 for t, _ in items[:9]):
        raise KeyFormatError("not an RSAPrivateKey")
    n, e, d, p, q = (int.from_bytes(v, "big") for _, v in items[1:6])
    if p * q != n or n.bit_length() < 512:
        raise KeyFormatError("inconsistent RSA key")
    return PrivateKey(n=n, e=e, d=d, p=p, q=q)


def load_pem(text: str) -> PrivateKey:
    """A PKCS#1 (``BEGIN RSA PRIVATE KEY``) or PKCS#8 (``BEGIN PRIVATE KEY``) RSA key."""
    m = _PEM.search(text.replace("\\n", "\n"))
    if not m:
        raise KeyFormatError("no PEM private key")
    try:
        der = base64.b64decode("".join(m.group(2).split()), validate=True)
    except ValueError:
        raise KeyFormatError("bad base64 in PEM") from None
    if m.group(1):
        return _rsa_private_key(der)
    items = _sequence(der)  # PrivateKeyInfo: version, AlgorithmIdentifier, OCTET STRING
    if len(items) < 3 or items[1][0] != 0x30 or items[2][0] != 0x04:
        raise KeyFormatError("not a PKCS#8 private key")
    oid_tag, oid, _ = _tlv(items[1][1], 0)
    if (oid_tag, oid) != (0x06, _RSA_OID):
        raise KeyFormatError("not an RSA key")
    return _rsa_private_key(items[2][1])


def sign_sha256(key: PrivateKey, message: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5-SIGN with SHA-256 (RFC 8017, 8.2.1), using the CRT for speed."""
    t = _SHA256_PREFIX + hashlib.sha256(message).digest()
    k = key.size
    if k < len(t) + 11:
        raise KeyFormatError("key too short")
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    m = int.from_bytes(em, "big")
    dp, dq = key.d % (key.p - 1), key.d % (key.q - 1)
    qinv = pow(key.q, -1, key.p)
    m1, m2 = pow(m, dp, key.p), pow(m, dq, key.q)
    s = m2 + ((qinv * (m1 - m2)) % key.p) * key.q
    return s.to_bytes(k, "big")


def verify_sha256(n: int, e: int, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5-VERIFY (RFC 8017, 8.2.2): what the token endpoint does with our signature."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    em = pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big")
    t = _SHA256_PREFIX + hashlib.sha256(message).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
