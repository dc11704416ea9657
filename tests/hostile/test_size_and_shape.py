"""Size and shape: huge lines, many lines, many files; chunk boundaries never lose or double a finding."""
from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Finding
from scanner.sources import chunking

from .helpers import AKIA, PEM, leakscan, measured, position

SMALL_CHUNK = {"LEAKSCAN_CHUNK_SIZE": "4096"}


def _key(f: Finding) -> tuple[object, ...]:
    return (f.rule_id, f.line, f.column, f.end_line, f.end_column, f.secret, f.decoded)


def _random_text(rnd: random.Random) -> bytes:
    parts: list[str] = []
    for _ in range(rnd.randint(1, 80)):
        r = rnd.random()
        if r < 0.3:
            parts.append("x" * rnd.randint(0, 600))
        elif r < 0.5:
            parts.append(f" k={AKIA} ")
        elif r < 0.56:
            parts.append("\n" + PEM)
        elif r < 0.6:
            parts.append(" password: " + base64.b64encode(f"aws={AKIA}".encode()).decode() + " ")
        elif r < 0.7:
            parts.append("é€𝄞" * rnd.randint(1, 60))
        else:
            parts.append("\n" * rnd.randint(1, 3))
    return "".join(parts).encode()


def _random_blocks(rnd: random.Random, text: bytes) -> list[bytes]:
    blocks, i = [], 0
    while i < len(text):
        j = min(len(text), i + rnd.randint(1, 5000))
        while j < len(text) and 0x80 <= text[j] < 0xC0:
            j += 1
        blocks.append(text[i:j])
        i = j
    return blocks


@pytest.mark.parametrize("size", [1024, 1500, 4096], ids=["1KB", "1500B", "4KB"])
def test_chunked_scan_finds_exactly_what_a_whole_buffer_scan_finds(engine: Engine, size: int) -> None:
    # Without decoding: its per-chunk budgets differ by design between one buffer and many chunks.
    rnd = random.Random(size)
    for _ in range(60):
        text = _random_text(rnd)
        whole = sorted(map(_key, engine.scan(Chunk(data=text, path="p")).findings))
        chunks = list(chunking.split(_random_blocks(rnd, text), "p", size=size))
        got = sorted(_key(f) for c in chunks for f in engine.scan(c).findings)
        assert got == whole
        assert all(len(c.data) <= size + 2 * chunking.overlap_for(size) for c in chunks)


@pytest.mark.parametrize(
    "layout",
    ["single-line", "short-lines", "pem-across-boundary", "multibyte-single-line"],
)
def test_secret_straddling_a_chunk_boundary_is_found_once_at_its_real_position(tmp_path: Path, layout: str) -> None:
    size = int(SMALL_CHUNK["LEAKSCAN_CHUNK_SIZE"])
    filler = {"single-line": "a" * 5000, "short-lines": "ab\n" * 1700, "pem-across-boundary": "z" * 4000 + "\n",
              "multibyte-single-line": "é" * 2100}[layout]
    planted = PEM if layout == "pem-across-boundary" else f" {AKIA} "
    # plant the secret across every offset near the first boundary (and once near the end)
    text = filler[: size - 10] + planted + filler + planted
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    done = leakscan("scan", str(path), "-f", "json", env=SMALL_CHUNK)
    assert done.returncode == 1, done.err
    got = sorted((r["line"], r["column"]) for r in done.rows())
    needle = planted.strip() if layout != "pem-across-boundary" else "-----BEGIN"
    assert got == [position(text, needle, 0), position(text, needle, 1)]


def test_many_short_lines_report_the_right_line(tmp_path: Path) -> None:
    # 250,000 lines across several 256 KB chunks; benchmarks/stress_shapes.py runs a million
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a=1\n" * 249_999 + f"k={AKIA}\n".encode())
    done = leakscan("scan", str(path), "-f", "json", "-j", "2", env={"LEAKSCAN_CHUNK_SIZE": str(256 << 10)})
    assert [(r["line"], r["column"]) for r in done.rows()] == [(250_000, 3)]


def test_many_tiny_files_all_scanned(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for d in range(10):
        sub = root / f"d{d:02}"
        sub.mkdir(parents=True)
        for i in range(100):
            (sub / f"f{i:03}.txt").write_text(f"k={AKIA}\n" if i == d else "x\n")
    done = leakscan("scan", str(root), "-f", "json")
    assert sorted(Path(r["path"]).relative_to(root).as_posix() for r in done.rows()) == [
        f"d{d:02}/f{d:03}.txt" for d in range(10)
    ]


def test_sparse_gigabyte_over_max_file_size_is_skipped_and_others_scanned(tmp_path: Path) -> None:
    big = tmp_path / "huge.log"
    with open(big, "wb") as fh:
        fh.truncate(1 << 30)
    (tmp_path / "small.txt").write_text(f"k={AKIA}\n")
    done = leakscan("scan", str(tmp_path), "-f", "json", "--max-file-size", "500MB", "-v", timeout=30)
    assert done.returncode == 1
    assert [Path(r["path"]).name for r in done.rows()] == ["small.txt"]
    assert "huge.log: larger than --max-file-size" in done.err


@pytest.mark.slow
def test_large_single_line_file_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    chunk = 256 << 10
    size = 20 << 20
    path = tmp_path / "one-line.min.js"
    rnd = random.Random(7)
    offsets = sorted({0, chunk - 5, 3 * chunk + chunk // 2, 17 * chunk - 11, size - 40} | {rnd.randrange(size) for _ in range(5)})
    line = bytearray(b"q" * size)
    for off in offsets:
        line[off : off + 22] = f" {AKIA} ".encode()
    path.write_bytes(bytes(line))
    del line
    (tmp_path / "empty").mkdir()
    baseline = measured("scan", str(tmp_path / "empty"), "-q", env={"LEAKSCAN_CHUNK_SIZE": str(chunk)})
    done = measured("scan", str(path), "-f", "json", "-j", "1", "--max-file-size", "1GB",
                    env={"LEAKSCAN_CHUNK_SIZE": str(chunk)})
    assert done.returncode == 1, done.err
    # collisions in the random offsets overwrite each other; count what is really in the file
    text = path.read_bytes()
    want = []
    pos = text.find(AKIA.encode())
    while pos >= 0:
        want.append((1, pos + 1))
        pos = text.find(AKIA.encode(), pos + 1)
    assert sorted((r["line"], r["column"]) for r in done.rows()) == want
    # a whole-file read would need the file several times over (bytes, decode, copies)
    assert done.max_rss_kb - baseline.max_rss_kb < 8 * 1024, (done.max_rss_kb, baseline.max_rss_kb)


def test_base64_secret_at_a_chunk_boundary_is_decoded_once_at_its_real_position(tmp_path: Path) -> None:
    encoded = base64.b64encode(f"aws_access_key_id={AKIA}".encode()).decode()
    text = "q" * 4080 + f" password: {encoded} " + "q" * 3000 + "\n" + "w" * 50 + f" token: {encoded}\n"
    (tmp_path / "k8s.yaml").write_text(text)
    done = leakscan("scan", str(tmp_path), "-f", "json", "--decode-depth", "2", env=SMALL_CHUNK)
    got = sorted((r["line"], r["column"], r["decoded"]) for r in done.rows() if r["rule_id"] == "aws-access-key-id")
    assert got == [(*position(text, encoded, 0), "base64"), (*position(text, encoded, 1), "base64")]
