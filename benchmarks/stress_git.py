"""Stress cases for git history: 50,000 refs, an enormous diff, a corrupt object; time and peak memory.

    python benchmarks/stress_git.py [--only NAME]

Repositories are built with the git CLI in a temporary directory; each case runs
`python -m scanner history` once (see stress_size.py for how time and memory are measured).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from stress_size import AKIA, MB, run

ENV = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a",
       "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, input=stdin, check=True,
                          capture_output=True, env={**os.environ, **ENV})
    return done.stdout.decode()


def repo(root: Path) -> Path:
    path = root / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text(f"k={AKIA}\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "one")
    return path


def case_refs(root: Path) -> dict[str, object]:
    path = repo(root)
    head = git(path, "rev-parse", "HEAD").strip()
    for i in range(50):  # 50 commits, 1,000 refs each
        (path / "n.txt").write_text(f"{i}\n")
        git(path, "add", ".")
        git(path, "commit", "-q", "-m", f"c{i}")
        head = git(path, "rev-parse", "HEAD").strip()
        refs = "".join(f"create refs/heads/r{i:02}-{j:04} {head}\n" for j in range(1000))
        git(path, "update-ref", "--stdin", stdin=refs.encode())
    code, secs, rss, out, _err = run("history", str(path), "-f", "json")
    return {"case": "50,000 refs (50 commits)", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": [r["secret"] for r in json.loads(out)] == [AKIA]}


def case_enormous_diff(root: Path) -> dict[str, object]:
    path = repo(root)
    lines = 4_000_000  # ~100 MB in one commit
    with open(path / "dump.sql", "wb") as fh:
        fh.write(b"insert into t values (1);\n" * lines)
        fh.write(f"-- {AKIA}\n".encode())
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "dump")
    code, secs, rss, out, _err = run("history", str(path), "-f", "json", "--max-file-size", "1GB")
    rows = [r for r in json.loads(out) if r["path"] == "dump.sql"]
    return {"case": "enormous diff (100 MB file in one commit)", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": [(r["line"], r["column"]) for r in rows] == [(lines + 1, 4)]}


def case_corrupt(root: Path) -> dict[str, object]:
    path = repo(root)
    sha = git(path, "rev-parse", "HEAD:a.txt").strip()
    obj = path / ".git" / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    code, secs, rss, _out, err = run("history", str(path), "-f", "json", "--strict")
    return {"case": "corrupt blob object (--strict)", "exit": code, "seconds": secs, "peak_mb": rss,
            "ok": code == 3 and sha.encode() in err}


CASES: dict[str, Callable[[Path], dict[str, object]]] = {
    "refs-50k": case_refs, "enormous-diff": case_enormous_diff, "corrupt-object": case_corrupt,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    for name in args.only or list(CASES):
        root = Path(tempfile.mkdtemp(prefix=f"leakscan-stress-{name}-"))
        try:
            row = CASES[name](root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(f"{row['case']:<55} exit {row['exit']}  {row['seconds']:7.2f} s  {row['peak_mb']:7.1f} MB peak  "
              f"{'ok' if row['ok'] else 'WRONG'}", flush=True)


if __name__ == "__main__":
    main()
