"""Encodings: binaries, invalid UTF-8, UTF-16 with and without BOM, CR/CRLF/LF, NUL bytes in text."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from .helpers import AKIA, leakscan, position

TEXT = f"first line\nsecond é line\n  key = {AKIA}\nlast\n"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-16-le", b""),
     ("utf-16-be", b""), ("utf-8", codecs.BOM_UTF8), ("utf-8", b"")],
    ids=["utf16le-bom", "utf16be-bom", "utf16le-nobom", "utf16be-nobom", "utf8-bom", "utf8"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
def test_text_encodings_report_the_secret_at_its_position(tmp_path: Path, encoding: str, bom: bytes,
                                                          chunked: bool) -> None:
    # chunked: a 1 KB chunk size puts chunk boundaries (and odd UTF-16 byte splits) before the secret
    text = ("padding line ☃\n" * 300 if chunked else "") + TEXT
    (tmp_path / "f.txt").write_bytes(bom + text.encode(encoding))
    done = leakscan("scan", str(tmp_path), "-f", "json", env={"LEAKSCAN_CHUNK_SIZE": "1024"} if chunked else None)
    assert [(r["line"], r["column"], r["secret"]) for r in done.rows()] == [(*position(text, AKIA), AKIA)]


def test_invalid_utf8_everywhere_keeps_positions(tmp_path: Path) -> None:
    raw = b"\xff\xfe bad\n\xc3( \xe2\x82 x\n" * 200 + f"\xe9\xe9 {AKIA}\n".encode("latin-1") + b"\xf0\x9f"
    (tmp_path / "bad.txt").write_bytes(raw)
    done = leakscan("scan", str(tmp_path), "-f", "json", env={"LEAKSCAN_CHUNK_SIZE": "1024"})
    # each invalid byte is one replacement character, so the column counts two before the space
    assert [(r["line"], r["column"]) for r in done.rows()] == [(401, 4)]


@pytest.mark.parametrize(
    "newline", ["\n", "\r\n", "\r", "mixed"], ids=["lf", "crlf", "cr", "mixed"]
)
def test_line_endings_count_lines_like_an_editor(tmp_path: Path, newline: str) -> None:
    endings = ["\n", "\r\n", "\r"] if newline == "mixed" else [newline]
    lines = [f"line {i}" for i in range(40)] + [f"k={AKIA}", "tail"]
    text = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))
    (tmp_path / "f.txt").write_bytes(text.encode())
    done = leakscan("scan", str(tmp_path), "-f", "json")
    assert [(r["line"], r["column"]) for r in done.rows()] == [(41, 3)]


def test_cr_at_a_chunk_boundary_is_not_a_second_line_break(tmp_path: Path) -> None:
    text = "".join(f"{i:05}\r\n" for i in range(1000)) + f"k={AKIA}\r\n"
    (tmp_path / "f.txt").write_bytes(text.encode())
    for size in ("1024", "1025", "1031"):  # 7-byte lines: some boundary falls between \r and \n
        done = leakscan("scan", str(tmp_path), "-f", "json", env={"LEAKSCAN_CHUNK_SIZE": size})
        assert [(r["line"], r["column"]) for r in done.rows()] == [(1001, 3)], size


@pytest.mark.parametrize("where", ["head", "middle"], ids=["nul-in-first-8KB", "nul-after-8KB"])
def test_nul_bytes_inside_text_do_not_hide_secrets(tmp_path: Path, where: str) -> None:
    body = "x = 1\n" * (10 if where == "head" else 2000)
    text = "\x00" + body + f"k={AKIA}\n" if where == "head" else body + "\x00\x00\n" + f"k={AKIA}\x00\n"
    (tmp_path / "f.txt").write_bytes(text.encode())
    done = leakscan("scan", str(tmp_path), "-f", "json")
    assert [(r["line"], r["secret"]) for r in done.rows()] == [(position(text, AKIA)[0], AKIA)]


def test_binary_files_are_skipped_visibly_or_scanned_on_request(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 40 + f"\x00\x01{AKIA}\x00".encode() + bytes(range(256)) * 40
    (tmp_path / "a.bin").write_bytes(blob)
    skipped = leakscan("scan", str(tmp_path), "-f", "json", "-v")
    assert skipped.returncode == 0 and skipped.rows() == []
    assert "a.bin: binary" in skipped.err
    scanned = leakscan("scan", str(tmp_path), "-f", "json", "--scan-binaries", env={"LEAKSCAN_CHUNK_SIZE": "1024"})
    assert [r["secret"] for r in scanned.rows()] == [AKIA]
