"""`.leakscan.yaml`: load and strictly validate a configuration, and apply it to the built-in rules."""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, RuleError
from .model import Allowlist, Confidence, Kind, RegexTarget, Rule, Severity
from .pathglob import glob_to_regex
from .regexes import compile_rule_regex
from .ruleset import IDENTIFIER_SEVERITY, parse_rule

CONFIG_NAMES = (".leakscan.yaml", ".leakscan.yml")
TOP_KEYS = {
    "version", "use_default_rules", "rules", "disabled_rules", "rule_overrides", "allowlist", "allowlists",
    "options", "inline_markers", "peer_markers",
}
OPTION_KEYS = {"max_file_size", "scan_binaries", "decode_depth", "jobs", "identifiers", "max_archive_depth"}
OVERRIDE_KEYS = {"entropy", "severity", "confidence", "allowlist", "allowlists", "replace_allowlists"}
ALLOWLIST_KEYS = {"description", "paths", "path_regexes", "regexes", "regex_target", "stopwords", "commits"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)

Path_ = tuple[object, ...]  # a key path into the document: ("rule_overrides", "github-pat", "entropy")


@dataclass(frozen=True)
class RuleOverride:
    """Changes to one rule: its entropy floor, severity, confidence or allowlists."""

    rule_id: str
    entropy: float | None = None
    severity: Severity | None = None
    confidence: Confidence | None = None
    allowlists: tuple[Allowlist, ...] = ()
    replace_allowlists: bool = False


@dataclass(frozen=True)
class ScanOptions:
    """Defaults for scan options; a flag given on the command line wins. None: not set."""

    max_file_size: int | None = None
    scan_binaries: bool | None = None
    decode_depth: int | None = None
    jobs: int | None = None
    identifiers: bool | None = None  # false: leave identifier findings out (--no-identifiers)
    max_archive_depth: int | None = None  # 0: archives are not opened (--max-archive-depth)


@dataclass(frozen=True)
class Config:
    """A resolved configuration. Deliberately has no network setting of any kind: a scanned
    repository's config must never be able to choose where a secret is sent."""

    source: str = ""  # the file it came from; "" for the defaults
    use_default_rules: bool = True
    rules: tuple[Rule, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    overrides: tuple[RuleOverride, ...] = ()
    allowlists: tuple[Allowlist, ...] = ()
    options: ScanOptions = ScanOptions()
    inline_markers: bool = True
    peer_markers: bool = True
    notes: tuple[str, ...] = ()  # what a migrated config could not carry over


def find_config(start: str) -> Path | None:
    """The config for a scan of ``start``: in that directory, or in a parent up to the git work tree's top."""
    return find_project_file(start, CONFIG_NAMES)


def find_project_file(start: str, names: Sequence[str]) -> Path | None:
    """The first of ``names`` in ``start``'s directory or a parent up to the git work tree's top."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    chain = [here, *here.parents]
    top = next((i for i, d in enumerate(chain) if (d / ".git").exists()), None)
    candidates = chain[: top + 1] if top is not None else [here]
    for directory in candidates:
        for name in names:
            if (directory / name).is_file():
                return directory / name
    return None


def load_config(path: str | os.PathLike[str], builtin: Sequence[Rule]) -> Config:
    """Read and validate a config file (.leakscan.yaml, or a gitleaks .toml) against the built-in rules."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: config is not UTF-8 text") from None
    try:
        return _load(text, source, builtin)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply") from None


def _load(text: str, source: str, builtin: Sequence[Rule]) -> Config:
    if source.endswith(".toml"):
        from .migrate.gitleaks import config_from_toml

        doc, notes = config_from_toml(text, source, builtin)
        return dataclasses.replace(parse_config(doc, source, builtin, {}), notes=tuple(notes))
    doc, lines = _load_yaml(text, source)
    return parse_config(doc, source, builtin, lines)


def parse_config(doc: Any, source: str, builtin: Sequence[Rule], lines: Mapping[Path_, int]) -> Config:
    v = _Validator(source, lines)
    if doc is None:
        return Config(source=source)
    if not isinstance(doc, Mapping):
        raise v.error((), "a config file is a mapping of settings")
    v.keys(doc, (), TOP_KEYS)
    version = doc.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise v.error(("version",), "only version 1 is supported")
    builtin_ids = {r.id for r in builtin}
    use_default = v.boolean(doc, (), "use_default_rules", True)
    rules = _custom_rules(doc, v, builtin_ids)
    known = (builtin_ids if use_default else set()) | {r.id for r in rules}
    disabled = v.strings(doc, (), "disabled_rules")
    for i, rule_id in enumerate(disabled):
        if rule_id not in known:
            raise v.error(("disabled_rules", i), f"unknown rule id {rule_id!r}")
    identifiers = {r.id for r in (*builtin, *rules) if r.kind is Kind.IDENTIFIER}
    overrides = _overrides(doc, v, known, identifiers)
    allow_entries: list[tuple[Path_, Any]] = []
    if "allowlist" in doc:
        allow_entries.append((("allowlist",), doc["allowlist"]))
    if "allowlists" in doc:
        if not isinstance(doc["allowlists"], list):
            raise v.error(("allowlists",), "must be a list of allowlists")
        allow_entries.extend((("allowlists", i), a) for i, a in enumerate(doc["allowlists"]))
    return Config(
        source=source,
        use_default_rules=use_default,
        rules=rules,
        disabled_rules=disabled,
        overrides=overrides,
        allowlists=tuple(_allowlist(a, p, v) for p, a in allow_entries),
        options=_options(doc, v),
        inline_markers=v.boolean(doc, (), "inline_markers", True),
        peer_markers=v.boolean(doc, (), "peer_markers", True),
    )


def resolve_rules(config: Config, builtin: Sequence[Rule]) -> tuple[Rule, ...]:
    """The rule set a scan runs: defaults (unless replaced) plus custom rules, minus disabled, overridden."""
    rules = [*(builtin if config.use_default_rules else ()), *config.rules]
    disabled = set(config.disabled_rules)
    overrides = {o.rule_id: o for o in config.overrides}
    out = []
    for rule in rules:
        if rule.id in disabled:
            continue
        o = overrides.get(rule.id)
        if o is not None:
            rule = dataclasses.replace(
                rule,
                entropy=rule.entropy if o.entropy is None else o.entropy,
                severity=o.severity or rule.severity,
                confidence=o.confidence or rule.confidence,
                allowlists=o.allowlists if o.replace_allowlists else rule.allowlists + o.allowlists,
            )
        out.append(rule)
    return tuple(out)


def parse_size(value: object) -> int | None:
    """An int, or '500KB' / '10MB' / '1GB' (powers of 1024); None when it is neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    m = _SIZE.match(value)
    if not m:
        return None
    return int(float(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()])


# -- sections ----------------------------------------------------------------------------------------


def _custom_rules(doc: Mapping[str, Any], v: _Validator, builtin_ids: set[str]) -> tuple[Rule, ...]:
    entries = doc.get("rules", [])
    if not isinstance(entries, list):
        raise v.error(("rules",), "must be a list of rules (the format of rules/*.yaml)")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = v.where(("rules", i))
        for key in ("verify", "companions"):
            if isinstance(entry, Mapping) and key in entry:
                # Verification (and the pairing it uses) comes only from the built-in rules: a scanned
                # repository must not be able to decide what is sent where.
                raise v.error(("rules", i, key), f"{key} is not allowed in a config file")
        try:
            rule = parse_rule(entry, where, i, probe=True)  # user rules: refuse catastrophic backtracking
        except RuleError as exc:
            raise ConfigError(_one_line(str(exc))) from None
        if rule.id in builtin_ids:
            raise v.error(("rules", i), f"rule id {rule.id!r} is a built-in rule: use rule_overrides, or "
                                        "disabled_rules and a new id")
        if rule.id in seen:
            raise v.error(("rules", i), f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def _overrides(doc: Mapping[str, Any], v: _Validator, known: set[str],
               identifiers: set[str]) -> tuple[RuleOverride, ...]:
    section = doc.get("rule_overrides", {})
    if not isinstance(section, Mapping):
        raise v.error(("rule_overrides",), "must be a mapping of rule id to overrides")
    out = []
    for rule_id, entry in section.items():
        p: Path_ = ("rule_overrides", rule_id)
        if rule_id not in known:
            raise v.error(p, f"unknown rule id {rule_id!r}")
        if not isinstance(entry, Mapping):
            raise v.error(p, "must be a mapping")
        v.keys(entry, p, OVERRIDE_KEYS)
        entropy = entry.get("entropy")
        if entropy is not None and (isinstance(entropy, bool) or not isinstance(entropy, (int, float))
                                    or not 0 <= entropy <= 8):
            raise v.error((*p, "entropy"), "must be a number from 0 to 8")
        allow = []
        if "allowlist" in entry:
            allow.append(_allowlist(entry["allowlist"], (*p, "allowlist"), v))
        if "allowlists" in entry:
            if not isinstance(entry["allowlists"], list):
                raise v.error((*p, "allowlists"), "must be a list of allowlists")
            allow.extend(_allowlist(a, (*p, "allowlists", i), v) for i, a in enumerate(entry["allowlists"]))
        severity = v.enum(Severity, entry, p, "severity")
        if rule_id in identifiers and severity not in (None, Severity.INFO):  # as parse_rule requires
            raise v.error((*p, "severity"), IDENTIFIER_SEVERITY)
        out.append(RuleOverride(
            rule_id=str(rule_id),
            entropy=float(entropy) if entropy is not None else None,
            severity=severity,
            confidence=v.enum(Confidence, entry, p, "confidence"),
            allowlists=tuple(allow),
            replace_allowlists=v.boolean(entry, p, "replace_allowlists", False),
        ))
    return tuple(out)


def _allowlist(entry: Any, p: Path_, v: _Validator) -> Allowlist:
    if not isinstance(entry, Mapping):
        raise v.error(p, "an allowlist must be a mapping")
    v.keys(entry, p, ALLOWLIST_KEYS)
    path_regexes = v.strings(entry, p, "path_regexes")
    regexes = v.strings(entry, p, "regexes")
    for key, values in (("path_regexes", path_regexes), ("regexes", regexes)):
        for i, source in enumerate(values):
            try:
                compile_rule_regex(source, multiline=True)
            except ValueError as exc:
                raise v.error((*p, key, i), f"bad regex: {exc}") from None
    globs = v.strings(entry, p, "paths")
    allow = Allowlist(
        description=v.string(entry, p, "description", ""),
        paths=tuple(glob_to_regex(g) for g in globs) + path_regexes,
        regexes=regexes,
        regex_target=v.enum(RegexTarget, entry, p, "regex_target") or RegexTarget.SECRET,
        stopwords=v.strings(entry, p, "stopwords"),
        commits=v.strings(entry, p, "commits"),
    )
    if allow.is_empty():
        raise v.error(p, "an allowlist needs at least one of paths, path_regexes, regexes, stopwords, commits")
    return allow


def _options(doc: Mapping[str, Any], v: _Validator) -> ScanOptions:
    section = doc.get("options", {})
    p: Path_ = ("options",)
    if not isinstance(section, Mapping):
        raise v.error(p, "must be a mapping")
    v.keys(section, p, OPTION_KEYS)
    size = None
    if "max_file_size" in section:
        size = parse_size(section["max_file_size"])
        if size is None:
            raise v.error((*p, "max_file_size"), "must be a size in bytes, or with a KB, MB or GB suffix")
    scan_binaries = v.boolean(section, p, "scan_binaries", None) if "scan_binaries" in section else None
    identifiers = v.boolean(section, p, "identifiers", None) if "identifiers" in section else None
    return ScanOptions(
        max_file_size=size,
        scan_binaries=scan_binaries,
        decode_depth=v.integer(section, p, "decode_depth", 0, 8),
        jobs=v.integer(section, p, "jobs", 0, 256),
        identifiers=identifiers,
        max_archive_depth=v.integer(section, p, "max_archive_depth", 0, 8),
    )


# -- YAML with line numbers ------------------------------------------------------------------------


def _load_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    import yaml  # only when a config file exists: a plain scan starts without it

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}{where}: {_one_line(problem)}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _index(node, (), lines, source, set())
    return doc, lines


def _index(node: Any, path: Path_, lines: dict[Path_, int], source: str, visited: set[int]) -> None:
    import yaml

    if id(node) in visited:  # an alias: indexed once, so nested aliases cannot blow up the walk
        return
    visited.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: {_dotted((*path, key))}: duplicate key")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), lines, source, visited)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, source, visited)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Validator:
    """Type checks whose errors name the file, the line and the key path."""

    def __init__(self, source: str, lines: Mapping[Path_, int]) -> None:
        self.source = source
        self.lines = lines

    def where(self, path: Path_) -> str:
        for i in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:i]))
            if line is not None:
                return f"{self.source}:{line}"
        return self.source

    def error(self, path: Path_, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: {_dotted(path)}: {_one_line(problem)}")

    def keys(self, entry: Mapping[Any, Any], p: Path_, allowed: set[str]) -> None:
        for key in entry:
            if key not in allowed:
                raise self.error((*p, key), f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def boolean(self, entry: Mapping[str, Any], p: Path_, key: str, default: Any) -> Any:
        value = entry.get(key, default)
        if not isinstance(value, bool) and not (value is None and default is None):
            raise self.error((*p, key), "must be true or false")
        return value

    def string(self, entry: Mapping[str, Any], p: Path_, key: str, default: str) -> str:
        value = entry.get(key, default)
        if not isinstance(value, str):
            raise self.error((*p, key), "must be a string")
        return value

    def strings(self, entry: Mapping[str, Any], p: Path_, key: str) -> tuple[str, ...]:
        value = entry.get(key, [])
        if not isinstance(value, list):
            raise self.error((*p, key), "must be a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.error((*p, key, i), "must be a non-empty string")
        return tuple(value)

    def integer(self, entry: Mapping[str, Any], p: Path_, key: str, lo: int, hi: int) -> int | None:
        if key not in entry:
            return None
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.error((*p, key), f"must be a whole number from {lo} to {hi}")
        return value

    def enum(self, kind: Any, entry: Mapping[str, Any], p: Path_, key: str) -> Any:
        if key not in entry:
            return None
        try:
            return kind(entry[key])
        except ValueError:
            raise self.error((*p, key), f"must be one of {', '.join(m.value for m in kind)}") from None
