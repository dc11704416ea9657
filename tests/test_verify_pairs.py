"""Multi-part credentials found near each other are verified together, with one request."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Rule, Verdict
from scanner.verify.http import env_name
from scanner.verify.runner import Settings, verify_findings
from tests.verify_fakes import FakeServer, serve

SID = "AC55f266591d7705f7c80c2fc480ca9833"
TOKEN = "a1004535ab91ed9ef86ad481baf54d73"
KEY_SID = "SK0123456789abcdef0123456789abcdef"
KEY_SECRET = "Zq8Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih9Gf"


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for server in serve():
        monkeypatch.setenv(env_name("twilio"), server.url)
        yield server


def _verify(engine: Engine, rules: tuple[Rule, ...], text: str) -> dict[str, tuple[Verdict, str]]:
    found = engine.scan(Chunk(data=text.encode(), path="settings.py")).findings
    return {f.rule_id: (f.verification.verdict, f.verification.identity or f.verification.reason)
            for f in verify_findings(found, rules, Settings(timeout=5)) if f.verification}


@pytest.mark.parametrize("live", [True, False], ids=["live", "dead"])
def test_twilio_sid_and_auth_token_are_verified_as_a_pair(live: bool, twilio: FakeServer, engine: Engine,
                                                          rules: tuple[Rule, ...]) -> None:
    twilio.live = {f"{SID}:{TOKEN}"} if live else set()
    got = _verify(engine, rules, f"TWILIO_ACCOUNT_SID = '{SID}'\nTWILIO_AUTH_TOKEN = '{TOKEN}'\n")
    want = (Verdict.VALID, "Acme prod") if live else (Verdict.INVALID, "HTTP 401")
    assert got == {"twilio-account-sid": want, "twilio-auth-token": want}
    assert [s.path for s in twilio.seen] == [f"/2010-04-01/Accounts/{SID}.json"]


def test_twilio_api_key_pair(twilio: FakeServer, engine: Engine, rules: tuple[Rule, ...]) -> None:
    twilio.live = {f"{KEY_SID}:{KEY_SECRET}"}
    got = _verify(engine, rules, f"TWILIO_API_KEY = '{KEY_SID}'\nTWILIO_API_SECRET = '{KEY_SECRET}'\n")
    assert {v for v, _ in got.values()} == {Verdict.VALID} and len(got) == 2
    assert len(twilio.seen) == 1


def test_auth_token_without_its_sid_is_unknown(twilio: FakeServer, engine: Engine, rules: tuple[Rule, ...]) -> None:
    got = _verify(engine, rules, f"TWILIO_AUTH_TOKEN = '{TOKEN}'\n")
    assert got == {"twilio-auth-token": (Verdict.UNKNOWN, "needs the matching twilio-account-sid nearby (not found)")}
    assert twilio.seen == []
