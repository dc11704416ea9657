"""Every built-in verifier against the local fake of its provider: a live key is valid, a dead one invalid."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Finding, Rule, Verdict
from scanner.ruleset import builtin_rule_files, parse_rule_document
from scanner.verify.http import env_name
from scanner.verify.runner import PYTHON, Settings, builtin_verifiers, verify_findings
from tests.conftest import REPO_ROOT
from tests.verify_fakes import PLAYS, FakeServer, serve

# parsed here without the on-disk rule cache: collection runs before the fixtures that isolate HOME
VERIFIED_RULES = [r for p in builtin_rule_files() for r in parse_rule_document(p.read_text(), str(p))
                  if r.verify is not None]
SINGLE = [r for r in VERIFIED_RULES if not r.verify.get("requires") and not r.verify.get("python")]  # type: ignore[union-attr]
IDENTITY = {  # what each provider's documented success answer (in the fake) says about the key's owner
    "github": "octocat",
    "slack": "deploybot in Acme",
    "stripe": "acct_1Fake",
    "huggingface": "alice",
    "discord": "leakbot",
    "telegram": "@leak_bot",
    "replicate": "acme-ml",
    "openrouter": "ci key",
    "xai": "ci",
    "stability": "ml@acme.test",
    "pushbullet": "Alice",
    "webex": "Alice Doe",
    "line": "Acme Bot",
    "gitlab": "user 42",
    "digitalocean": "ops@acme.test",
    "heroku": "dev@acme.test",
    "newrelic": "sre@acme.test",
    "npm": "acme-bot",
    "terraform-cloud": "infra-bot",
    "doppler": "Acme",
    "linear": "pm@acme.test",
    "notion": "Acme sync",
    "airtable": "usrAcme123",
    "postman": "acme-api",
}
IDENTITY_BY_RULE = {"gitlab-runner-token": "", "github-server-to-server-token": "", "discord-webhook-url": "deploys", "anthropic-admin-key": "Acme Labs", "mollie-access-token": "Acme BV"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for server in serve():
        for v in builtin_verifiers(VERIFIED_RULES).values():
            monkeypatch.setenv(env_name(v.spec.provider), server.url)
        yield server


def example_finding(engine: Engine, rule: Rule) -> Finding:
    for text in rule.examples:
        for f in engine.scan(Chunk(data=text.encode(), path="example.txt")).findings:
            if f.rule_id == rule.id:
                return f
    raise AssertionError(f"no example of {rule.id} is detected")


def live_forms(secret: str) -> set[str]:
    """The credential as the fake sees it: whole, or the path part of a webhook URL."""
    return {secret, secret.split("/services/")[-1], secret.split("/webhooks/")[-1]}


@pytest.mark.parametrize("rule", SINGLE, ids=lambda r: r.id)
def test_live_key_is_valid_and_dead_key_invalid(rule: Rule, fake: FakeServer, engine: Engine,
                                                rules: tuple[Rule, ...]) -> None:
    finding = example_finding(engine, rule)
    fake.live = live_forms(finding.secret)
    (live,) = verify_findings([finding], rules, Settings(timeout=5))
    assert live.verification is not None
    assert live.verification.verdict is Verdict.VALID, live.verification
    provider = str(rule.verify["provider"])  # type: ignore[index]
    assert live.verification.identity == IDENTITY_BY_RULE.get(rule.id, IDENTITY.get(provider, ""))
    fake.live = set()
    (dead,) = verify_findings([finding], rules, Settings(timeout=5))
    assert dead.verification is not None and dead.verification.verdict is Verdict.INVALID, dead.verification
    assert finding.secret not in repr(dead.verification) + repr(live.verification)


def test_every_declarative_verifier_has_a_fake_provider() -> None:
    played = {p.name for p in PLAYS}
    missing = {str(r.verify["provider"]) for r in SINGLE} - played  # type: ignore[index]
    assert not missing


def test_python_verifiers_named_in_rules_exist() -> None:
    named = {str(r.verify["python"]) for r in VERIFIED_RULES if r.verify and r.verify.get("python")}
    assert named <= set(PYTHON)


def test_at_least_thirty_providers_and_the_readme_lists_each() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    providers = {str(r.verify["provider"]) for r in VERIFIED_RULES}  # type: ignore[index]
    assert len(providers) >= 30
    assert [p for p in sorted(providers) if f"\n| {p} |" not in readme] == []
