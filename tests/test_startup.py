"""Start-up paths: the on-disk rule and database caches, and what a clean scan leaves unimported."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner import prefilter, ruleset
from scanner.errors import RuleError
from scanner.lazyregex import LazyPattern
from scanner.prefilter import HAVE_HYPERSCAN, Database
from scanner.report import RunInfo, plain

from .leakscan_run import leakscan

RULE = """rules:
  - id: {rule_id}
    description: a test token
    regex: '{regex}'
    keywords: [{keyword}]
    examples: []
"""
TOKEN_A = "zqa_" + "Q7mR2vX9kLp4"
TOKEN_B = "zqb_" + "Q7mR2vX9kLp4"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache directory of this test's own without rule sets, and no rule set or database remembered
    in-process (each test then sees what a new process would). The session's databases are copied in:
    building one for the built-in rules costs seconds, and the rule sets are what these tests vary."""
    folder = tmp_path / "cache"
    folder.mkdir()
    for entry in Path(os.environ["LEAKSCAN_CACHE_DIR"]).glob("hs-*.pickle"):
        shutil.copy(entry, folder / entry.name)
    monkeypatch.setenv("LEAKSCAN_CACHE_DIR", str(folder))
    monkeypatch.setattr(ruleset, "_LOADED", {})
    monkeypatch.setattr(ruleset, "_DATABASES", {})
    return folder


def _rule_file(path: Path, prefix: str) -> Path:
    path.write_text(RULE.format(rule_id="zq-token", regex=rf"\b({prefix}_[A-Za-z0-9]{{12}})\b", keyword=prefix))
    return path


def _entries(cache: Path, kind: str) -> list[Path]:
    return sorted(p for p in cache.glob(f"{kind}-*.pickle") if not p.name.startswith("hs-costs-"))


def test_editing_a_rule_file_is_seen_by_the_same_process_and_by_the_next(cache: Path, tmp_path: Path) -> None:
    path = _rule_file(tmp_path / "custom.yaml", "zqa")
    (first,) = ruleset.load_rule_files([path])
    _rule_file(path, "zqb")  # same size: only the content tells the versions apart
    (edited,) = ruleset.load_rule_files([path])
    assert "zqa" in first.regex and "zqb" in edited.regex
    ruleset._LOADED.clear()  # a new process: only the disk cache
    (again,) = ruleset.load_rule_files([path])
    assert again == edited
    assert len(_entries(cache, "rules")) == 2


DAMAGE = {
    "empty": b"",
    "truncated": None,  # the real entry cut in half
    "garbage": bytes(range(256)) * 4,
    "other-type": pickle.dumps({"not": "rules"}),
    "bad-opcode-stream": b"\x80\x05K\x01K\x02\x93.",  # a valid header, then an opcode on a bad stack
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_rule_cache_entry_is_rebuilt(cache: Path, tmp_path: Path, damage: bytes | None) -> None:
    path = _rule_file(tmp_path / "custom.yaml", "zqa")
    rules = ruleset.load_rule_files([path])
    (entry,) = _entries(cache, "rules")
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2] if damage is None else damage)
    ruleset._LOADED.clear()
    assert ruleset.load_rule_files([path]) == rules
    assert pickle.loads(entry.read_bytes()) == rules  # rewritten, whole


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="Hyperscan is not installed")
@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_database_cache_entry_is_rebuilt(cache: Path, tmp_path: Path, damage: bytes | None) -> None:
    rules = ruleset.load_rule_files([_rule_file(tmp_path / "custom.yaml", "zqa")])
    before = set(_entries(cache, "hs"))  # the session's, copied in
    database = ruleset.database_for(rules)
    (entry,) = set(_entries(cache, "hs")) - before
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2] if damage is None else damage)
    ruleset._DATABASES.clear()
    rebuilt = ruleset.database_for(rules)
    assert isinstance(rebuilt, Database) and rebuilt.rule_ids == database.rule_ids
    assert isinstance(pickle.loads(entry.read_bytes()), Database)


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="Hyperscan is not installed")
@pytest.mark.parametrize("which", ["main", "located"])
def test_a_cached_database_this_hyperscan_cannot_load_is_rebuilt(cache: Path, tmp_path: Path, which: str) -> None:
    # A whole entry whose serialized database another Hyperscan release or another CPU wrote (a shared home).
    rules = ruleset.load_rule_files([_rule_file(tmp_path / "custom.yaml", "zqa")])
    before = set(_entries(cache, "hs"))
    database = ruleset.database_for(rules)
    assert database is not None
    (entry,) = set(_entries(cache, "hs")) - before
    if which == "main":
        foreign = dataclasses.replace(database, blob=b"\0" * len(database.blob))
    else:
        foreign = dataclasses.replace(database, located=(dataclasses.replace(database, blob=b"\0" * 64),))
    entry.write_bytes(pickle.dumps(foreign))
    ruleset._DATABASES.clear()
    rebuilt = ruleset.database_for(rules)
    assert rebuilt is not None and prefilter.loadable(rebuilt) and rebuilt != foreign
    assert pickle.loads(entry.read_bytes()) == rebuilt  # rewritten


def test_cache_entries_of_other_code_are_not_used(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkout between releases keeps its version number: the code that shapes the entries keys them too.
    path = _rule_file(tmp_path / "custom.yaml", "zqa")
    ruleset.load_rule_files([path])
    monkeypatch.setattr(ruleset, "_code_version", lambda: "other code")
    ruleset._LOADED.clear()
    ruleset.load_rule_files([path])
    assert len(_entries(cache, "rules")) == 2


def test_a_rule_file_with_a_bad_verifier_is_a_rule_error(cache: Path, tmp_path: Path) -> None:
    # The verifier spec is parsed only on a cache miss (its module is imported there, not at start).
    path = _rule_file(tmp_path / "custom.yaml", "zqa")
    path.write_text(path.read_text() + "    verify: {url: 1}\n")
    with pytest.raises(RuleError) as info:
        ruleset.load_rule_files([path])
    assert str(info.value).startswith(f"{path}: rule 'zq-token': ") and "\n" not in str(info.value)
    assert not _entries(cache, "rules")  # nothing cached for a set that does not load


def _scan_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[int, list[dict[str, object]]]:
    target = tmp_path / "src"
    target.mkdir(exist_ok=True)
    (target / "settings.py").write_text(
        "AWS_ACCESS_KEY_ID = 'AKIAZ5GMHYJKLOPQRS7T'\ntoken = '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'\n"
        "password = 'hunter2-but-Longer-9f8e7d'\nx = 1\n"
    )
    run = leakscan(capsys, "scan", str(target), "--format", "json", "--jobs", "1")
    return run.code, json.loads(run.out)


def test_scan_output_is_the_same_cold_warm_and_without_a_cache(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _scan_json(capsys, tmp_path)  # the built-in rules parsed from YAML
    assert _entries(cache, "rules")
    ruleset._LOADED.clear()
    ruleset._DATABASES.clear()
    warm = _scan_json(capsys, tmp_path)
    monkeypatch.setenv("LEAKSCAN_NO_CACHE", "1")
    ruleset._LOADED.clear()
    ruleset._DATABASES.clear()
    uncached = _scan_json(capsys, tmp_path)
    assert cold[0] == 1 and {f["rule_id"] for f in cold[1]} >= {"aws-access-key-id", "github-pat"}
    assert cold == warm == uncached


def test_an_unusable_cache_folder_does_not_stop_a_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LEAKSCAN_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(ruleset, "_LOADED", {})
    monkeypatch.setattr(ruleset, "_DATABASES", {})
    code, findings = _scan_json(capsys, tmp_path)
    assert code == 1 and any(f["rule_id"] == "aws-access-key-id" for f in findings)


# -- what a clean scan does without ------------------------------------------------------------------

UNNEEDED = ("rich", "yaml", "requests", "pygit2", "hashlib", "tempfile", "json", "scanner.verify.spec",
            "scanner.baseline", "scanner.report.console")


def test_a_clean_one_file_scan_imports_nothing_it_does_not_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ruleset, "_LOADED", {})  # so the rules are read, and written, in this test's cache
    ruleset.build_spec(ruleset.default_rules())  # the caches are warm, as on any run but the first
    clean = tmp_path / "clean.py"
    clean.write_text("import os\nPASSWORD = os.environ['PASSWORD']\n")
    probe = (
        "import sys\n"
        "from scanner.cli import main\n"
        "try:\n"
        f"    main(['scan', {str(clean)!r}, '--quiet'])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"loaded = sorted(m for m in {UNNEEDED!r} if m in sys.modules)\n"
        "sys.stderr.write(repr((code, loaded)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(ruleset.__file__).resolve().parent.parent)})
    assert done.stdout.startswith("no leaks found; scanned 1 file")
    assert done.stderr.endswith(repr((0, []))), done.stderr


# -- the console report of a clean scan without rich ---------------------------------------------------

INFOS = {
    "scan": RunInfo(command="scan", files_scanned=3, bytes_scanned=5000, duration=0.25),
    "one-file": RunInfo(command="scan", files_scanned=1, bytes_scanned=59, duration=0.01),
    "skipped": RunInfo(command="staged", files_scanned=2, bytes_scanned=10, skipped=(("a", "binary"),)),
    "history": RunInfo(command="history", commits_scanned=1234, bytes_scanned=3 << 30, duration=12.5),
}


@pytest.mark.parametrize("info", INFOS.values(), ids=INFOS.keys())
def test_clean_report_without_rich_is_what_rich_prints(info: RunInfo) -> None:
    from rich.console import Console

    from scanner.report import console as console_report

    out = io.StringIO()
    console_report.render([], info, Console(file=out, force_terminal=False, highlight=False, soft_wrap=True))
    assert plain.clean_report(info) == out.getvalue()


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("env", "tty", "is_file", "expected"),
    [({}, False, False, True), ({}, True, False, False), ({}, True, True, True),
     ({"FORCE_COLOR": "1"}, False, False, False), ({"TTY_COMPATIBLE": "1"}, False, False, False)],
    ids=["pipe", "terminal", "output-file", "force-color", "tty-compatible"],
)
def test_rich_is_skipped_only_where_it_would_print_no_style(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool, is_file: bool, expected: bool
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert plain.unstyled(_Stream(tty), is_file=is_file) is expected


# -- lazily compiled patterns -------------------------------------------------------------------------

CASES = [(r"(?i)pass(?:word)?", "MyPassWord pass"), (r"(\w{3,})[-_.:]\1", "abc-abc x_y"), (r"^\$[A-Za-z_]", "$HOME")]


@pytest.mark.parametrize(("source", "text"), CASES, ids=["caseless", "backreference", "anchored"])
def test_a_lazy_pattern_answers_as_the_compiled_one(source: str, text: str) -> None:
    import re

    lazy, eager = LazyPattern(source), re.compile(source)
    for method in ("search", "match", "fullmatch"):
        got, want = getattr(lazy, method)(text), getattr(eager, method)(text)
        assert (got and got.span()) == (want and want.span()), method
    assert lazy.findall(text) == eager.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.sub("#", text) == eager.sub("#", text)
    assert lazy.pattern == source


@pytest.mark.parametrize("secret", ["AKIAZ5GMHYJKLOPQRS7T", "pässwörd-ünïcode", "\udcff-surrogate", ""],
                         ids=["ascii", "non-ascii", "surrogate-escape", "empty"])
def test_value_fingerprint_is_sha256_of_rule_and_secret(secret: str) -> None:
    # Computed without importing hashlib (built-in SHA-256): baselines and ignore files hold these values.
    import hashlib

    from scanner.model import value_fingerprint

    expected = hashlib.sha256(f"aws-access-key-id\x00{secret}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    assert value_fingerprint("aws-access-key-id", secret) == expected


def test_the_built_in_sha256_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from scanner import model

    looked_up: list[str] = []
    real = importlib.import_module

    def counting(name: str, package: str | None = None) -> object:
        looked_up.append(name)
        return real(name, package)

    getattr(model._sha256, "cache_clear", lambda: None)()  # a new process
    monkeypatch.setattr(importlib, "import_module", counting)
    fingerprints = {model.value_fingerprint("rule", f"value-{i}") for i in range(3)}
    assert len(fingerprints) == 3
    assert 1 <= len(looked_up) <= 2  # "_sha256", then "_sha2" on 3.12+: once per process, not per fingerprint


def test_entries_no_run_used_for_two_weeks_are_deleted_when_one_is_written(cache: Path, tmp_path: Path) -> None:
    stale_time = time.time() - ruleset.STALE_AFTER - 3600
    old_rules, old_database, old_partial, unrelated = (cache / "rules-old.pickle", cache / "hs-old.pickle",
                                                        cache / ".tmp-abandoned", cache / "notes.txt")
    for path in (old_rules, old_database, old_partial, unrelated):
        path.write_bytes(b"x")
        os.utime(path, (stale_time, stale_time))
    used = _rule_file(tmp_path / "used.yaml", "zqa")
    rules = ruleset.load_rule_files([used])
    (used_entry,) = _entries(cache, "rules")
    os.utime(used_entry, (stale_time, stale_time))
    ruleset._LOADED.clear()
    assert ruleset.load_rule_files([used]) == rules  # a read: the entry is in use again
    ruleset.load_rule_files([_rule_file(tmp_path / "other.yaml", "zqb")])  # a write: the stale ones go
    assert not old_rules.exists() and not old_database.exists() and not old_partial.exists()
    assert unrelated.exists() and used_entry.exists()
