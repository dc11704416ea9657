"""GCP service-account keys: a JWT signed with the key (RS256), exchanged at Google's OAuth token endpoint.

Flow: https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
A live key gets an access token, which is discarded unread. The key file's own ``token_uri`` is
ignored: the endpoint comes from the rule (a scanned repository must not choose where a signed
assertion goes).
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from ..model import Verdict, Verification
from .context import Context, Unusable
from .http import TransportError
from .rsa import KeyFormatError, load_pem, sign_sha256

SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 300  # seconds; the token is never used
_INVALID_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def assertion(private_key_pem: str, client_email: str, audience: str, now: float | None = None) -> str:
    """The signed JWT (header.claims.signature) the token endpoint accepts."""
    key = load_pem(private_key_pem)
    issued = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"iss": client_email, "scope": SCOPE, "aud": audience, "iat": issued, "exp": issued + LIFETIME}
    signing_input = ".".join(_b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims))
    return signing_input + "." + _b64url(sign_sha256(key, signing_input.encode("ascii")))


def key_parts(values: Mapping[str, str]) -> tuple[str, str]:
    """(private key PEM, client email) from a key file's JSON or from a PEM plus a client_email companion."""
    text = values["key"]
    if text.lstrip().startswith("{"):
        try:
            doc: Any = json.loads(text)
        except ValueError:
            raise Unusable("the service-account key file is not valid JSON") from None
        if not isinstance(doc, dict):
            raise Unusable("the service-account key file is not a JSON object")
        pem, email = doc.get("private_key"), doc.get("client_email")
    else:
        pem, email = text, values.get("client_email")
    if not isinstance(pem, str) or not isinstance(email, str) or "@" not in email:
        raise Unusable("needs the key's private_key and client_email")
    return pem, email


def verify(values: Mapping[str, str], ctx: Context) -> Verification:
    """values: key (the key file's JSON, or its PEM private key) and optionally client_email."""
    spec_url = ctx.spec.urls[0]
    audience = spec_url.origin() + spec_url.path  # Google's own URL, even when the endpoint is overridden
    try:
        pem, email = key_parts(values)
        jwt = assertion(pem, email, audience)
    except KeyFormatError:
        return Verification(Verdict.UNKNOWN, "the private key is not an RSA key leakscan can read")
    except Unusable as exc:
        return Verification(Verdict.UNKNOWN, str(exc))
    try:
        reply = ctx.send("POST", ctx.url(values), data={"grant_type": GRANT, "assertion": jwt})
    except TransportError as exc:
        return Verification(Verdict.ERROR, exc.reason)
    if reply.redirect_refused:
        return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: redirect to another host not followed")
    doc = reply.json()
    error = doc.get("error") if isinstance(doc, dict) else None
    if reply.status == 200 and isinstance(doc, dict) and doc.get("access_token"):
        return Verification(Verdict.VALID, "the token endpoint issued an access token", f"service account {email}")
    if reply.status in (400, 401) and error in _INVALID_ERRORS:
        return Verification(Verdict.INVALID, f"the token endpoint refused the key ({error})")
    if reply.status == 429 or reply.status >= 500:
        return Verification(Verdict.ERROR, f"HTTP {reply.status}: provider error")
    return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: unexpected answer")
