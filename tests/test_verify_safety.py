"""The safety rules of verification, each proven against local servers: where secrets may go, and load."""
from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.errors import UsageError
from scanner.model import Confidence, Finding, Rule, Severity, Verdict
from scanner.ruleset import parse_rule
from scanner.verify.http import Client, base_override, env_name
from scanner.verify.runner import Settings, verify_findings
from scanner.verify.spec import SpecError, parse_verifier
from tests.verify_fakes import FakeServer, Seen, serve

TOKEN = "tok_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


def _rule(verify: dict[str, Any], rule_id: str = "acme-token", regex: str = r"\b(tok_[0-9a-f]{32})\b") -> Rule:
    return parse_rule({"id": rule_id, "description": "Acme token", "regex": regex, "verify": verify}, "test")


def _acme(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "provider": "acme",
        "rate_limit": 50,
        "request": {"url": "https://api.acme.example/v1/me", "headers": {"Authorization": "Bearer {{secret}}"}},
        "valid": {"status": 200},
        "invalid": {"status": 401},
        "identity": "{{login}}",
    }
    spec.update(changes)
    return spec


def _finding(secret: str = TOKEN, rule_id: str = "acme-token", path: str = "a.txt") -> Finding:
    return Finding(rule_id=rule_id, description="Acme token", severity=Severity.HIGH, confidence=Confidence.HIGH,
                   path=path, line=1, column=1, end_line=1, end_column=1 + len(secret), secret=secret, match=secret)


def _me(seen: Seen, m: Any) -> tuple[int, Any, dict[str, str]]:
    ok = seen.headers.get("authorization") == f"Bearer {TOKEN}"
    return (200, {"login": "alice"}, {}) if ok else (401, {"message": "bad"}, {})


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for server in serve():
        server.custom.append(("GET", r"/v1/me$", _me))
        monkeypatch.setenv(env_name("acme"), server.url)
        yield server


def _verify(findings: list[Finding], rule: Rule, **settings: Any) -> list[Finding]:
    return verify_findings(findings, [rule], Settings(**{"timeout": 2.0, **settings}), builtin=[rule])


def _verdict(f: Finding) -> tuple[Verdict, str]:
    assert f.verification is not None
    return f.verification.verdict, f.verification.reason


# -- where requests may go ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.acme.example/v1/me",
        "https://{{secret}}/v1/me",
        "https://api.{{secret}}.example/v1/me",
        "https://user:pw@api.acme.example/v1/me",
        "https://api.acme.example",
        "ftp://api.acme.example/x",
        "https://api.acme.example/v1/me#{{secret}}",
    ],
    ids=["plain-http", "host-from-secret", "inner-label-from-secret", "userinfo", "no-path", "ftp", "fragment"],
)
def test_verifier_url_must_be_https_with_a_literal_host(url: str) -> None:
    with pytest.raises(SpecError):
        parse_verifier(_acme(request={"url": url}))


@pytest.mark.parametrize(
    "change",
    [
        {"python": "send-anywhere"},
        {"request": {"url": "https://api.acme.example/x", "proxy": "http://evil"}},
        {"valid": {"status": 200, "follow": True}},
        {"request": {"url": "https://api.acme.example/x", "headers": {"X": "{{password}}"}}},
        {"requires": {"secret": "other-rule"}},
        {"rate_limit": 0},
    ],
    ids=["unknown-python", "unknown-request-key", "unknown-condition-key", "unknown-placeholder",
         "name-clash", "zero-rate"],
)
def test_verify_schema_is_strict(change: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        parse_verifier(_acme(**change))


@pytest.mark.parametrize("value", ["http://203.0.113.7:8080", "http://example.com", "ftp://127.0.0.1",
                                   "https://127.0.0.1/path", "https://u:p@127.0.0.1"],
                         ids=["http-public-ip", "http-public-name", "ftp", "with-path", "with-userinfo"])
def test_unsafe_endpoint_override_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_name("acme"), value)
    with pytest.raises(UsageError) as exc:
        base_override("acme")
    assert "LEAKSCAN_VERIFY_BASE_URL_ACME" in str(exc.value)


@pytest.mark.parametrize("value", ["http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9", "https://mirror.example"],
                         ids=["ipv4-loopback", "ipv6-loopback", "localhost", "https"])
def test_safe_endpoint_override_is_accepted(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_name("my-provider"), value)
    assert env_name("my-provider") == "LEAKSCAN_VERIFY_BASE_URL_MY_PROVIDER"
    assert base_override("my-provider") == value


def test_override_replaces_scheme_and_host_only(acme: FakeServer) -> None:
    rule = _rule(_acme())
    (f,) = _verify([_finding()], rule)
    assert _verdict(f)[0] is Verdict.VALID and f.verification and f.verification.identity == "alice"
    assert [s.path for s in acme.seen] == ["/v1/me"]


@pytest.mark.parametrize("target", ["other-port", "other-name"])
def test_redirect_to_another_host_is_not_followed(target: str, acme: FakeServer) -> None:
    for elsewhere in serve():
        port = elsewhere.server_address[1]
        location = f"http://127.0.0.1:{port}/steal" if target == "other-port" else f"http://localhost:{port}/steal"
        acme.override = lambda seen: (302, "", {"Location": location})
        (f,) = _verify([_finding()], _rule(_acme()))
        assert elsewhere.seen == []
        verdict, reason = _verdict(f)
        assert verdict is Verdict.UNKNOWN and "redirect" in reason


def test_same_origin_redirect_is_followed(acme: FakeServer) -> None:
    acme.custom.insert(0, ("GET", r"/v1/old$", lambda seen, m: (301, "", {"Location": "/v1/me"})))
    (f,) = _verify([_finding()], _rule(_acme(request={"url": "https://api.acme.example/v1/old",
                                                       "headers": {"Authorization": "Bearer {{secret}}"}})))
    assert _verdict(f)[0] is Verdict.VALID
    assert [s.path for s in acme.seen] == ["/v1/old", "/v1/me"]


def test_proxies_and_netrc_from_the_environment_are_ignored(acme: FakeServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login stolen password creds\n")
    netrc.chmod(0o600)
    for proxy in serve():
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.setenv("NETRC", str(netrc))
        rule = _rule(_acme(request={"url": "https://api.acme.example/v1/me"}))  # no auth header: netrc would add one
        (f,) = _verify([_finding()], rule)
        assert proxy.seen == []
        assert [s.path for s in acme.seen] == ["/v1/me"]
        assert "authorization" not in acme.seen[0].headers
        assert _verdict(f)[0] is Verdict.INVALID


def test_rules_not_shipped_with_leakscan_are_never_verified(acme: FakeServer, rules: tuple[Rule, ...]) -> None:
    # A rule from a repository's configuration, carrying a verify block aimed at a server it controls.
    rogue = _rule(_acme())
    (f,) = verify_findings([_finding()], [*rules, rogue], Settings(timeout=2))
    assert acme.seen == []
    assert _verdict(f) == (Verdict.UNKNOWN, "no verifier for this rule")


def test_redefined_builtin_rule_is_not_verified(acme: FakeServer) -> None:
    # The configuration redefines the id of a trusted rule so that it captures other text.
    trusted = _rule(_acme())
    redefined = _rule(_acme(), regex=r"\b(tok_[0-9a-z]{32})\b")
    (f,) = verify_findings([_finding()], [redefined], Settings(timeout=2), builtin=[trusted])
    assert acme.seen == []
    assert _verdict(f)[0] is Verdict.UNKNOWN and "redefined" in _verdict(f)[1]


def test_host_label_from_a_credential_must_be_a_dns_label(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _acme(vars={"dc": {"from": "secret", "regex": "-([^-]+)$"}},
                 request={"url": "https://{{dc}}.api.acme.example/v1/me"})
    rule = _rule(spec, regex=r"\b(tok_[0-9a-f]{8}-[^\s]+)")
    calls: list[str] = []
    monkeypatch.setattr(Client, "send", lambda self, method, url, **kw: calls.append(url))
    (f,) = _verify([_finding("tok_12345678-evil.example/x")], rule)
    assert calls == []
    assert _verdict(f) == (Verdict.UNKNOWN, "the credential does not name a valid host label")


def test_credential_that_would_inject_a_header_is_not_sent(acme: FakeServer) -> None:
    (f,) = _verify([_finding("tok_1\r\nX-Evil: 1")], _rule(_acme()))
    assert acme.seen == []
    assert _verdict(f)[0] is Verdict.UNKNOWN


# -- secrets stay out of logs, reasons and identities -----------------------------------------------


def test_no_secret_in_debug_logs_or_reasons(acme: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    # The secret sits in the URL path, which urllib3 logs at debug level.
    rule = _rule(_acme(request={"url": "https://api.acme.example/bot{{secret}}/getMe"}))
    with caplog.at_level(logging.DEBUG):
        (f,) = _verify([_finding()], rule)
    assert "getMe" in caplog.text  # urllib3 did log the request line...
    assert TOKEN not in caplog.text  # ...without the secret
    assert TOKEN not in repr(f.verification)


def test_identity_that_echoes_the_secret_is_dropped(acme: FakeServer) -> None:
    acme.override = lambda seen: (200, {"login": f"key {TOKEN}"}, {})
    (f,) = _verify([_finding()], _rule(_acme()))
    assert f.verification is not None and f.verification.verdict is Verdict.VALID
    assert f.verification.identity == ""


def test_connection_error_reason_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    monkeypatch.setenv(env_name("acme"), f"http://127.0.0.1:{port}")
    rule = _rule(_acme(request={"url": "https://api.acme.example/bot{{secret}}/getMe"}))
    (f,) = _verify([_finding()], rule)
    assert _verdict(f) == (Verdict.ERROR, "connection failed")


# -- load: timeouts, errors, cache, rate limit, dead providers ----------------------------------------


def test_slow_endpoint_times_out_with_error_verdict(acme: FakeServer) -> None:
    acme.override = lambda seen: (0, None, {})  # hang
    acme.hang_seconds = 3.0
    start = time.monotonic()
    (f,) = _verify([_finding()], _rule(_acme()), timeout=0.5)
    assert time.monotonic() - start < 2.5
    assert _verdict(f) == (Verdict.ERROR, "timed out")


@pytest.mark.parametrize("status,verdict", [(500, Verdict.ERROR), (503, Verdict.ERROR), (429, Verdict.ERROR),
                                            (418, Verdict.UNKNOWN)], ids=["500", "503", "429", "418"])
def test_unexpected_answers_are_error_or_unknown(status: int, verdict: Verdict, acme: FakeServer) -> None:
    acme.override = lambda seen: (status, {"error": "x"}, {})
    (f,) = _verify([_finding()], _rule(_acme()))
    assert _verdict(f)[0] is verdict and str(status) in _verdict(f)[1]


def test_one_request_per_distinct_secret(acme: FakeServer) -> None:
    findings = [_finding(path=f"copy{i}.txt") for i in range(5)]
    out = _verify(findings, _rule(_acme()))
    assert len(acme.seen) == 1
    assert {_verdict(f)[0] for f in out} == {Verdict.VALID}


def test_rate_limit_spaces_requests_to_one_provider(acme: FakeServer) -> None:
    rule = _rule(_acme(rate_limit=10))
    findings = [_finding(f"tok_{i:032x}") for i in range(4)]
    start = time.monotonic()
    _verify(findings, rule, workers=4)
    assert time.monotonic() - start >= 0.29  # 4 requests at 10/s: at least 3 gaps of 0.1 s
    assert len(acme.seen) == 4


def test_dead_provider_is_not_asked_again_after_repeated_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(env_name("acme"), f"http://127.0.0.1:{port}")
    findings = [_finding(f"tok_{i:032x}") for i in range(10)]
    out = _verify(findings, _rule(_acme()), workers=1)
    reasons = [_verdict(f) for f in out]
    assert all(v is Verdict.ERROR for v, _ in reasons)
    assert sum(r == "connection failed" for _, r in reasons) == 3
    assert sum(r.startswith("not sent") for _, r in reasons) == 7


def test_findings_without_a_verifier_are_unknown_and_nothing_is_sent(acme: FakeServer) -> None:
    (f,) = _verify([_finding(rule_id="other-rule")], _rule(_acme()))
    assert _verdict(f) == (Verdict.UNKNOWN, "no verifier for this rule")
    assert acme.seen == []


@pytest.mark.parametrize("secret", ["tok_1@127.0.0.2/x", "tok_1/../../admin", "tok_1?next=http://evil", "tok_1#frag"],
                         ids=["userinfo-like", "traversal", "query", "fragment"])
def test_credential_in_a_path_cannot_change_host_or_path(secret: str, acme: FakeServer) -> None:
    acme.custom.insert(0, ("GET", r"/bot(.+)/getMe$", lambda seen, m: (200, {"login": "x"}, {})))
    rule = _rule(_acme(request={"url": "https://api.acme.example/bot{{secret}}/getMe"}), regex=r"(tok_\S+)")
    (f,) = _verify([_finding(secret)], rule)
    (seen,) = acme.seen
    assert seen.path.startswith("/bot") and seen.path.endswith("/getMe") and seen.path.count("/") == 2
    assert _verdict(f)[0] is Verdict.VALID
