"""The `verify:` block of a rule: its strict schema, parsed into frozen dataclasses (stdlib only).

A verifier says which provider it calls (``provider``), how this finding's secret and its companion
findings' secrets are named (``secret_as``, ``requires``, ``optional``, ``vars``), and either one
declarative HTTP check (``request``, ``valid``, ``invalid``, ``identity``) or the name of a Python
verifier (``python``) for providers that need computation (SigV4, JWT signing).

Where a secret may be sent is fixed here: every URL is ``https://`` with a literal host written in
the rule. The only variable part a host may have is its first DNS label, for providers whose
accounts live on subdomains (``https://{{dc}}.api.mailchimp.com``); that label is checked against
the DNS label grammar before any request, so the request still goes to the provider's domain.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_PROVIDER = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# scheme, optional {{label}}. prefix, literal host, optional port, then a path starting with '/'
_URL = re.compile(
    r"^https://(?P<label>\{\{\s*[a-z_][a-z0-9_]*\s*\}\}\.)?(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^\s#]*)$"
)
METHODS = ("GET", "POST", "HEAD")
VERIFY_KEYS = {
    "provider", "request", "valid", "invalid", "identity", "python", "secret_as", "requires", "optional",
    "vars", "rate_limit",
}
REQUEST_KEYS = {"method", "url", "headers", "basic_auth", "form", "json", "body"}
CONDITION_KEYS = {"status", "json", "json_present", "body_contains", "reason"}
VAR_KEYS = {"from", "regex"}
DEFAULT_RATE = 4.0  # requests per second per provider
PYTHON_VERIFIERS = frozenset({"aws-sts", "gcp-service-account"})  # implemented in scanner.verify.python


class SpecError(ValueError):
    """A malformed verify block (the rule loader turns it into a RuleError with the rule's name)."""


@dataclass(frozen=True)
class Condition:
    """What a response must show for one verdict: every given test holds."""

    status: tuple[int, ...] = ()
    json: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # (dotted path, accepted values)
    json_present: tuple[str, ...] = ()  # dotted paths that must hold a non-null value
    body_contains: tuple[str, ...] = ()  # any of these substrings
    reason: str = ""


@dataclass(frozen=True)
class Url:
    """A verifier URL split at the only places it may vary: ``label`` and the templated path."""

    label: str  # name of the value that forms the first host label, or ""
    host: str  # the literal host written in the rule (after the optional label)
    port: int | None
    path: str  # templated path and query

    def origin(self) -> str:
        return f"https://{self.host}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class Request:
    method: str
    urls: tuple[Url, ...]
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: tuple[str, str] | None = None
    form: tuple[tuple[str, str], ...] = ()
    json: Any = None
    body: str | None = None


@dataclass(frozen=True)
class Var:
    """A named piece of a credential: group 1 of ``regex`` searched in the value named ``source``.

    ``source`` may also be ``match``: the finding's whole match, for values that sit next to the
    secret in the same match (a service-account key file's ``client_email``).
    """

    name: str
    source: str
    regex: str


@dataclass(frozen=True)
class VerifierSpec:
    """A rule's verifier, validated."""

    provider: str
    secret_as: str = "secret"
    requires: tuple[tuple[str, tuple[str, ...]], ...] = ()  # value name -> companion rule ids
    optional: tuple[tuple[str, tuple[str, ...]], ...] = ()
    vars: tuple[Var, ...] = ()
    rate_limit: float = DEFAULT_RATE
    request: Request | None = None
    valid: tuple[Condition, ...] = ()
    invalid: tuple[Condition, ...] = ()
    identity: str = ""
    python: str = ""
    python_urls: tuple[Url, ...] = field(default=())

    @property
    def urls(self) -> tuple[Url, ...]:
        return self.request.urls if self.request is not None else self.python_urls

    def companion_rules(self) -> set[str]:
        return {r for _, ids in (*self.requires, *self.optional) for r in ids}


def parse_verifier(raw: Any, python_verifiers: frozenset[str] | set[str] = PYTHON_VERIFIERS) -> VerifierSpec:
    """Validate a rule's ``verify:`` mapping. ``python_verifiers``: the names a ``python:`` may use."""
    if not isinstance(raw, Mapping):
        raise SpecError("verify must be a mapping")
    unknown = set(raw) - VERIFY_KEYS
    if unknown:
        raise SpecError(f"verify: unknown key {sorted(unknown)[0]!r}")
    provider = raw.get("provider")
    if not isinstance(provider, str) or not _PROVIDER.match(provider):
        raise SpecError("verify: provider must be a kebab-case id")
    secret_as = raw.get("secret_as", "secret")
    if not isinstance(secret_as, str) or not _NAME.match(secret_as):
        raise SpecError("verify: secret_as must be a snake_case name")
    requires = _companions(raw, "requires")
    optional = _companions(raw, "optional")
    names = {secret_as, *(n for n, _ in requires), *(n for n, _ in optional)}
    if len(names) != 1 + len(requires) + len(optional):
        raise SpecError("verify: secret_as, requires and optional must use different names")
    var_specs = _vars(raw, names)
    names |= {v.name for v in var_specs}
    rate = raw.get("rate_limit", DEFAULT_RATE)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 100:
        raise SpecError("verify: rate_limit must be a number of requests per second, above 0 and at most 100")
    python = raw.get("python", "")
    if python:
        if not isinstance(python, str) or python not in python_verifiers:
            known = ", ".join(sorted(python_verifiers)) or "none"
            raise SpecError(f"verify: unknown python verifier {python!r} (known: {known})")
        extra = {"valid", "invalid", "identity"} & set(raw)
        if extra:
            raise SpecError(f"verify: {sorted(extra)[0]!r} does not apply to a python verifier")
        req = raw.get("request")
        if not isinstance(req, Mapping) or set(req) != {"url"}:
            raise SpecError("verify: a python verifier takes request: {url: ...} (the endpoint it calls) only")
        return VerifierSpec(
            provider=provider, secret_as=secret_as, requires=requires, optional=optional, vars=var_specs,
            rate_limit=float(rate), python=python, python_urls=_urls(req["url"], names),
        )
    if "request" not in raw or "valid" not in raw or "invalid" not in raw:
        raise SpecError("verify: needs request, valid and invalid (or python)")
    identity = raw.get("identity", "")
    if not isinstance(identity, str):
        raise SpecError("verify: identity must be a template string")
    return VerifierSpec(
        provider=provider, secret_as=secret_as, requires=requires, optional=optional, vars=var_specs,
        rate_limit=float(rate), request=_request(raw["request"], names),
        valid=_conditions(raw["valid"], "valid"), invalid=_conditions(raw["invalid"], "invalid"),
        identity=identity,
    )


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def _check_template(text: Any, names: set[str], where: str) -> str:
    if not isinstance(text, str):
        raise SpecError(f"verify: {where} must be a string")
    for name in placeholders(text):
        if name not in names:
            raise SpecError(f"verify: {where}: unknown placeholder {{{{{name}}}}} (known: {', '.join(sorted(names))})")
    return text


def _companions(raw: Mapping[str, Any], key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise SpecError(f"verify: {key} must map value names to companion rule ids")
    out = []
    for name, ids in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise SpecError(f"verify: {key}: {name!r} is not a snake_case name")
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and _RULE_ID.match(i) for i in ids):
            raise SpecError(f"verify: {key}: {name} must name a rule id or a list of rule ids")
        out.append((name, tuple(ids)))
    return tuple(out)


def _vars(raw: Mapping[str, Any], names: set[str]) -> tuple[Var, ...]:
    value = raw.get("vars", {})
    if not isinstance(value, Mapping):
        raise SpecError("verify: vars must be a mapping")
    out = []
    for name, body in value.items():
        if not isinstance(name, str) or not _NAME.match(name) or name in names:
            raise SpecError(f"verify: vars: {name!r} must be a new snake_case name")
        if not isinstance(body, Mapping) or set(body) != VAR_KEYS:
            raise SpecError(f"verify: vars: {name} takes 'from' and 'regex'")
        source, regex = body["from"], body["regex"]
        if source not in names and source != "match":
            raise SpecError(f"verify: vars: {name}: from must be 'match' or name a value ({', '.join(sorted(names))})")
        try:
            if not isinstance(regex, str) or re.compile(regex).groups < 1:
                raise SpecError(f"verify: vars: {name}: regex must have a group")
        except re.error as exc:
            raise SpecError(f"verify: vars: {name}: regex: {exc}") from None
        out.append(Var(name=name, source=source, regex=regex))
    return tuple(out)


def _urls(value: Any, names: set[str]) -> tuple[Url, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise SpecError("verify: request: url must not be empty")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise SpecError("verify: request: url must be a string or a list of strings")
        m = _URL.match(item)
        if not m:
            raise SpecError(
                f"verify: request: url {item!r} must be https:// with a literal host (optionally one "
                "{{name}}. first label) and a path"
            )
        _check_template(item, names, "request: url")
        label = PLACEHOLDER.findall(m.group("label") or "")
        port = int(m.group("port")) if m.group("port") else None
        out.append(Url(label=label[0] if label else "", host=m.group("host"), port=port, path=m.group("path")))
    return tuple(out)


def _request(raw: Any, names: set[str]) -> Request:
    if not isinstance(raw, Mapping):
        raise SpecError("verify: request must be a mapping")
    unknown = set(raw) - REQUEST_KEYS
    if unknown:
        raise SpecError(f"verify: request: unknown key {sorted(unknown)[0]!r}")
    method = raw.get("method", "GET")
    if method not in METHODS:
        raise SpecError(f"verify: request: method must be one of {', '.join(METHODS)}")
    if "url" not in raw:
        raise SpecError("verify: request: url is required")
    bodies = [k for k in ("form", "json", "body") if k in raw]
    if len(bodies) > 1:
        raise SpecError("verify: request: give at most one of form, json and body")
    if bodies and method != "POST":
        raise SpecError("verify: request: a body needs method POST")
    headers = raw.get("headers", {})
    if not isinstance(headers, Mapping):
        raise SpecError("verify: request: headers must be a mapping")
    for k, v in headers.items():
        if not isinstance(k, str) or not re.match(r"^[A-Za-z0-9-]+$", k):
            raise SpecError(f"verify: request: bad header name {k!r}")
        _check_template(v, names, f"request: headers: {k}")
    basic = raw.get("basic_auth")
    if basic is not None:
        if not isinstance(basic, list) or len(basic) != 2:
            raise SpecError("verify: request: basic_auth is [user, password]")
        basic = tuple(_check_template(b, names, "request: basic_auth") for b in basic)
    form = raw.get("form", {})
    if not isinstance(form, Mapping):
        raise SpecError("verify: request: form must be a mapping")
    for v in form.values():
        _check_template(v, names, "request: form")
    json_body = raw.get("json")
    _check_json_templates(json_body, names)
    body = raw.get("body")
    if body is not None:
        _check_template(body, names, "request: body")
    return Request(
        method=method,
        urls=_urls(raw["url"], names),
        headers=tuple((str(k), str(v)) for k, v in headers.items()),
        basic_auth=basic,
        form=tuple((str(k), str(v)) for k, v in form.items()),
        json=json_body,
        body=body,
    )


def _check_json_templates(value: Any, names: set[str]) -> None:
    if isinstance(value, str):
        _check_template(value, names, "request: json")
    elif isinstance(value, Mapping):
        for v in value.values():
            _check_json_templates(v, names)
    elif isinstance(value, list):
        for v in value:
            _check_json_templates(v, names)
    elif value is not None and not isinstance(value, (int, float, bool)):
        raise SpecError("verify: request: json holds only mappings, lists, strings, numbers and booleans")


def _conditions(raw: Any, key: str) -> tuple[Condition, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise SpecError(f"verify: {key} must not be empty")
    return tuple(_condition(item, key) for item in items)


def _condition(raw: Any, key: str) -> Condition:
    if not isinstance(raw, Mapping) or not raw:
        raise SpecError(f"verify: {key}: a condition is a non-empty mapping")
    unknown = set(raw) - CONDITION_KEYS
    if unknown:
        raise SpecError(f"verify: {key}: unknown key {sorted(unknown)[0]!r}")
    if not set(raw) - {"reason"}:
        raise SpecError(f"verify: {key}: a condition needs status, json, json_present or body_contains")
    status = raw.get("status", [])
    status = [status] if isinstance(status, int) else status
    if not isinstance(status, list) or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599
                                               for s in status):
        raise SpecError(f"verify: {key}: status must be an HTTP status or a list of them")
    json_tests = raw.get("json", {})
    if not isinstance(json_tests, Mapping):
        raise SpecError(f"verify: {key}: json maps dotted paths to expected values")
    tests = []
    for path, expected in json_tests.items():
        if not isinstance(path, str) or not path:
            raise SpecError(f"verify: {key}: json: paths are non-empty strings")
        accepted = expected if isinstance(expected, list) else [expected]
        if not accepted or not all(isinstance(a, (str, int, float, bool)) or a is None for a in accepted):
            raise SpecError(f"verify: {key}: json: {path}: expected values are scalars (a list means any of)")
        tests.append((path, tuple(accepted)))
    present = raw.get("json_present", [])
    present = [present] if isinstance(present, str) else present
    if not isinstance(present, list) or not all(isinstance(p, str) and p for p in present):
        raise SpecError(f"verify: {key}: json_present must be a dotted path or a list of them")
    contains = raw.get("body_contains", [])
    contains = [contains] if isinstance(contains, str) else contains
    if not isinstance(contains, list) or not all(isinstance(c, str) and c for c in contains):
        raise SpecError(f"verify: {key}: body_contains must be a string or a list of strings")
    reason = raw.get("reason", "")
    if not isinstance(reason, str):
        raise SpecError(f"verify: {key}: reason must be a string")
    return Condition(status=tuple(status), json=tuple(tests), json_present=tuple(present),
                     body_contains=tuple(contains), reason=reason)
