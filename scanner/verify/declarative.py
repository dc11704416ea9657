"""Runs a declarative verifier: renders its request from the credential, sends it, judges the answer."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import Verdict, Verification
from .context import Context, Unusable, render
from .http import Reply, TransportError
from .spec import PLACEHOLDER, Condition, VerifierSpec

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_IDENTITY = 120


def _header_value(text: str) -> str:
    if "\r" in text or "\n" in text or "\x00" in text:
        raise Unusable("the credential holds characters a header cannot carry")
    return text


def _render_json(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, Mapping):
        return {k: _render_json(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, values) for v in value]
    return value


def json_path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, Mapping):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def matches(cond: Condition, reply: Reply, doc: Any) -> bool:
    if cond.status and reply.status not in cond.status:
        return False
    for path, accepted in cond.json:
        got = json_path(doc, path)
        if not any(type(got) is type(a) and got == a for a in accepted):
            return False
    if any(json_path(doc, p) is None for p in cond.json_present):
        return False
    if cond.body_contains and not any(c in reply.text() for c in cond.body_contains):
        return False
    return True


def identity(template: str, doc: Any, values: Mapping[str, str]) -> str:
    """The account the key belongs to, from the response; dropped if it would echo a credential."""
    if not template or doc is None:
        return ""
    found = []

    def one(m: re.Match[str]) -> str:
        got = json_path(doc, m.group(1))
        if got is None or isinstance(got, (dict, list)):
            return ""
        found.append(str(got))
        return str(got)

    text = _CONTROL.sub("", PLACEHOLDER.sub(one, template)).strip()
    if not any(found) or any(v and v in text for v in values.values()):
        return ""
    return text[:MAX_IDENTITY]


def judge(spec: VerifierSpec, reply: Reply, values: Mapping[str, str]) -> Verification:
    if reply.redirect_refused:
        return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: redirect to another host not followed")
    doc = reply.json()
    for cond in spec.valid:
        if matches(cond, reply, doc):
            return Verification(Verdict.VALID, cond.reason or f"HTTP {reply.status}",
                                identity(spec.identity, doc, values))
    for cond in spec.invalid:
        if matches(cond, reply, doc):
            return Verification(Verdict.INVALID, cond.reason or f"HTTP {reply.status}")
    if reply.status == 429:
        return Verification(Verdict.ERROR, "HTTP 429: rate limited by the provider")
    if reply.status >= 500:
        return Verification(Verdict.ERROR, f"HTTP {reply.status}: provider error")
    return Verification(Verdict.UNKNOWN, f"HTTP {reply.status}: unexpected answer")


def check(values: Mapping[str, str], ctx: Context) -> Verification:
    """Try each of the rule's URLs in order; the first valid answer wins, all invalid means invalid."""
    spec = ctx.spec
    req = spec.request
    assert req is not None
    outcomes = []
    try:
        headers = {k: _header_value(render(v, values)) for k, v in req.headers}
        auth = (render(req.basic_auth[0], values), render(req.basic_auth[1], values)) if req.basic_auth else None
        form = {k: render(v, values) for k, v in req.form} or None
        data: Any = form if form is not None else (render(req.body, values).encode() if req.body is not None else None)
        json_body = _render_json(req.json, values) if req.json is not None else None
        for index in range(len(req.urls)):
            target = ctx.url(values, index)
            try:
                reply = ctx.send(req.method, target, headers=headers, data=data, json_body=json_body, auth=auth)
            except TransportError as exc:
                outcome = Verification(Verdict.ERROR, exc.reason)
            else:
                outcome = judge(spec, reply, values)
            if outcome.verdict is Verdict.VALID:
                return outcome
            outcomes.append(outcome)
    except Unusable as exc:
        return Verification(Verdict.UNKNOWN, str(exc))
    return combine(outcomes)


def combine(outcomes: list[Verification]) -> Verification:
    """Several attempts at one credential (URLs, companion candidates): valid > error/unknown > invalid."""
    if not outcomes:
        return Verification(Verdict.UNKNOWN, "nothing to check")
    for verdict in (Verdict.VALID, Verdict.ERROR, Verdict.UNKNOWN):
        for o in outcomes:
            if o.verdict is verdict:
                return o
    return outcomes[0]
