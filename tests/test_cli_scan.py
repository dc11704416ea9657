"""`leakscan scan` end to end, through the real console entry point in a subprocess and via CliRunner."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import cli

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
)
PLANTS = {
    "config/settings.py": ("# settings\nGITHUB = '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'\n", "github-pat", 2, 11),
    "deploy/.env": ("A=1\nB=2\nAWS_ACCESS_KEY_ID=AKIAZ5GMHYJKLOPQRS7T\n", "aws-access-key-id", 3, 19),
    "chat.yaml": ("slack:\n  token: xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd\n", "slack-bot-token", 2, 10),
    "pay/stripe.js": ("const k =\n    'sk_live_51Hx3k2LqM8nV7bR4tY6wZ9pQ0sD';\n", "stripe-secret-key", 2, 6),
    "keys/id_rsa": ("\n" + PEM, "private-key", 2, 1),
}


def _plant(root: Path) -> None:
    for rel, (text, *_rest) in PLANTS.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _leakscan(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True)


def test_scan_finds_planted_keys_with_positions(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    _plant(root)
    out = tmp_path / "f.json"
    done = _leakscan("scan", str(root), "--format", "json", "--output", str(out))
    assert done.returncode == 1, done.stderr
    rows = json.loads(out.read_text())
    got = {(Path(r["path"]).relative_to(root).as_posix(), r["rule_id"], r["line"], r["column"]) for r in rows}
    want = {(rel, rule, line, col) for rel, (_t, rule, line, col) in PLANTS.items()}
    assert got == want
    assert all(r["commit"] is None and r["author"] is None for r in rows)


def test_clean_directory_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("print('hello')\n")
    done = _leakscan("scan", str(tmp_path), "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == []


def test_exit_code_option_and_redact(tmp_path: Path) -> None:
    _plant(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "-f", "json", "--redact", "--exit-code", "7"])
    assert result.exit_code == 7
    for _rel, (text, *_r) in PLANTS.items():
        for token in ("ghp_U8JZpDE0", "AKIAZ5GMHYJKLOPQRS7T", "Tr8uQ3nW1zXk5JpL9mVb2sYd", "51Hx3k2LqM8nV7bR"):
            assert token not in result.output
    assert "REDACTED" in result.output


def test_stdin_is_scanned() -> None:
    result = CliRunner().invoke(cli, ["scan", "-", "-f", "json"], input="key=AKIAZ5GMHYJKLOPQRS7T\n")
    assert result.exit_code == 1
    (row,) = json.loads(result.output)
    assert (row["path"], row["line"], row["column"]) == ("-", 1, 5)


def test_skips_git_dir_binaries_and_large_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("AKIAZ5GMHYJKLOPQRS7T\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01AKIAZ5GMHYJKLOPQRS7T")
    (tmp_path / "big.txt").write_text("AKIAZ5GMHYJKLOPQRS7T\n" + "x" * 3000)
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "-f", "json", "--max-file-size", "1KB", "-v"])
    assert result.exit_code == 0, result.output
    assert "binary" in result.stderr and "max-file-size" in result.stderr


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")], ids=["utf16le", "utf16be"]
)
def test_utf16_with_bom_is_decoded(tmp_path: Path, encoding: str, bom: bytes) -> None:
    (tmp_path / "w.txt").write_bytes(bom + "x\nk = AKIAZ5GMHYJKLOPQRS7T\n".encode(encoding))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "-f", "json"])
    (row,) = json.loads(result.output)
    assert (row["line"], row["column"]) == (2, 5)


def test_invalid_utf8_is_decoded_with_replacement(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa ok\nAKIAZ5GMHYJKLOPQRS7T\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "-f", "json"])
    assert [r["line"] for r in json.loads(result.output)] == [2]


@pytest.mark.parametrize("size", ["10", "10KB", "1.5MB", "2GB"])
def test_max_file_size_accepts_suffixes(tmp_path: Path, size: str) -> None:
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--max-file-size", size])
    assert result.exit_code == 0


def test_bad_size_is_a_usage_error(tmp_path: Path) -> None:
    done = _leakscan("scan", str(tmp_path), "--max-file-size", "lots")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_missing_path_is_a_runtime_error_without_traceback(tmp_path: Path) -> None:
    done = _leakscan("scan", str(tmp_path / "nope"))
    assert done.returncode == 3
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_console_output_masks_secret(tmp_path: Path) -> None:
    _plant(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(tmp_path)])
    assert result.exit_code == 1
    assert "AKIAZ5GMHYJKLOPQRS7T" not in result.output
    assert "aws-access-key-id" in result.output


def test_command_exits_with_its_status_after_the_whole_report_is_written(tmp_path: Path) -> None:
    # The command ends without the interpreter's teardown (scanner.cli.console): the report, larger than
    # a pipe holds, must still arrive whole, and the status must be the scan's.
    for i in range(400):
        (tmp_path / f"f{i}.py").write_text(f"# {i}\nGITHUB = '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'\n")
    run = _leakscan("scan", str(tmp_path), "-f", "json")
    assert run.returncode == 1, run.stderr
    assert len(run.stdout) > 1 << 17 and len(json.loads(run.stdout)) == 400
    assert _leakscan("scan", str(tmp_path / "f0.py"), "--exit-code", "7").returncode == 7
    assert _leakscan("scan", str(tmp_path / "missing")).returncode == 3
