"""Filesystem oddities: symlink loops and escapes, dangling links, unreadable input, odd file names."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from scanner.cli import main

from .helpers import AKIA, leakscan

NOBODY = 65534


def test_symlink_loops_and_escapes_end_and_report_each_secret_once(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "k.txt").write_text(f"k={AKIA}\n")
    (root / "a" / "b" / "up").symlink_to("../..")  # a loop back to the root
    (root / "self").symlink_to("self")  # a link to itself
    (root / "x").symlink_to("y")
    (root / "y").symlink_to("x")  # a two-link loop
    (root / "gone").symlink_to("does-not-exist")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("k=AKIAQYLPMN5HHHFPZAM2\n")
    (root / "escape").symlink_to(outside)
    default = leakscan("scan", str(root), "-f", "json", "-v", timeout=30)
    assert [Path(r["path"]).name for r in default.rows()] == ["k.txt"]
    assert "not followed" in default.err
    followed = leakscan("scan", str(root), "-f", "json", "-v", "--follow-symlinks", "--strict", timeout=30)
    assert followed.returncode == 1, followed.err
    assert sorted(r["secret"] for r in followed.rows()) == sorted([AKIA, "AKIAQYLPMN5HHHFPZAM2"])
    assert "symlink loop" in followed.err and "gone: dangling symlink" in followed.err


def test_dangling_symlink_given_as_a_path_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    (tmp_path / "ok.txt").write_text("x\n")
    done = leakscan("scan", str(tmp_path / "link"), str(tmp_path / "ok.txt"), "-v")
    assert done.returncode == 0 and "dangling symlink" in done.err


@pytest.mark.slow
def test_deeply_nested_directories_do_not_overflow_the_stack(tmp_path: Path) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    try:
        for _ in range(1050):  # deeper than Python's recursion limit (os.makedirs would recurse too)
            deep = deep / "d"
            deep.mkdir()
        (deep / "k.txt").write_text(f"k={AKIA}\n")
        done = leakscan("scan", str(tmp_path), "-f", "json", timeout=60)
        assert [r["secret"] for r in done.rows()] == [AKIA]
    finally:
        subprocess.run(["rm", "-rf", str(tmp_path / "deep")], check=True)


def test_fifo_and_devices_are_skipped_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "k.txt").write_text(f"k={AKIA}\n")
    done = leakscan("scan", str(tmp_path), str(tmp_path / "pipe"), "/dev/zero", "-f", "json", "-v", timeout=30)
    assert [r["secret"] for r in done.rows()] == [AKIA]
    assert "pipe: not a regular file" in done.err and "/dev/zero: not a regular file" in done.err


# -- permission denied --------------------------------------------------------------------------


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir any user can enter (pytest's own tmp dirs are private to root when run as root)."""
    path = Path(tempfile.mkdtemp(prefix="leakscan-hostile-"))
    path.chmod(0o755)
    yield path
    for dirpath, dirnames, _files in os.walk(path):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(path)


@pytest.fixture
def warm_shared_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A rule cache nobody can read, filled now: without it every unprivileged run recompiles (~10 s)."""
    from scanner.cli.common import load_spec

    cache = Path(tempfile.mkdtemp(prefix="leakscan-cache-"))
    session_cache = Path(os.environ["LEAKSCAN_CACHE_DIR"])
    load_spec(str(cache))  # fills the session's cache (once per session), then copy it
    shutil.copytree(session_cache, cache, dirs_exist_ok=True)
    monkeypatch.setenv("LEAKSCAN_CACHE_DIR", str(cache))
    for path in [cache, *cache.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield
    shutil.rmtree(cache)


@contextlib.contextmanager
def unprivileged(probe: Path) -> Iterator[None]:
    """Run the block as a user that the kernel denies ``probe`` to (as root: seteuid to nobody)."""
    import scanner.cli.scan  # noqa: F401  imported now: nobody cannot read root's Python install
    import scanner.report.json  # noqa: F401
    import scanner.report.console  # noqa: F401

    dropped = os.geteuid() == 0
    if dropped:
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
    try:
        try:
            probe.open("rb").close()
        except PermissionError:
            pass
        else:
            pytest.skip("cannot make a file unreadable here (running with DAC override?)")
        yield
    finally:
        if dropped:
            os.seteuid(0)
            os.setegid(0)


def _tree_with_unreadable_parts(root: Path) -> None:
    (root / "ok").mkdir()
    (root / "ok" / "k.txt").write_text(f"k={AKIA}\n")
    (root / "locked.txt").write_text("k=AKIAQYLPMN5HHHFPZAM2\n")
    (root / "locked.txt").chmod(0o000)
    (root / "closed").mkdir()
    (root / "closed" / "inner.txt").write_text("x\n")
    (root / "closed").chmod(0o000)
    for p in (root, root / "ok", root / "ok" / "k.txt"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def _main(args: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The real entry point in this process (so a test can drop privileges around it)."""
    with pytest.raises(SystemExit) as stop:
        main(args)
    out, err = capfd.readouterr()
    return int(stop.value.code or 0), out, err


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_permission_denied_warns_skips_and_keeps_going(shared_tmp: Path, strict: bool, warm_shared_cache: None,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    _tree_with_unreadable_parts(shared_tmp)
    args = ["scan", str(shared_tmp), "-f", "json", "-j", "1", *(["--strict"] if strict else [])]
    with unprivileged(shared_tmp / "locked.txt"):
        code, out, err = _main(args, capfd)
    assert code == (3 if strict else 1), err
    assert [r["secret"] for r in json.loads(out)] == [AKIA]  # the readable file's finding is kept
    assert "locked.txt: unreadable: Permission denied" in err
    assert "closed: unreadable directory: Permission denied" in err
    assert ("error: --strict" in err) == strict
    assert "Traceback" not in err


def test_file_that_vanishes_after_the_walk_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    from scanner.sources import filesystem

    (tmp_path / "k.txt").write_text(f"k={AKIA}\n")
    (tmp_path / "gone.txt").write_text("x\n")
    real_walk = filesystem.walk

    def walk_then_delete(*args: object, **kwargs: object) -> Iterator[filesystem.FileItem]:
        items = list(real_walk(*args, **kwargs))  # type: ignore[arg-type]
        (tmp_path / "gone.txt").unlink()
        return iter(items)

    monkeypatch.setattr(sys.modules["scanner.cli.scan"], "walk", walk_then_delete)
    code, out, err = _main(["scan", str(tmp_path), "-f", "json", "-j", "1"], capfd)
    assert code == 1
    assert [r["secret"] for r in json.loads(out)] == [AKIA]
    assert "gone.txt: unreadable: No such file or directory" in err


# -- odd names ----------------------------------------------------------------------------------

ODD_NAMES = {
    "spaces": "with  spaces .txt",
    "newline": "new\nline.txt",
    "quotes": "quo\"te's.txt",
    "backslash": "back\\slash.txt",
    "unicode": "ünï©ødé ☃.txt",
    "dash": "-rf.txt",
}


@pytest.mark.parametrize("name", list(ODD_NAMES.values()), ids=list(ODD_NAMES))
def test_odd_file_names_survive_into_json(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(f"k={AKIA}\n")
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    done = leakscan("scan", str(tmp_path), "-f", "json", "-o", str(out))
    assert done.returncode == 1, done.err
    (row,) = json.loads(out.read_text(encoding="utf-8"))
    assert row["path"] == str(tmp_path / name)


def test_non_utf8_file_name_round_trips_through_json_as_surrogate_escapes(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9-\xff.txt"
    with open(raw, "wb") as fh:
        fh.write(f"k={AKIA}\n".encode())
    for fmt in ("json", "jsonl"):
        done = leakscan("scan", str(tmp_path), "-f", fmt)
        assert done.returncode == 1, done.err
        done.stdout.decode("utf-8")  # the report is valid UTF-8
        assert b"caf\\udce9-\\udcff.txt" in done.stdout  # the documented JSON escape of each byte
        row = json.loads(done.stdout.splitlines()[0] if fmt == "jsonl" else done.stdout)
        row = row if fmt == "jsonl" else row[0]
        assert os.fsencode(row["path"]) == raw
    console = leakscan("scan", str(tmp_path))
    assert console.returncode == 1 and b"caf\\udce9" in console.stdout
