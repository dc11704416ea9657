"""gitleaks: read `.gitleaks.toml` (rules, allowlists, [extend]) as a leakscan config document.

The result is a document in `.leakscan.yaml`'s schema, validated by the same code, plus notes on what
could not be carried over. gitleaks regexes are Go RE2 syntax, which leakscan's RE2 engine reads as is.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..model import Rule
from ..regexes import compile_rule_regex

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no tomllib; tomli is the same parser
    import tomli as tomllib

RULE_KEYS = {"id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags", "allowlist",
             "allowlists"}
ALLOW_KEYS = {"description", "condition", "commits", "paths", "regexTarget", "regexes", "stopwords", "targetRules"}
_QUIET_TOP = {"title", "description", "minVersion"}
_MULTILINE_HINT = re.compile(r"\\n|\\r|\[\\s\\S\]|\[\\S\\s\]|\(\?[a-zA-Z]*s")
_MAX_EXTEND_DEPTH = 3


def config_from_toml(text: str, source: str, builtin: Sequence[Rule]) -> tuple[dict[str, Any], list[str]]:
    """(a .leakscan.yaml document, notes on what was not carried over)."""
    notes: list[str] = []
    doc = _convert(_parse(text, source), source, builtin, notes, depth=0)
    return doc, notes


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {' '.join(str(exc).split())}") from None


def _convert(data: dict[str, Any], source: str, builtin: Sequence[Rule], notes: list[str], depth: int) -> dict[str, Any]:
    builtin_ids = {r.id for r in builtin}
    for key in data:
        if key not in {"extend", "rules", "allowlist", "allowlists"} | _QUIET_TOP:
            notes.append(f"{source}: top-level key {key!r} is not supported; ignored")
    doc: dict[str, Any] = {"use_default_rules": False}
    rules: list[dict[str, Any]] = []
    disabled: list[str] = []
    extend = data.get("extend") or {}
    if not isinstance(extend, Mapping):
        raise ConfigError(f"{source}: extend: must be a table")
    if extend.get("useDefault"):
        doc["use_default_rules"] = True
        notes.append(f"info: {source}: [extend] useDefault: leakscan's built-in rules stand in for gitleaks' "
                     "defaults (rule ids differ)")
    if extend.get("url"):
        notes.append(f"{source}: [extend] url: remote configs are never fetched; not carried over")
    base_doc: dict[str, Any] = {}
    if extend.get("path"):
        base_path = Path(source).parent / str(extend["path"])
        if depth >= _MAX_EXTEND_DEPTH:
            raise ConfigError(f"{source}: [extend] path: configs extend each other more than {_MAX_EXTEND_DEPTH} deep")
        try:
            base_text = base_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: [extend] path: cannot read {base_path}: {exc.strerror or exc}") from None
        base_doc = _convert(_parse(base_text, str(base_path)), str(base_path), builtin, notes, depth + 1)
        doc["use_default_rules"] = doc["use_default_rules"] or base_doc.get("use_default_rules", False)
        rules.extend(base_doc.get("rules", []))
        disabled.extend(base_doc.get("disabled_rules", []))
    for rule_id in _strings(extend, "disabledRules", f"{source}: extend"):
        known = rule_id in builtin_ids and doc["use_default_rules"]
        if known or any(r["id"] == rule_id for r in rules):
            disabled.append(rule_id)
        else:
            notes.append(f"{source}: [extend] disabledRules: {rule_id!r} is not a leakscan rule id; not carried over")
    custom = data.get("rules", [])
    if not isinstance(custom, list):
        raise ConfigError(f"{source}: rules: must be an array of tables")
    overrides: dict[str, dict[str, Any]] = {}
    renamed: dict[str, str] = {}
    for i, entry in enumerate(custom):
        rule = _rule(entry, f"{source}: rules[{i}]", builtin_ids, notes)
        if rule is not None:
            raw_id = rule.pop("_raw_id")
            if raw_id in renamed:  # gitleaks: a later rule with the same id replaces the earlier one
                rules = [r for r in rules if r["id"] != renamed[raw_id]]
            elif any(r["id"] == rule["id"] for r in rules):
                rule["id"] = _free_id(rule["id"], {r["id"] for r in rules})
                notes.append(f"info: {source}: rules[{i}]: rule {raw_id!r} is named {rule['id']!r} in leakscan")
            renamed[raw_id] = rule["id"]
            rules.append(rule)
    ids = {r["id"] for r in rules} | (builtin_ids if doc["use_default_rules"] else set())
    allowlists = list(base_doc.get("allowlists", []))
    globals_ = []
    if "allowlist" in data:
        globals_.append(("allowlist", data["allowlist"]))
    if "allowlists" in data:
        if not isinstance(data["allowlists"], list):
            raise ConfigError(f"{source}: allowlists: must be an array of tables")
        globals_.extend((f"allowlists[{i}]", a) for i, a in enumerate(data["allowlists"]))
    for where, entry in globals_:
        allow = _allowlist(entry, f"{source}: {where}", notes)
        if allow is None:
            continue
        targets = allow.pop("_targets", [])
        if not targets:
            allowlists.append(allow)
        for target in targets:
            target = renamed.get(target, target)
            if target in ids:
                overrides.setdefault(target, {"allowlists": []})["allowlists"].append(allow)
            else:
                notes.append(f"{source}: {where}: targetRules {target!r} is not a rule here; not carried over")
    if rules:
        doc["rules"] = rules
    if disabled:
        doc["disabled_rules"] = sorted(set(disabled))
    if overrides:
        doc["rule_overrides"] = overrides
    if allowlists:
        doc["allowlists"] = allowlists
    return doc


def _rule(entry: Any, where: str, builtin_ids: set[str], notes: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: a rule must be a table")
    raw_id = entry.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise ConfigError(f"{where}: id must be a non-empty string")
    rule_id = re.sub(r"[^a-z0-9]+", "-", raw_id.lower()).strip("-")
    if rule_id in builtin_ids:
        rule_id += "-gitleaks"
    if rule_id != raw_id:
        notes.append(f"info: {where}: rule {raw_id!r} is named {rule_id!r} in leakscan")
    where = f"{where} ({raw_id})"
    for key in sorted(set(entry) - RULE_KEYS):
        notes.append(f"{where}: key {key!r} is not supported; ignored")
    regex = entry.get("regex")
    if not isinstance(regex, str) or not regex:
        notes.append(f"{where}: rules without a regex (path-only rules) are not supported; rule skipped")
        return None
    multiline = bool(_MULTILINE_HINT.search(regex))
    try:
        compile_rule_regex(regex, multiline=multiline)
    except ValueError as exc:
        notes.append(f"{where}: regex does not compile here ({' '.join(str(exc).split())}); rule skipped")
        return None
    rule: dict[str, Any] = {"_raw_id": raw_id, "id": rule_id, "description": entry.get("description") or raw_id,
                            "regex": regex}
    if multiline:
        rule["multiline"] = True  # gitleaks matches across lines where the regex asks for a line break
    group = entry.get("secretGroup", 0)
    if isinstance(group, bool) or not isinstance(group, int) or group < 0:
        raise ConfigError(f"{where}: secretGroup must be a whole number")
    if group:
        rule["secret_group"] = group
    if "entropy" in entry:
        entropy = entry["entropy"]
        if isinstance(entropy, bool) or not isinstance(entropy, (int, float)):
            raise ConfigError(f"{where}: entropy must be a number")
        rule["entropy"] = min(max(float(entropy), 0.0), 8.0)
    for key in ("keywords", "tags"):
        values = _strings(entry, key, where)
        if values:
            rule[key] = values
    if entry.get("path"):
        if not isinstance(entry["path"], str):
            raise ConfigError(f"{where}: path must be a string")
        rule["path"] = entry["path"]
    allow_entries = []
    if "allowlist" in entry:
        allow_entries.append(entry["allowlist"])
    if "allowlists" in entry:
        if not isinstance(entry["allowlists"], list):
            raise ConfigError(f"{where}: allowlists must be an array of tables")
        allow_entries.extend(entry["allowlists"])
    allows = []
    for i, a in enumerate(allow_entries):
        allow = _allowlist(a, f"{where}: allowlists[{i}]", notes)
        if allow is not None:
            if allow.pop("_targets", None):
                notes.append(f"{where}: allowlists[{i}]: targetRules inside a rule is ignored")
            allows.append(_as_rule_allowlist(allow))
    if allows:
        rule["allowlists"] = allows
    return rule


def _allowlist(entry: Any, where: str, notes: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: an allowlist must be a table")
    for key in sorted(set(entry) - ALLOW_KEYS):
        notes.append(f"{where}: key {key!r} is not supported; ignored")
    out: dict[str, Any] = {}
    if entry.get("description"):
        out["description"] = str(entry["description"])
    for src, dst in (("paths", "path_regexes"), ("regexes", "regexes"), ("stopwords", "stopwords"),
                     ("commits", "commits")):
        values = _strings(entry, src, where)
        if values:
            out[dst] = values
    target = entry.get("regexTarget")
    if target is not None:
        if target not in ("secret", "match", "line"):
            raise ConfigError(f"{where}: regexTarget must be secret, match or line")
        out["regex_target"] = target
    kinds = sum(1 for k in ("path_regexes", "regexes", "stopwords", "commits") if k in out)
    condition = str(entry.get("condition", "OR")).upper()
    if condition == "AND" and kinds > 1:
        # leakscan allowlists are OR: carrying an AND list over would suppress more than gitleaks does.
        notes.append(f"{where}: condition AND over several kinds of conditions is not supported; "
                     "allowlist not carried over (findings it hid will be reported)")
        return None
    if kinds == 0:
        notes.append(f"{where}: allowlist has no conditions; not carried over")
        return None
    targets = _strings(entry, "targetRules", where)
    if targets:
        out["_targets"] = targets
    return out


def _as_rule_allowlist(allow: dict[str, Any]) -> dict[str, Any]:
    """Rule allowlists use the rules/ format, where paths are regexes."""
    out = dict(allow)
    if "path_regexes" in out:
        out["paths"] = out.pop("path_regexes")
    return out


def _free_id(rule_id: str, taken: set[str]) -> str:
    n = 2
    while f"{rule_id}-{n}" in taken:
        n += 1
    return f"{rule_id}-{n}"


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: {key} must be an array of non-empty strings")
    return list(value)
