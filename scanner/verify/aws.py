"""AWS access key pairs: STS GetCallerIdentity, signed with Signature Version 4 (no boto3).

GetCallerIdentity needs no permission at all, so any live key pair answers it, and the answer
names the account and the ARN. SigV4: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
The secret access key itself is never sent; only an HMAC derived from it is.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from ..model import Verdict, Verification
from .context import Context
from .http import TransportError

BODY = "Action=GetCallerIdentity&Version=2011-06-15"
REGION = "us-east-1"  # the global STS endpoint signs for us-east-1
SERVICE = "sts"
_INVALID_CODES = {
    "InvalidClientTokenId": "the access key id does not exist",
    "SignatureDoesNotMatch": "the secret access key does not match the access key id",
    "ExpiredToken": "the session token has expired",
    "InvalidAccessKeyId": "the access key id does not exist",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def _canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret_key: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The Authorization header value for a request. ``headers`` are the ones to sign (host included)."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/-_.~%")
    canon = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    names = sorted(canon)
    canonical_request = "\n".join([
        method,
        path,
        _canonical_query(parts.query),
        "".join(f"{n}:{canon[n]}\n" for n in names),
        ";".join(names),
        _sha256(body),
    ])
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical_request.encode("utf-8"))])
    signature = hmac.new(signing_key(secret_key, date, region, service), to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"


def _xml(tag: str, text: str) -> str:
    m = re.search(rf"<{tag}>([^<]{{1,300}})</{tag}>", text)
    return m.group(1).strip() if m else ""


def verify(values: Mapping[str, str], ctx: Context, now: _dt.datetime | None = None) -> Verification:
    """values: access_key_id, secret_access_key and, for temporary keys, session_token."""
    url = ctx.url(values)
    amz_date = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    body = BODY.encode()
    headers = {
        "Host": urlsplit(url).netloc,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Amz-Date": amz_date,
    }
    if values.get("session_token"):
        headers["X-Amz-Security-Token"] = values["session_token"]
    headers["Authorization"] = sign("POST", url, headers, body, values["access_key_id"],
                                    values["secret_access_key"], REGION, SERVICE, amz_date)
    del headers["Host"]  # requests sends the same Host itself
    try:
        reply = ctx.send("POST", url, headers=headers, data=body)
    except TransportError as exc:
        return Verification(Verdict.ERROR, exc.reason)
    if reply.redirect_refused:
        return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: redirect to another host not followed")
    text = reply.text()
    if reply.status == 200 and "<GetCallerIdentityResult>" in text:
        account, arn = _xml("Account", text), _xml("Arn", text)
        identity = f"account {account}, {arn}" if arn else (f"account {account}" if account else "")
        return Verification(Verdict.VALID, "STS GetCallerIdentity succeeded", identity)
    code = _xml("Code", text)
    code = code if re.fullmatch(r"[A-Za-z.]{1,64}", code) else ""
    if reply.status in (400, 403) and code in _INVALID_CODES:
        return Verification(Verdict.INVALID, _INVALID_CODES[code])
    if reply.status == 429 or code == "Throttling":
        return Verification(Verdict.ERROR, "rate limited by AWS")
    if reply.status >= 500:
        return Verification(Verdict.ERROR, f"HTTP {reply.status}: provider error")
    return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: unexpected answer" + (f" ({code})" if code else ""))

