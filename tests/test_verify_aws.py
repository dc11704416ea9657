"""AWS: SigV4 against AWS's published test vectors, and key pairs checked with STS GetCallerIdentity."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Rule, Verdict
from scanner.verify import aws
from scanner.verify.http import env_name
from scanner.verify.runner import Settings, verify_findings
from tests.verify_fakes import FakeServer, Seen, serve

# The aws-sig-v4-test-suite credentials and clock (see "Signature Version 4 test suite" in AWS's docs).
SUITE_KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_DATE = "20150830T123600Z"


@pytest.mark.parametrize(
    "method,url,extra,body,signature",
    [
        ("GET", "https://example.amazonaws.com/", {}, b"",
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", {}, b"",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        ("GET", "https://example.amazonaws.com/\u1234", {}, b"",
         "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        ("POST", "https://example.amazonaws.com/", {}, b"",
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        ("POST", "https://example.amazonaws.com/", {"Content-Type": "application/x-www-form-urlencoded"},
         b"Param1=value1", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ],
    ids=["get-vanilla", "get-vanilla-query-order-key-case", "get-utf8", "post-vanilla", "post-x-www-form-urlencoded"],
)
def test_sigv4_matches_the_aws_test_suite(method: str, url: str, extra: dict[str, str], body: bytes,
                                          signature: str) -> None:
    headers = {"Host": "example.amazonaws.com", "X-Amz-Date": SUITE_DATE, **extra}
    auth = aws.sign(method, url, headers, body, *SUITE_KEY, "us-east-1", "service", SUITE_DATE)
    signed = ";".join(sorted(h.lower() for h in headers))
    assert auth == (f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    f"SignedHeaders={signed}, Signature={signature}")


def test_signing_key_matches_the_documented_derivation() -> None:
    key = aws.signing_key(SUITE_KEY[1], "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


# -- STS GetCallerIdentity against a fake STS that checks the signature ---------------------------------

KEY_ID = "AKIAOD22BF5Z32M3NBP6"
SECRET = "qtXa9NSXuvWwvB5UvpqmLYpleBPDovkJoptaKK4w"
ARN = "arn:aws:iam::123456789012:user/ci-bot"
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/sts/aws4_request, "
                   r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def _error(code: str) -> tuple[int, Any, dict[str, str]]:
    body = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>x</Message></Error></ErrorResponse>"
    return 403, body, {}


def _sts(keys: dict[str, str]) -> Any:
    def answer(seen: Seen, m: Any) -> tuple[int, Any, dict[str, str]]:
        if seen.body != b"Action=GetCallerIdentity&Version=2011-06-15":
            return 400, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>", {}
        auth = _AUTH.match(seen.headers.get("authorization", ""))
        if not auth:
            return _error("IncompleteSignature")
        key_id, _date, region, signed, _sig = auth.groups()
        if key_id not in keys:
            return _error("InvalidClientTokenId")
        headers = {h: seen.headers[h] for h in signed.split(";")}
        expected = aws.sign("POST", "https://sts.amazonaws.com/", headers, seen.body, key_id, keys[key_id], region,
                            "sts", seen.headers["x-amz-date"])
        if expected != seen.headers["authorization"]:
            return _error("SignatureDoesNotMatch")
        result = (f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>{ARN}</Arn><UserId>AIDAEXAMPLE</UserId>"
                  "<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
        return 200, result, {}

    return answer


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for server in serve():
        server.keys = {KEY_ID: SECRET}  # type: ignore[attr-defined]
        server.custom.append(("POST", r"/$", _sts(server.keys)))  # type: ignore[attr-defined]
        monkeypatch.setenv(env_name("aws"), server.url)
        yield server


def _scan(engine: Engine, text: str) -> list:  # type: ignore[type-arg]
    return engine.scan(Chunk(data=text.encode(), path="credentials")).findings


@pytest.mark.parametrize("layout", ["credentials-file", "csv-download"])
def test_live_key_pair_is_valid_with_account_and_arn(layout: str, sts: FakeServer, engine: Engine,
                                                     rules: tuple[Rule, ...]) -> None:
    text = (f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n" if layout == "credentials-file"
            else f"User name,Password,Access key ID,Secret access key\nci-bot,,{KEY_ID},{SECRET}\n")
    findings = verify_findings(_scan(engine, text), rules, Settings(timeout=5))
    assert len(findings) == 2  # the key id and the secret, both verified...
    assert len(sts.seen) == 1  # ...by one request
    for f in findings:
        assert f.verification is not None and f.verification.verdict is Verdict.VALID
        assert f.verification.identity == f"account 123456789012, {ARN}"
    seen = sts.seen[0]
    assert SECRET not in seen.headers.get("authorization", "") and SECRET.encode() not in seen.body


@pytest.mark.parametrize("key_id,secret,reason", [
    (KEY_ID, "x" + SECRET[1:], "the secret access key does not match the access key id"),
    ("AKIAYOEEUEYKSX7SMZOH", SECRET, "the access key id does not exist"),
], ids=["wrong-secret", "unknown-key-id"])
def test_dead_key_pair_is_invalid(key_id: str, secret: str, reason: str, sts: FakeServer, engine: Engine,
                                  rules: tuple[Rule, ...]) -> None:
    text = f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    findings = verify_findings(_scan(engine, text), rules, Settings(timeout=5))
    assert {(f.verification.verdict, f.verification.reason) for f in findings if f.verification} == {
        (Verdict.INVALID, reason)}


def test_key_id_alone_is_unknown_and_not_sent(sts: FakeServer, engine: Engine, rules: tuple[Rule, ...]) -> None:
    (f,) = verify_findings(_scan(engine, f"key = {KEY_ID}\n"), rules, Settings(timeout=5))
    assert f.verification is not None and f.verification.verdict is Verdict.UNKNOWN
    assert "aws-secret-access-key" in f.verification.reason
    assert sts.seen == []
