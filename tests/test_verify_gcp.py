"""GCP service-account keys: RS256 signing checked against OpenSSL, and the JWT exchange against a fake endpoint."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.model import Confidence, Finding, Rule, Severity, Verdict
from scanner.ruleset import parse_rule
from scanner.verify import rsa
from scanner.verify.http import env_name
from scanner.verify.runner import Settings, verify_findings
from tests.verify_fakes import FakeServer, Seen, form, serve

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI to make test keys")
EMAIL = "deployer@acme-prod.iam.gserviceaccount.com"


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("live", "other"):
        pkcs8 = d / f"{name}.pem"
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(pkcs8))
        out[name] = pkcs8
    pkcs1 = d / "live-pkcs1.pem"
    _openssl("rsa", "-in", str(out["live"]), "-traditional", "-out", str(pkcs1))
    out["live-pkcs1"] = pkcs1
    return out


@pytest.mark.parametrize("form_", ["live", "live-pkcs1"], ids=["pkcs8", "pkcs1"])
def test_rs256_signature_equals_openssl(form_: str, keys: dict[str, Path]) -> None:
    message = b"header.claims"
    ours = rsa.sign_sha256(rsa.load_pem(keys[form_].read_text()), message)
    assert ours == _openssl("dgst", "-sha256", "-sign", str(keys["live"]), data=message)


def test_non_rsa_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    ec = tmp_path / "ec.pem"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(ec))
    with pytest.raises(rsa.KeyFormatError) as exc:
        rsa.load_pem(ec.read_text())
    assert "MI" not in str(exc.value)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _token_endpoint(public: rsa.PrivateKey) -> Any:
    def answer(seen: Seen, m: Any) -> tuple[int, Any, dict[str, str]]:
        fields = form(seen)
        if fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}, {}
        head, claims, sig = fields["assertion"].split(".")
        payload = json.loads(_b64(claims))
        if json.loads(_b64(head)) != {"alg": "RS256", "typ": "JWT"} or payload["aud"] != "https://oauth2.googleapis.com/token":
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT"}, {}
        if payload["iss"] != EMAIL or not rsa.verify_sha256(public.n, public.e, f"{head}.{claims}".encode(), _b64(sig)):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, {}
        return 200, {"access_token": "ya29.fake", "expires_in": 3599, "token_type": "Bearer"}, {}

    return answer


@pytest.fixture
def google(keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for server in serve():
        server.custom.append(("POST", r"/token$", _token_endpoint(rsa.load_pem(keys["live"].read_text()))))
        monkeypatch.setenv(env_name("gcp"), server.url)
        yield server


RULE = parse_rule({
    "id": "gcp-service-account-key", "description": "GCP service account key", "multiline": True,
    "regex": r'(\{[^{}]*"type":\s*"service_account"[^{}]*\})',
    "verify": {"provider": "gcp", "python": "gcp-service-account", "secret_as": "key",
               "request": {"url": "https://oauth2.googleapis.com/token"}},
}, "test")


def _key_file(pem: Path, token_uri: str = "https://oauth2.googleapis.com/token") -> str:
    return json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": "abc",
                       "private_key": pem.read_text(), "client_email": EMAIL, "token_uri": token_uri})


def _verify(secret: str) -> Finding:
    f = Finding(rule_id=RULE.id, description="", severity=Severity.CRITICAL, confidence=Confidence.HIGH, path="k.json",
                line=1, column=1, end_line=1, end_column=2, secret=secret, match=secret)
    (out,) = verify_findings([f], [RULE], Settings(timeout=5), builtin=[RULE])
    return out


def test_live_service_account_key_is_valid(keys: dict[str, Path], google: FakeServer) -> None:
    f = _verify(_key_file(keys["live"]))
    assert f.verification is not None and f.verification.verdict is Verdict.VALID
    assert f.verification.identity == f"service account {EMAIL}"


def test_key_not_matching_the_account_is_invalid(keys: dict[str, Path], google: FakeServer) -> None:
    f = _verify(_key_file(keys["other"]))
    assert f.verification is not None and f.verification.verdict is Verdict.INVALID
    assert "invalid_grant" in f.verification.reason


def test_token_uri_in_the_key_file_is_ignored(keys: dict[str, Path], google: FakeServer) -> None:
    for attacker in serve():
        f = _verify(_key_file(keys["live"], token_uri=attacker.url + "/token"))
        assert attacker.seen == []
        assert [s.path for s in google.seen] == ["/token"]
        assert f.verification is not None and f.verification.verdict is Verdict.VALID


PEM_RULE = parse_rule({
    "id": "gcp-key-pem", "description": "GCP service account key (PEM captured)", "multiline": True,
    "regex": r'"private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\\\s]+-----END PRIVATE KEY-----(?:\\n)?)"'
             r'(?:\s*,[\s\S]{0,300}?"client_email"\s*:\s*"[^"\s]{3,200}")?',
    "verify": {"provider": "gcp", "python": "gcp-service-account", "secret_as": "key",
               "vars": {"client_email": {"from": "match", "regex": r'"client_email"\s*:\s*"([^"]+)"'}},
               "request": {"url": "https://oauth2.googleapis.com/token"}},
}, "test")


@pytest.mark.parametrize("with_email,verdict", [(True, Verdict.VALID), (False, Verdict.UNKNOWN)],
                         ids=["email-in-match", "no-email"])
def test_pem_with_client_email_in_the_match(with_email: bool, verdict: Verdict, keys: dict[str, Path],
                                            google: FakeServer) -> None:
    from scanner.engine import Engine
    from scanner.model import Chunk
    from scanner.ruleset import build_spec

    text = _key_file(keys["live"]) if with_email else json.dumps({"type": "service_account",
                                                                   "private_key": keys["live"].read_text()})
    (found,) = Engine(build_spec([PEM_RULE])).scan(Chunk(data=text.encode(), path="key.json")).findings
    (f,) = verify_findings([found], [PEM_RULE], Settings(timeout=5), builtin=[PEM_RULE])
    assert f.verification is not None and f.verification.verdict is verdict, f.verification
    if not with_email:
        assert f.verification.reason == "client_email not found in the match" and google.seen == []


def test_builtin_rule_verifies_a_real_key_file(keys: dict[str, Path], google: FakeServer, engine,  # type: ignore[no-untyped-def]
                                               rules: tuple[Rule, ...]) -> None:
    from scanner.model import Chunk

    text = json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": "abc",
                       "private_key": keys["live"].read_text(), "client_email": EMAIL}, indent=2)
    found = [f for f in engine.scan(Chunk(data=text.encode(), path="key.json")).findings
             if f.rule_id == "gcp-service-account-key"]
    (f,) = verify_findings(found, rules, Settings(timeout=5))
    assert f.verification is not None and f.verification.verdict is Verdict.VALID, f.verification
    assert f.verification.identity == f"service account {EMAIL}"
