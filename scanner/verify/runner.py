"""Verifies findings: one request per distinct credential, bounded workers, rate limits, never fatal.

Only verifiers shipped with leakscan run. They are read from the built-in rule files, never from
the rules of the scan: a rule from a repository's configuration (or one that redefines a built-in
rule's detection) is reported ``unknown`` and nothing is sent, so a scanned repository cannot
choose where its secrets go.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..model import Finding, Rule, Verdict, Verification
from ..ruleset import default_rules
from . import aws, declarative, gcp
from .context import Context, Unusable
from .http import Client, RateLimiter, TransportError, base_override
from .spec import VerifierSpec, parse_verifier

PythonVerifier = Callable[[Mapping[str, str], Context], Verification]
PYTHON: dict[str, PythonVerifier] = {"aws-sts": aws.verify, "gcp-service-account": gcp.verify}
MAX_CANDIDATES = 4  # companion combinations tried per finding
FAILURE_LIMIT = 3  # consecutive network failures after which a provider is not asked again this run

Credential = tuple[tuple[str, str], ...]  # sorted (name, value) pairs
JobKey = tuple[str, str, Credential]


@dataclass(frozen=True)
class Settings:
    timeout: float = 10.0
    workers: int = 8


@dataclass(frozen=True)
class Verifier:
    """A built-in rule and its validated verifier."""

    rule: Rule
    spec: VerifierSpec


def builtin_verifiers(rules: Sequence[Rule]) -> dict[str, Verifier]:
    """Verifiers by rule id, from trusted rules (the rule files shipped with leakscan)."""
    return {r.id: Verifier(r, parse_verifier(r.verify)) for r in rules if r.verify is not None}


def _same_detection(a: Rule, b: Rule) -> bool:
    return (a.regex, a.secret_group, a.multiline, a.path) == (b.regex, b.secret_group, b.multiline, b.path)


class _Breaker:
    """Stops asking a provider after FAILURE_LIMIT network failures in a row."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self._limiter = limiter

    def throttle(self, spec: VerifierSpec) -> None:
        with self._lock:
            if self._failures.get(spec.provider, 0) >= FAILURE_LIMIT:
                raise TransportError(f"not sent: {spec.provider} did not answer {FAILURE_LIMIT} times")
        self._limiter.wait(spec.provider, spec.rate_limit)

    def record(self, provider: str, outcome: Verification) -> None:
        if outcome.reason.startswith("not sent"):
            return
        failed = outcome.verdict is Verdict.ERROR and not outcome.reason.startswith("HTTP")
        with self._lock:
            self._failures[provider] = self._failures.get(provider, 0) + 1 if failed else 0


def _candidates(v: Verifier, finding: Finding) -> list[dict[str, str]] | Verification:
    """Every way to fill the verifier's named values from this finding, its match and its companions."""
    spec = v.spec
    related = finding.related
    choices: list[list[tuple[str, str | None]]] = [[(spec.secret_as, finding.secret)]]
    for name, rule_ids in spec.requires:
        found = list(dict.fromkeys(s for rid, s in related if rid in rule_ids))
        if not found:
            return Verification(Verdict.UNKNOWN, f"needs the matching {rule_ids[0]} nearby (not found)")
        choices.append([(name, s) for s in found])
    for name, rule_ids in spec.optional:
        found = list(dict.fromkeys(s for rid, s in related if rid in rule_ids))
        choices.append([(name, s) for s in found] or [(name, None)])
    out = []
    for combo in itertools.islice(itertools.product(*choices), MAX_CANDIDATES):
        values = {k: val for k, val in combo if val is not None}
        for var in spec.vars:
            m = re.search(var.regex, finding.match if var.source == "match" else values[var.source])
            if not m or m.group(1) is None:
                what = "the match" if var.source == "match" else "the credential"
                return Verification(Verdict.UNKNOWN, f"{var.name} not found in {what}")
            values[var.name] = m.group(1)
        out.append(values)
    return out


def _run_one(v: Verifier, values: dict[str, str], client: Client, breaker: _Breaker) -> Verification:
    spec = v.spec
    ctx = Context(spec=spec, client=client, throttle=breaker.throttle)
    try:
        client.scrubber.add(values.values())
        if spec.python:
            outcome = PYTHON[spec.python](values, ctx)
        else:
            outcome = declarative.check(values, ctx)
    except Unusable as exc:
        outcome = Verification(Verdict.UNKNOWN, str(exc))
    except TransportError as exc:
        outcome = Verification(Verdict.ERROR, exc.reason)
    except Exception as exc:  # a verifier bug must not stop the scan; its message may hold data
        outcome = Verification(Verdict.ERROR, f"verifier failed ({type(exc).__name__})")
    breaker.record(spec.provider, outcome)
    return outcome


def verify_findings(
    findings: Sequence[Finding],
    rules: Sequence[Rule],
    settings: Settings = Settings(),
    *,
    builtin: Sequence[Rule] | None = None,
    client: Client | None = None,
) -> list[Finding]:
    """The findings with ``verification`` set.

    ``rules``: the rule set the scan used; ``builtin``: the trusted rules whose verifiers may run
    (default: the rule files shipped with leakscan). A finding is verified only when its rule, and
    every companion rule feeding it, detects exactly as the trusted rule of that id does.
    """
    trusted_rules = {r.id: r for r in (default_rules() if builtin is None else builtin)}
    table = builtin_verifiers(list(trusted_rules.values()))
    for v in table.values():
        base_override(v.spec.provider)  # a malformed override is a usage error before anything is sent
    active = {r.id: r for r in rules}

    def trusted(rule_id: str) -> bool:
        rule, reference = active.get(rule_id), trusted_rules.get(rule_id)
        return rule is not None and reference is not None and _same_detection(rule, reference)

    plans: list[list[JobKey] | Verification] = []
    jobs: dict[JobKey, tuple[Verifier, dict[str, str]]] = {}
    for f in findings:
        found = table.get(f.rule_id)
        if found is None:
            plans.append(Verification(Verdict.UNKNOWN, "no verifier for this rule"))
            continue
        v = found
        if not trusted(f.rule_id) or not all(trusted(r) for r in v.spec.companion_rules() if r in active):
            # a redefined rule (or companion) could feed any text to this provider
            plans.append(Verification(Verdict.UNKNOWN, "rule redefined by configuration: not verified"))
            continue
        cands = _candidates(v, f)
        if isinstance(cands, Verification):
            plans.append(cands)
            continue
        keys = []
        for values in cands:
            key = (v.spec.provider, _verifier_key(v.spec), tuple(sorted(values.items())))
            jobs.setdefault(key, (v, values))
            keys.append(key)
        plans.append(keys)

    results: dict[JobKey, Verification] = {}
    if jobs:
        own_client = client is None
        http = client or Client(settings.timeout)
        breaker = _Breaker(RateLimiter())
        pool = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="leakscan-verify")
        finished = False
        try:
            futures = {key: pool.submit(_run_one, v, values, http, breaker) for key, (v, values) in jobs.items()}
            for key, fut in futures.items():
                results[key] = fut.result()
            finished = True
        finally:
            # on Ctrl-C, drop queued checks and leave in-flight ones to their timeouts
            pool.shutdown(wait=finished, cancel_futures=not finished)
            if own_client:
                http.close()
    out = []
    for f, plan in zip(findings, plans):
        outcome = plan if isinstance(plan, Verification) else declarative.combine([results[k] for k in plan])
        out.append(dataclasses.replace(f, verification=outcome))
    return out


def _verifier_key(spec: VerifierSpec) -> str:
    """Two rules calling the same check with the same values share one request (AWS id and secret)."""
    if spec.python:
        return spec.python + repr(spec.urls)
    return json.dumps([repr(spec.request), repr(spec.valid), repr(spec.invalid), spec.identity])
