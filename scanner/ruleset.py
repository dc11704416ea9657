"""Loading rule YAML, validating it strictly, and caching the compiled result on disk."""
from __future__ import annotations

import functools
import importlib
import os
import pickle
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import __version__, checksums, regexprobe
from .engine import EngineSpec
from .errors import RuleError
from .model import Allowlist, Companion, Confidence, Kind, RegexTarget, Rule, Severity
from .prefilter import HAVE_HYPERSCAN, Database, build_database, loadable
from .regexes import compile_rule_regex
from .regexshape import line_anchored

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RULE_KEYS = {
    "id", "description", "severity", "confidence", "regex", "secret_group", "keywords", "entropy",
    "multiline", "tags", "remediation", "allowlist", "allowlists", "path", "checksum", "verify",
    "examples", "counter_examples", "companions", "kind",
}
REQUIRED_KEYS = {"id", "description", "regex"}
IDENTIFIER_SEVERITY = "an identifier rule has severity info (it reports, it never fails a scan)"
ALLOWLIST_KEYS = {"description", "paths", "regexes", "regex_target", "stopwords", "commits"}
COMPANION_KEYS = {"rule", "within_lines", "required"}


def builtin_rule_files() -> list[Path]:
    """The YAML files shipped in the package (``scanner.rules``), or in the checkout's ``rules/``."""
    # Where setuptools puts them (the wheel's scanner/rules/, the checkout's rules/), looked at before
    # importlib.resources, whose import costs more than listing the directory (start-up is a target).
    here = Path(__file__).resolve().parent
    for folder in (here / "rules", here.parent / "rules"):
        files = sorted(folder.glob("*.y*ml"))
        if files:
            return files
    import importlib.resources

    try:
        root = importlib.resources.files("scanner.rules")
        files = sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))
        if files:
            return files
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return []


def cache_dir() -> Path | None:
    if os.environ.get("LEAKSCAN_NO_CACHE"):
        return None
    base = os.environ.get("LEAKSCAN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "leakscan"
    )
    return Path(base)


# An entry no run has used for this long is deleted when a new one is written: every edit of the rules
# or of the code that shapes them writes new entries (a database is about 2 MB), and nothing else would
# ever remove the old ones. A read marks an entry used (its mtime).
STALE_AFTER = 14 * 24 * 3600
_ENTRY_PREFIXES = ("rules-", "hs-", ".tmp-")


def _cache_read(key: str) -> Any:
    d = cache_dir()
    if d is None:
        return None
    try:
        with open(d / key, "rb") as fh:
            value = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a damaged cache file raises almost anything; it is rebuilt, never fatal
        return None
    try:
        os.utime(d / key)
    except OSError:
        pass  # a read-only cache still serves its entries
    return value


def _cache_writable() -> bool:
    d = cache_dir()
    if d is None:
        return False
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(d, os.W_OK)


def _cache_write(key: str, value: Any) -> None:
    d = cache_dir()
    if d is None:
        return
    import tempfile  # only when something is written: a warm start never is

    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    except OSError:
        return  # a read-only home must not stop a scan
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, d / key)
    except OSError:
        try:
            os.unlink(tmp)  # a full disk: leave no partial entry behind
        except OSError:
            pass
        return
    _prune(d)


def _prune(d: Path) -> None:
    """Delete this cache's entries that no run has used for STALE_AFTER seconds."""
    oldest = time.time() - STALE_AFTER
    try:
        entries = [e for e in d.iterdir() if e.name.startswith(_ENTRY_PREFIXES)]
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat().st_mtime < oldest:
                entry.unlink()
        except OSError:
            pass


def _digest(data: bytes) -> Any:
    """A BLAKE2b hash of ``data`` for cache keys, from the interpreter's own ``_blake2`` module (what
    ``hashlib.blake2b`` is): importing hashlib loads OpenSSL, 2 ms of every start."""
    try:
        blake2b = importlib.import_module("_blake2").blake2b
    except ImportError:  # pragma: no cover - an interpreter built without it
        import hashlib

        blake2b = hashlib.blake2b
    return blake2b(data, digest_size=32)


# -- parsing and validation -----------------------------------------------------------------------


def load_rule_files(paths: Sequence[Path]) -> tuple[Rule, ...]:
    """Parse and validate rule files; cached by the files' bytes so start-up skips YAML and regex checks."""
    blobs = []
    for p in paths:
        try:
            blobs.append((str(p), p.read_bytes()))
        except OSError as exc:
            raise RuleError(f"{p}: cannot read rule file: {exc.strerror}") from None
    digest = _digest(_code_version().encode())
    for name, blob in blobs:
        digest.update(name.encode() + b"\0" + _digest(blob).digest())
    key = f"rules-{digest.hexdigest()[:24]}.pickle"
    loaded = _LOADED.get(key)
    if loaded is not None:  # a command asks for the built-in rules more than once
        return loaded
    cached = _cache_read(key)
    if isinstance(cached, tuple) and all(isinstance(r, Rule) for r in cached):
        _LOADED[key] = cached
        return cached
    rules: list[Rule] = []
    for name, blob in blobs:
        rules.extend(parse_rule_document(blob.decode("utf-8", "replace"), name))
    check_unique(rules)
    check_companions(rules)
    result = tuple(rules)
    _cache_write(key, result)
    _LOADED[key] = result
    return result


# Rule sets and databases this process has loaded, by cache key (the key covers every input).
_LOADED: dict[str, tuple[Rule, ...]] = {}
_DATABASES: dict[str, Database] = {}
# The modules whose code decides what a cached rule set or database holds (parsing, the types, the
# Hyperscan expressions and layout): a change to any of them, in a checkout between releases, must not
# be served an entry the previous code built.
_CACHE_SHAPING = ("model.py", "ruleset.py", "regexes.py", "regexshape.py", "prefilter.py")


@functools.cache
def _code_version() -> str:
    digest = _digest(__version__.encode())
    here = Path(__file__).resolve().parent
    for name in _CACHE_SHAPING:
        try:
            digest.update((here / name).read_bytes())
        except OSError:  # pragma: no cover - an installed package without its sources: the version decides
            pass
    return str(digest.hexdigest()[:16])


def load_yaml(text: str) -> Any:
    """Parse YAML safely, with the C loader when present, rejecting a key repeated in one mapping.
    Imported lazily: a cached start skips it."""
    import yaml

    return yaml.load(text, Loader=_unique_key_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@functools.cache
def _unique_key_loader(base: Any) -> Any:
    """``base`` refusing a key repeated in one mapping: YAML would keep the last silently, so a rule's
    second ``companions:`` would hide its first."""
    import yaml

    class UniqueKeyLoader(base):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = key_node.value
                if key in seen and key != "<<":
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return UniqueKeyLoader


def parse_rule_document(text: str, source: str) -> list[Rule]:
    import yaml

    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RuleError(f"{source}{where}: {problem}") from None
    if doc is None:
        return []
    if not isinstance(doc, Mapping) or set(doc) - {"rules"}:
        raise RuleError(f"{source}: a rule file is a mapping with one key, 'rules'")
    entries = doc.get("rules") or []
    if not isinstance(entries, list):
        raise RuleError(f"{source}: 'rules' must be a list")
    return [parse_rule(entry, source, i) for i, entry in enumerate(entries)]


def parse_rule(entry: Any, source: str, position: int = 0, *, probe: bool = False) -> Rule:
    where = f"{source}: rule #{position + 1}"
    if not isinstance(entry, Mapping):
        raise RuleError(f"{where}: a rule must be a mapping")
    if isinstance(entry.get("id"), str):
        where = f"{source}: rule {entry['id']!r}"
    unknown = set(entry) - RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    missing = REQUIRED_KEYS - set(entry)
    if missing:
        raise RuleError(f"{where}: missing key {sorted(missing)[0]!r}")
    rule_id = _str(entry, "id", where)
    if not _ID.match(rule_id):
        raise RuleError(f"{where}: id must be kebab-case (a-z, 0-9 and '-')")
    regex_src = line_anchored(_str(entry, "regex", where))  # a custom rule's ^ / $ mean line edges here
    multiline = _bool(entry, "multiline", where, False)
    secret_group = entry.get("secret_group", None)
    if isinstance(secret_group, list) and secret_group:
        secret_group = tuple(secret_group)  # alternatives: the first group that took part
    groups = secret_group if isinstance(secret_group, tuple) else (secret_group,)
    if secret_group is not None and not all(isinstance(g, (int, str)) and not isinstance(g, bool) for g in groups):
        raise RuleError(f"{where}: secret_group must be a group number or name, or a list of them")
    try:
        pattern = compile_rule_regex(regex_src, multiline=multiline)
        if secret_group is None:
            secret_group = 1 if pattern.groups >= 1 else 0
            groups = (secret_group,)
        for group in groups:
            pattern.group_index(group)
    except ValueError as exc:
        raise RuleError(f"{where}: regex: {exc}") from None
    if any(True for _ in pattern.finditer(b"", 0, 0)):
        raise RuleError(f"{where}: regex matches the empty string")
    if probe and pattern.engine == "regex":  # a user's backtracking pattern: refuse one that blows up
        try:
            regexprobe.check(regex_src, multiline=multiline)
        except regexprobe.SlowRegex as exc:
            raise RuleError(f"{where}: regex is {exc}") from None
    checksum = _str(entry, "checksum", where, "")
    if checksum and checksum not in checksums.CHECKS:
        raise RuleError(f"{where}: unknown checksum {checksum!r} (known: {', '.join(sorted(checksums.CHECKS))})")
    allow_entries = entry.get("allowlists", [])
    if "allowlist" in entry:
        allow_entries = [entry["allowlist"], *(allow_entries or [])]
    if not isinstance(allow_entries, list):
        raise RuleError(f"{where}: allowlists must be a list")
    verify = entry.get("verify")
    if verify is not None:
        from .verify.spec import SpecError, parse_verifier  # parsing only: a cached start skips it

        try:
            parse_verifier(verify)
        except SpecError as exc:
            raise RuleError(f"{where}: {exc}") from None
    kind = _enum(Kind, entry, "kind", where, Kind.SECRET)
    severity = _enum(Severity, entry, "severity", where, Severity.INFO if kind is Kind.IDENTIFIER else Severity.HIGH)
    if kind is Kind.IDENTIFIER and severity is not Severity.INFO:
        raise RuleError(f"{where}: {IDENTIFIER_SEVERITY}")
    entropy = entry.get("entropy", 0.0)
    if isinstance(entropy, bool) or not isinstance(entropy, (int, float)) or not 0 <= entropy <= 8:
        raise RuleError(f"{where}: entropy must be a number from 0 to 8")
    return Rule(
        id=rule_id,
        description=_str(entry, "description", where),
        regex=regex_src,
        severity=severity,
        confidence=_enum(Confidence, entry, "confidence", where, Confidence.MEDIUM),
        secret_group=secret_group,
        keywords=_strs(entry, "keywords", where),
        entropy=float(entropy),
        multiline=multiline,
        tags=_strs(entry, "tags", where),
        remediation=_str(entry, "remediation", where, ""),
        allowlists=tuple(parse_allowlist(a, f"{where}: allowlist") for a in allow_entries),
        path=_checked_regex(_str(entry, "path", where, ""), f"{where}: path"),
        checksum=checksum,
        companions=_companions(entry, where),
        verify=dict(verify) if verify is not None else None,
        examples=_examples(entry, "examples", where),
        counter_examples=_examples(entry, "counter_examples", where),
        source=source,
        kind=kind,
    )


def parse_allowlist(entry: Any, where: str) -> Allowlist:
    if not isinstance(entry, Mapping):
        raise RuleError(f"{where}: must be a mapping")
    unknown = set(entry) - ALLOWLIST_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    regexes = _strs(entry, "regexes", where)
    paths = _strs(entry, "paths", where)
    for r in (*regexes, *paths):
        _checked_regex(r, where)
    return Allowlist(
        description=_str(entry, "description", where, ""),
        paths=paths,
        regexes=regexes,
        regex_target=_enum(RegexTarget, entry, "regex_target", where, RegexTarget.SECRET),
        stopwords=_strs(entry, "stopwords", where),
        commits=_strs(entry, "commits", where),
    )


def _companions(entry: Mapping[str, Any], where: str) -> tuple[Companion, ...]:
    value = entry.get("companions", [])
    if not isinstance(value, list):
        raise RuleError(f"{where}: companions must be a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise RuleError(f"{where}: companions: each entry is a mapping with 'rule' and 'within_lines'")
        unknown = set(item) - COMPANION_KEYS
        if unknown:
            raise RuleError(f"{where}: companions: unknown key {sorted(unknown)[0]!r}")
        rule = item.get("rule")
        if not isinstance(rule, str) or not _ID.match(rule):
            raise RuleError(f"{where}: companions: rule must be a rule id")
        within = item.get("within_lines")
        if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= 1000:
            raise RuleError(f"{where}: companions: within_lines must be a whole number from 0 to 1000")
        out.append(Companion(rule=rule, within_lines=within, required=_bool(item, "required", f"{where}: companions", False)))
    return tuple(out)


def check_companions(rules: Sequence[Rule]) -> None:
    """Every companion names another rule of the same set."""
    ids = {r.id for r in rules}
    for rule in rules:
        for c in rule.companions:
            if c.rule == rule.id or c.rule not in ids:
                why = "itself" if c.rule == rule.id else f"unknown rule {c.rule!r}"
                raise RuleError(f"{rule.source}: rule {rule.id!r}: companions: names {why}")


def check_unique(rules: Iterable[Rule]) -> None:
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{rule.source}: duplicate rule id {rule.id!r} (first defined in {seen[rule.id]})")
        seen[rule.id] = rule.source


def _checked_regex(source: str, where: str) -> str:
    if source:
        try:
            compile_rule_regex(source, multiline=True)
        except ValueError as exc:
            raise RuleError(f"{where}: {exc}") from None
    return source


def _str(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise RuleError(f"{where}: {key} must be a non-empty string")
    return value


def _bool(entry: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise RuleError(f"{where}: {key} must be true or false")
    return value


def _strs(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(value)


def _examples(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _enum(kind: Any, entry: Mapping[str, Any], key: str, where: str, default: Any) -> Any:
    value = entry.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise RuleError(f"{where}: {key} must be one of {allowed}") from None


# -- the compiled spec ----------------------------------------------------------------------------


_DB_LAYOUT = "gated-keywords, located, hs-expression, sample2"
# pattern -> too costly for the database (measured once per probe sample revision)
_COSTS_KEY = f"hs-costs-{__version__}-sample2.pickle"


def database_for(rules: Sequence[Rule]) -> Database | None:
    """The Hyperscan database for these rules, from the on-disk cache when the rules are unchanged."""
    if not HAVE_HYPERSCAN:
        return None
    # repr, not json: the json module is an import a warm start otherwise does without; both are exact.
    shape = repr([[r.regex, r.multiline, sorted(k.lower() for k in r.keywords)] for r in rules])
    # The layout tag changes whenever build_database puts different entries in the database.
    key = "hs-" + _digest((_code_version() + _DB_LAYOUT + shape).encode()).hexdigest()[:24] + ".pickle"
    loaded = _DATABASES.get(key)
    if loaded is not None:
        return loaded
    cached = _cache_read(key)
    if isinstance(cached, Database) and loadable(cached):
        _DATABASES[key] = cached
        return cached
    # The cost probe takes a few seconds; only worth it when the result is kept for later runs (a
    # read-only cache would otherwise have every run pay for it).
    verdicts = _cache_read(_COSTS_KEY)
    verdicts = verdicts if isinstance(verdicts, dict) else {}
    known = len(verdicts)
    db = build_database(rules, measure=_cache_writable(), verdicts=verdicts)
    if len(verdicts) != known:
        _cache_write(_COSTS_KEY, verdicts)
    if db is not None:
        _cache_write(key, db)
        _DATABASES[key] = db
    return db


def build_spec(
    rules: Sequence[Rule],
    allowlists: Sequence[Allowlist] = (),
    *,
    use_hyperscan: bool = True,
    regex_timeout: float | None = None,
    decode_depth: int = 0,
) -> EngineSpec:
    rules = tuple(rules)
    database = database_for(rules) if use_hyperscan else None
    extra: dict[str, Any] = {}
    if regex_timeout is not None:
        extra["regex_timeout"] = regex_timeout
    return EngineSpec(
        rules=rules,
        allowlists=tuple(allowlists),
        database=database,
        use_hyperscan=use_hyperscan,
        decode_depth=decode_depth,
        **extra,
    )


def default_rules() -> tuple[Rule, ...]:
    return load_rule_files(builtin_rule_files())
