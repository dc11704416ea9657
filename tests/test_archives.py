"""Secrets inside archives (zip, tar, gzip, bzip2, xz): found in scan, history and staged with the
``outer!inner`` path, bounded against bombs, and every damaged archive a warning, never a crash."""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from scanner.engine import Engine
from scanner.sources import Notes
from scanner.sources.archives import ArchiveOptions, change_findings, sniff
from tests.conftest import git
from tests.gitrepo import AWS, GITHUB, commit, leakscan, where
from tests.report_fixtures import SARIF_SCHEMA, load_json

MakeRepo = Callable[..., Path]
ENV = f"A=1\nB=2\naws_access_key_id = {AWS}\n"  # the key on line 3, column 21
TOKEN = f"x = 1\ntoken = '{GITHUB}'\n"  # the token on line 2, column 10


def zip_bytes(members: dict[str, str | bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict[str, str | bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


ARCHIVES: dict[str, tuple[str, Callable[[], bytes], set[tuple[str, int, str]]]] = {
    "zip": ("deploy.zip", lambda: zip_bytes({"app/.env": ENV}), {("deploy.zip!app/.env", 3, "aws-access-key-id")}),
    "stored-zip": ("deploy.zip", lambda: zip_bytes({"app/.env": ENV}, zipfile.ZIP_STORED),
                   {("deploy.zip!app/.env", 3, "aws-access-key-id")}),
    "jar": ("lib/app.jar", lambda: zip_bytes({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
                                              "config/app.properties": TOKEN}),
            {("lib/app.jar!config/app.properties", 2, "github-pat")}),
    "tar": ("site.tar", lambda: tar_bytes({"etc/app.conf": TOKEN}), {("site.tar!etc/app.conf", 2, "github-pat")}),
    "tar.gz": ("site.tar.gz", lambda: tar_bytes({"etc/app.conf": TOKEN}, "w:gz"),
               {("site.tar.gz!etc/app.conf", 2, "github-pat")}),
    "tar.bz2": ("site.tbz2", lambda: tar_bytes({"etc/app.conf": TOKEN}, "w:bz2"),
                {("site.tbz2!etc/app.conf", 2, "github-pat")}),
    "tar.xz": ("site.tar.xz", lambda: tar_bytes({"etc/app.conf": TOKEN}, "w:xz"),
               {("site.tar.xz!etc/app.conf", 2, "github-pat")}),
    "zip-in-tar.gz": ("a.tar.gz", lambda: tar_bytes({"b.zip": zip_bytes({"c/app.env": ENV})}, "w:gz"),
                      {("a.tar.gz!b.zip!c/app.env", 3, "aws-access-key-id")}),
    "tar.gz-in-zip": ("a.zip", lambda: zip_bytes({"b.tar.gz": tar_bytes({"c.txt": TOKEN}, "w:gz")}),
                      {("a.zip!b.tar.gz!c.txt", 2, "github-pat")}),
    "gz": ("config.json.gz", lambda: gzip.compress(ENV.encode()), {("config.json.gz!config.json", 3,
                                                                      "aws-access-key-id")}),
    "bz2": ("config.env.bz2", lambda: bz2.compress(ENV.encode()), {("config.env.bz2!config.env", 3,
                                                                     "aws-access-key-id")}),
    "xz": ("config.env.xz", lambda: lzma.compress(ENV.encode()), {("config.env.xz!config.env", 3,
                                                                    "aws-access-key-id")}),
    "zip-named-dat": ("blob.dat", lambda: zip_bytes({"x.env": ENV}), {("blob.dat!x.env", 3, "aws-access-key-id")}),
}


def planted(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def rel_where(run: object, root: Path) -> set[tuple[str, int, str]]:
    return {(p.removeprefix(str(root) + "/"), line, rule) for p, line, rule in where(run)}  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(ARCHIVES), ids=list(ARCHIVES))
def test_secret_inside_an_archive_is_found_with_its_member_path_and_line(tmp_path: Path, capsys, name: str) -> None:
    rel, build, expected = ARCHIVES[name]
    root = planted(tmp_path / "tree", {rel: build()})
    run = leakscan(capsys, "scan", str(root))
    assert run.code == 1
    assert rel_where(run, root) == expected


def test_rule_with_a_path_applies_to_a_member_of_that_name(tmp_path: Path, capsys) -> None:
    # pgpass-password applies to files named .pgpass: "(^|/)" must also match after an archive's "!".
    root = planted(tmp_path / "tree", {"backup.zip": zip_bytes({".pgpass": "db.internal:5432:app:app_user:Vb7#qW2mZx\n"}),
                                       "notes.txt": "db.internal:5432:app:app_user:Vb7#qW2mZx\n"})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("backup.zip!.pgpass", 1, "pgpass-password")}


def test_column_is_counted_in_the_member(tmp_path: Path, capsys) -> None:
    root = planted(tmp_path / "tree", {"d.zip": zip_bytes({"app/.env": ENV})})
    run = leakscan(capsys, "scan", str(root))
    assert [(f["line"], f["column"], f["secret"]) for f in run.findings] == [(3, 21, AWS)]


def _nested(tmp_path: Path) -> Path:
    inner = zip_bytes({"deep.env": ENV})
    return planted(tmp_path / "tree", {"outer.zip": zip_bytes({"top.txt": TOKEN, "inner.zip": inner})})


@pytest.mark.parametrize(("depth", "expected"), [
    ("0", set()),
    ("1", {("outer.zip!top.txt", 2, "github-pat")}),
    ("2", {("outer.zip!top.txt", 2, "github-pat"), ("outer.zip!inner.zip!deep.env", 3, "aws-access-key-id")}),
], ids=["off", "one-level", "nested"])
def test_max_archive_depth_limits_how_deep_archives_are_opened(tmp_path: Path, capsys, depth: str,
                                                               expected: set[tuple[str, int, str]]) -> None:
    root = _nested(tmp_path)
    run = leakscan(capsys, "scan", str(root), "--max-archive-depth", depth, "-v")
    assert rel_where(run, root) == expected
    assert run.code == (1 if expected else 0)
    if depth == "1":
        assert "inner.zip: archive nested deeper than --max-archive-depth 1" in run.stderr


def test_default_depth_opens_one_nested_archive_but_not_two(tmp_path: Path, capsys) -> None:
    third = zip_bytes({"third.env": ENV})
    second = zip_bytes({"second.txt": TOKEN, "third.zip": third})
    root = planted(tmp_path / "tree", {"first.zip": zip_bytes({"second.zip": second})})
    run = leakscan(capsys, "scan", str(root), "-v")
    assert rel_where(run, root) == {("first.zip!second.zip!second.txt", 2, "github-pat")}
    assert "first.zip!second.zip!third.zip: archive nested deeper than --max-archive-depth 2" in run.stderr


@pytest.mark.parametrize(("config", "flag", "found"), [
    ("options:\n  max_archive_depth: 0\n", [], False),
    ("options:\n  max_archive_depth: 0\n", ["--max-archive-depth", "1"], True),
    ("options:\n  max_archive_depth: 1\n", [], True),
], ids=["config-off", "flag-wins", "config-on"])
def test_config_option_sets_the_depth_and_the_flag_wins(tmp_path: Path, capsys, config: str, flag: list[str],
                                                        found: bool) -> None:
    root = planted(tmp_path / "tree", {"d.zip": zip_bytes({"app/.env": ENV}), ".leakscan.yaml": config})
    run = leakscan(capsys, "scan", str(root), *flag)
    assert bool(run.findings) is found


@pytest.mark.parametrize("pattern", ["*.zip", "**/deploy.zip", "tree/deploy.zip"], ids=["glob", "globstar", "path"])
def test_allowlisted_archive_path_skips_its_members(tmp_path: Path, capsys, pattern: str) -> None:
    root = planted(tmp_path / "tree", {"deploy.zip": zip_bytes({"app/.env": ENV}), "app.py": TOKEN,
                                       ".leakscan.yaml": f"allowlist:\n  paths: ['{pattern}']\n"})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("app.py", 2, "github-pat")}


def test_bad_config_depth_is_a_config_error(tmp_path: Path, capsys) -> None:
    root = planted(tmp_path / "tree", {"a.txt": "x\n", ".leakscan.yaml": "options:\n  max_archive_depth: -1\n"})
    run = leakscan(capsys, "scan", str(root))
    assert run.code == 2 and "max_archive_depth" in run.stderr


def test_secret_in_standard_input_archive_is_found(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(zip_bytes({"app/.env": ENV}))))
    run = leakscan(capsys, "scan", "-")
    assert where(run) == {("-!app/.env", 3, "aws-access-key-id")}


@pytest.mark.parametrize(("flag", "found"), [([], False), (["--scan-binaries"], True)], ids=["default", "binaries"])
def test_binary_member_follows_the_scan_binaries_option(tmp_path: Path, capsys, flag: list[str], found: bool) -> None:
    binary = b"\x00\x01\x02\x03" * 64 + f"aws_access_key_id={AWS}".encode() + b"\x00\xff" * 64
    root = planted(tmp_path / "tree", {"d.zip": zip_bytes({"lib/native.so": binary})})
    run = leakscan(capsys, "scan", str(root), "-v", *flag)
    assert bool(run.findings) is found
    if not found:
        assert "d.zip!lib/native.so: binary" in run.stderr


# -- hostile archives ------------------------------------------------------------------------------


def _bomb(members: int, size: int) -> bytes:
    """A first member with a key, then highly compressible members of ``size`` bytes each."""
    buf = io.BytesIO()
    line = b"filler = 'nothing to see here'\n"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/.env", ENV)
        for i in range(members):
            with zf.open(f"bomb/{i}.txt", "w") as out:
                for _ in range(size // (1 << 16)):
                    out.write(line * ((1 << 16) // len(line)))
    return buf.getvalue()


def test_zip_bomb_stops_at_the_archive_cap_with_a_warning_and_keeps_what_was_found(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKSCAN_ARCHIVE_MAX_BYTES", str(4 << 20))
    data = _bomb(members=40, size=1 << 20)  # 40 MB of members in ~100 KB
    assert len(data) < 1 << 20
    root = planted(tmp_path / "tree", {"bomb.zip": data})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("bomb.zip!a/.env", 3, "aws-access-key-id")}
    assert run.code == 1
    caps = [line for line in run.stderr.splitlines() if "cap" in line]
    assert caps == [f"warning: {root}/bomb.zip: archive with more than 4 MB decompressed: scanning stopped at the cap, "
                    "the rest was not scanned"]


def test_member_larger_than_the_member_cap_is_cut_with_a_warning(tmp_path: Path, capsys,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKSCAN_ARCHIVE_MAX_BYTES", str(4 << 20))
    root = planted(tmp_path / "tree", {"big.zip": _bomb(members=1, size=8 << 20)})
    run = leakscan(capsys, "scan", str(root))
    assert run.code == 1
    assert f"warning: {root}/big.zip!bomb/0.txt: member larger than 2 MB decompressed; only its first 2 MB were " \
           "scanned" in run.stderr


@pytest.mark.slow
def test_zip_bomb_with_default_limits_is_bounded(tmp_path: Path, capsys) -> None:
    data = _bomb(members=4, size=40 << 20)  # 160 MB of members in ~0.3 MB
    root = planted(tmp_path / "tree", {"bomb.zip": data})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("bomb.zip!a/.env", 3, "aws-access-key-id")}
    assert "member larger than 32 MB decompressed" in run.stderr
    assert "archive with more than 64 MB decompressed" in run.stderr


def test_zip_declaring_a_huge_directory_is_not_parsed(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanner.sources.archives._MAX_DIRECTORY", 20)
    root = planted(tmp_path / "tree", {"many.zip": zip_bytes({f"f/{i}.txt": TOKEN for i in range(21)}),
                                       "few.zip": zip_bytes({f"f/{i}.txt": "x\n" for i in range(19)} | {"a.env": ENV})})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("few.zip!a.env", 3, "aws-access-key-id")}
    assert "many.zip: archive with more than 20 entries in its directory: scanning stopped at the cap" in run.stderr


@pytest.mark.parametrize("layout", ["name-without-end", "multi-member", "zero-padding"])
def test_gzip_headers_and_members_are_read_in_c(tmp_path: Path, capsys, layout: str) -> None:
    first, second = gzip.compress(b"x = 1\n"), gzip.compress(TOKEN.encode())
    data = {"name-without-end": b"\x1f\x8b\x08\x08" + bytes(6) + b"A" * (40 << 20),
            "multi-member": first + second,
            "zero-padding": first + second + bytes(512)}[layout]
    root = planted(tmp_path / "tree", {"x.txt.gz": data})
    started = time.perf_counter()
    run = leakscan(capsys, "scan", str(root))
    if layout == "name-without-end":
        assert "x.txt.gz: corrupt or truncated gzip archive" in run.stderr and run.code == 0
        assert time.perf_counter() - started < 3  # the gzip module took 8 s on 20 MB of such a header
    else:
        assert rel_where(run, root) == {("x.txt.gz!x.txt", 3, "github-pat")} and "warning" not in run.stderr


def test_too_many_members_stop_at_the_member_cap(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanner.sources.archives.MAX_MEMBERS", 50)
    members: dict[str, str | bytes] = {"a/.env": ENV, **{f"f/{i}.txt": "x\n" for i in range(100)}}
    root = planted(tmp_path / "tree", {"many.zip": zip_bytes(members)})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("many.zip!a/.env", 3, "aws-access-key-id")}
    assert "many.zip: archive with more than 50 members: scanning stopped at the cap" in run.stderr


def test_gzip_bomb_of_a_tar_is_bounded(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKSCAN_ARCHIVE_MAX_BYTES", str(2 << 20))
    # A device entry declaring a huge size: its data is skipped by reading through it, and that is charged.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        first = ENV.encode()
        info = tarfile.TarInfo("a/.env")
        info.size = len(first)
        tf.addfile(info, io.BytesIO(first))
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 << 20
        tf.addfile(info, io.BytesIO(bytes(64 << 20)))
    root = planted(tmp_path / "tree", {"x.tgz": buf.getvalue()})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("x.tgz!a/.env", 3, "aws-access-key-id")}
    assert "x.tgz: archive with more than 2 MB decompressed" in run.stderr


@pytest.mark.parametrize("other", ["clean", "leak"], ids=["clean-tree", "leak-elsewhere"])
def test_corrupt_archive_is_a_warning_and_the_exit_status_follows_other_findings(tmp_path: Path, capsys,
                                                                               other: str) -> None:
    good = zip_bytes({"app/.env": ENV})
    files: dict[str, bytes | str] = {"broken.zip": good[:40], "garbage.tar.gz": b"\x1f\x8b\x08\x00" + b"\xff" * 300}
    if other == "leak":
        files["app.py"] = TOKEN
    root = planted(tmp_path / "tree", files)
    run = leakscan(capsys, "scan", str(root))
    assert run.code == (1 if other == "leak" else 0)
    assert rel_where(run, root) == ({("app.py", 2, "github-pat")} if other == "leak" else set())
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert any(f"{root}/broken.zip: corrupt or truncated zip archive" in w for w in warnings)
    assert any(f"{root}/garbage.tar.gz: corrupt or truncated gzip archive" in w for w in warnings)
    assert "Traceback" not in run.stderr


def test_strict_fails_on_an_archive_that_was_only_partly_scanned(tmp_path: Path, capsys) -> None:
    root = planted(tmp_path / "tree", {"broken.zip": zip_bytes({"a.txt": "x\n"})[:40], "ok.txt": "fine\n"})
    assert leakscan(capsys, "scan", str(root)).code == 0
    run = leakscan(capsys, "scan", str(root), "--strict")
    assert run.code == 3 and "broken.zip: corrupt or truncated zip archive" in run.stderr


def test_truncated_tar_gz_keeps_the_findings_before_the_damage(tmp_path: Path, capsys) -> None:
    filler = "".join(f"line {i} {i * 7919 % 104729}\n" for i in range(60_000))
    data = tar_bytes({"a/.env": ENV, "b/big.txt": filler}, "w:gz")
    root = planted(tmp_path / "tree", {"cut.tar.gz": data[: len(data) // 2]})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("cut.tar.gz!a/.env", 3, "aws-access-key-id")}
    assert run.code == 1
    assert "cut.tar.gz!b/big.txt: corrupt archive member" in run.stderr
    assert len([line for line in run.stderr.splitlines() if line.startswith("warning:")]) == 1


def _patch_zip(data: bytes, *, flags: int | None = None, method: int | None = None) -> bytes:
    """Set the flag bits or compression method of the first entry, in its local and central headers."""
    raw = bytearray(data)
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    if flags is not None:
        raw[local + 6 : local + 8] = flags.to_bytes(2, "little")
        raw[central + 8 : central + 10] = flags.to_bytes(2, "little")
    if method is not None:
        raw[local + 8 : local + 10] = method.to_bytes(2, "little")
        raw[central + 10 : central + 12] = method.to_bytes(2, "little")
    return bytes(raw)


@pytest.mark.parametrize(("patch", "message"), [
    ({"flags": 0x1}, "locked.zip!secret.env: encrypted zip member, not scanned"),
    ({"method": 99}, "locked.zip!secret.env: zip compression method 99 is not supported, not scanned"),
], ids=["encrypted", "unknown-method"])
def test_unreadable_zip_member_is_a_warning_and_the_other_members_are_scanned(tmp_path: Path, capsys,
                                                                               patch: dict[str, int],
                                                                               message: str) -> None:
    data = _patch_zip(zip_bytes({"secret.env": ENV, "other.txt": TOKEN}), **patch)
    root = planted(tmp_path / "tree", {"locked.zip": data})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("locked.zip!other.txt", 2, "github-pat")}
    assert f"warning: {root}/{message}" in run.stderr.splitlines()


def test_tar_links_devices_and_escaping_names_are_only_labels(tmp_path: Path, capsys) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, kind in (("link", tarfile.SYMTYPE), ("dev", tarfile.CHRTYPE), ("fifo", tarfile.FIFOTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd"
            tf.addfile(info)
        for name in ("../../escape.env", "/abs/path.env"):
            raw = ENV.encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    root = planted(tmp_path / "tree", {"odd.tar": buf.getvalue()})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("odd.tar!../../escape.env", 3, "aws-access-key-id"),
                                    ("odd.tar!/abs/path.env", 3, "aws-access-key-id")}
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written anywhere
    assert "warning" not in run.stderr


def test_no_secret_appears_in_warnings_or_notes(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKSCAN_ARCHIVE_MAX_BYTES", str(1 << 20))
    files: dict[str, bytes | str] = {
        "bomb.zip": _bomb(members=4, size=1 << 20),
        "locked.zip": _patch_zip(zip_bytes({"s.env": ENV}), flags=1),
        "cut.tar.gz": tar_bytes({"a/.env": ENV, "b.txt": "y\n" * 50_000}, "w:gz")[:300],
    }
    root = planted(tmp_path / "tree", files)
    run = leakscan(capsys, "scan", str(root), "-v")
    assert run.stderr.count("warning:") >= 3
    assert AWS not in run.stderr and GITHUB not in run.stderr


def test_text_that_only_looks_like_a_tar_header_is_scanned_as_text(tmp_path: Path, capsys) -> None:
    text = ("#" * 257 + "ustar  \n" + TOKEN).encode()
    assert sniff(text) is None
    root = planted(tmp_path / "tree", {"notes.txt": text})
    run = leakscan(capsys, "scan", str(root))
    assert rel_where(run, root) == {("notes.txt", 3, "github-pat")}


# -- reports ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["console", "json", "jsonl", "sarif"])
def test_redact_hides_a_secret_found_in_an_archive_in_every_format(tmp_path: Path, capsys, fmt: str) -> None:
    from tests.leakscan_run import leakscan as run_cli

    root = planted(tmp_path / "tree", {"d.zip": zip_bytes({"app/.env": ENV, "b.txt": TOKEN})})
    plain = run_cli(capsys, "scan", str(root), "-f", fmt, "--show-secrets" if fmt == "console" else "-q")
    redacted = run_cli(capsys, "scan", str(root), "-f", fmt, "--redact")
    assert plain.code == redacted.code == 1
    if fmt != "sarif":  # SARIF never holds a secret; the others do unless redacted, so redaction is tested
        assert AWS in plain.out and GITHUB in plain.out
    assert "d.zip!app/.env" in redacted.out or "d.zip%21app/.env" in redacted.out
    assert AWS not in redacted.out + redacted.err and GITHUB not in redacted.out + redacted.err


def test_sarif_for_an_archive_member_is_schema_valid_with_a_valid_uri(tmp_path: Path, capsys) -> None:
    from tests.leakscan_run import leakscan as run_cli

    root = planted(tmp_path / "tree", {"a.zip": zip_bytes({"b.tar.gz": tar_bytes({"dir/c.env": ENV}, "w:gz")})})
    run = run_cli(capsys, "scan", str(root), "-f", "sarif")
    doc = json.loads(run.out)
    schema = load_json(SARIF_SCHEMA)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(doc)
    [result] = doc["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "a.zip%21b.tar.gz%21dir/c.env"
    assert location["region"]["startLine"] == 3


# -- history and staged ----------------------------------------------------------------------------


def _commit_zip(repo: Path, message: str, members: dict[str, str | bytes]) -> str:
    (repo / "deploy.zip").write_bytes(zip_bytes(members))
    git(repo, "add", "deploy.zip")
    return commit(repo, message)


def test_history_reports_a_secret_in_an_archive_once_at_the_commit_that_added_it(make_repo: MakeRepo,
                                                                                 capsys) -> None:
    repo = make_repo()
    _commit_zip(repo, "clean archive", {"README": "hello\n"})
    leak = _commit_zip(repo, "add config", {"README": "hello\n", "app/.env": ENV})
    _commit_zip(repo, "edit readme", {"README": "hello again\n", "app/.env": ENV})
    _commit_zip(repo, "move config", {"README": "hello again\n", "conf/.env": "# moved\n" + ENV, "x.txt": "1\n"})
    run = leakscan(capsys, "history", str(repo))
    assert run.code == 1
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("deploy.zip!app/.env", 3, leak)]


def test_history_does_not_report_a_moved_archive_again(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    leak = _commit_zip(repo, "leak", {"app/.env": ENV})
    git(repo, "mv", "deploy.zip", "release.zip")
    commit(repo, "rename")
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("deploy.zip!app/.env", leak)]


def test_history_reports_a_secret_added_again_to_a_new_archive_path(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    first = _commit_zip(repo, "leak", {"app/.env": ENV})
    (repo / "copy.tar.gz").write_bytes(tar_bytes({"app/.env": ENV}, "w:gz"))
    git(repo, "add", "copy.tar.gz")
    second = commit(repo, "copy")
    run = leakscan(capsys, "history", str(repo))
    assert {(f["path"], f["commit"]) for f in run.findings} == {("deploy.zip!app/.env", first),
                                                                        ("copy.tar.gz!app/.env", second)}


def test_history_depth_zero_leaves_archives_closed(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    _commit_zip(repo, "leak", {"app/.env": ENV})
    run = leakscan(capsys, "history", str(repo), "--max-archive-depth", "0")
    assert (run.code, run.findings) == (0, [])


def test_change_findings_drop_a_secret_the_previous_version_already_held(engine: Engine) -> None:
    old = zip_bytes({"a.env": ENV})
    new = zip_bytes({"renamed/b.env": "# moved\n" + ENV, "c.txt": TOKEN})
    found = change_findings(engine, new, old, "x.zip", Notes(), ArchiveOptions())
    assert {(f.path, f.rule_id) for f in found} == {("x.zip!c.txt", "github-pat")}
    again = change_findings(engine, new, b"", "x.zip", Notes(), ArchiveOptions())
    assert {(f.path, f.rule_id) for f in again} == {("x.zip!c.txt", "github-pat"),
                                                    ("x.zip!renamed/b.env", "aws-access-key-id")}


def test_change_findings_do_not_read_zip_entries_the_previous_version_held_unchanged(engine: Engine) -> None:
    old = zip_bytes({"a.env": ENV, "b.txt": "x\n"})
    new = zip_bytes({"a.env": ENV, "b.txt": "y\n", "c.txt": TOKEN})
    notes = Notes()
    found = change_findings(engine, new, old, "x.zip", notes, ArchiveOptions())
    assert {(f.path, f.rule_id) for f in found} == {("x.zip!c.txt", "github-pat")}
    assert notes.files_scanned == 2  # b.txt and c.txt: a.env is the same entry (name, CRC, size)


def test_staged_archive_with_a_key_blocks_the_commit(make_repo: MakeRepo, capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.leakscan_run import leakscan as run_cli

    repo = make_repo()
    commit(repo, "base", {"app.py": "a = 1\n"})
    (repo / "deploy.zip").write_bytes(zip_bytes({"app/.env": ENV}))
    git(repo, "add", "deploy.zip")
    monkeypatch.setenv("PRE_COMMIT", "1")
    run = run_cli(capsys, "staged", str(repo), "-f", "json")
    assert run.code == 1
    assert [(f["path"], f["line"]) for f in json.loads(run.out)] == [("deploy.zip!app/.env", 3)]
    assert AWS not in run.out + run.err  # the hook's report is redacted


def test_staged_archive_reports_only_what_head_did_not_hold(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    _commit_zip(repo, "leak", {"app/.env": ENV})
    (repo / "deploy.zip").write_bytes(zip_bytes({"app/.env": ENV, "b.txt": TOKEN}))
    (repo / "notes.md").write_text("plain text\n")
    git(repo, "add", "deploy.zip", "notes.md")
    run = leakscan(capsys, "staged", str(repo))
    assert where(run) == {("deploy.zip!b.txt", 2, "github-pat")}


def test_staged_binary_that_is_no_archive_is_still_skipped(make_repo: MakeRepo, capsys) -> None:
    repo = make_repo()
    commit(repo, "base", {"app.py": "a = 1\n"})
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + AWS.encode())
    git(repo, "add", "image.png")
    run = leakscan(capsys, "staged", str(repo), "-v")
    assert (run.code, run.findings) == (0, [])
    assert "image.png: binary" in run.stderr


@pytest.mark.parametrize(("entry_path", "code"), [("d.zip", 0), ("d.zip!app/.env", 0), ("other.zip", 1)],
                         ids=["the-archive", "the-member", "another-archive"])
def test_ignore_entry_naming_an_archive_covers_its_members(tmp_path: Path, capsys, entry_path: str,
                                                           code: int) -> None:
    root = planted(tmp_path / "tree", {"d.zip": zip_bytes({"app/.env": ENV})})
    found = leakscan(capsys, "scan", str(root)).findings
    assert [f["rule_id"] for f in found] == ["aws-access-key-id"]
    (root / ".leakscanignore").write_text(f"{found[0]['fingerprint']} {entry_path}  # rotated\n")
    assert leakscan(capsys, "scan", str(root)).code == code
