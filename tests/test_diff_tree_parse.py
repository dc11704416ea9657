"""``git diff-tree --raw -z -c`` output is read into each commit's changes, for every entry shape."""
from __future__ import annotations

from scanner.sources.git_history import NULL_SHA, Change, parse_diff_tree

C1, C2, M = "1" * 40, "2" * 40, "3" * 40
A, B, D, S = "a" * 40, "b" * 40, "d" * 40, "5" * 40


def _entry(meta: str, path: bytes) -> bytes:
    return meta.encode("ascii") + b"\x00" + path + b"\x00"


OUTPUT = (
    C1.encode() + b"\x00"
    + _entry(f":000000 100644 {NULL_SHA} {A} A", b"added.txt")
    + _entry(f":100644 100644 {A} {B} M", b"edited.txt")
    + _entry(f":100644 000000 {B} {NULL_SHA} D", b"deleted.txt")
    + _entry(f":000000 160000 {NULL_SHA} {S} A", b"vendor/sub")
    + _entry(f":160000 100644 {S} {A} T", b"was-a-submodule")
    + _entry(f":100755 100644 {A} {B} M", "caf\u00e9.txt".encode() + b"\xff")
    + b"\n" + C2.encode() + b"\x00"  # a commit with no entries, then a merge's combined entries
    + b"\n" + M.encode() + b"\x00"
    + _entry(f"::100644 100644 100644 {A} {B} {D} MM", b"merged.txt")
    + _entry(f"::160000 000000 100644 {S} {NULL_SHA} {D} TA", b"mixed.txt")
)


def test_every_entry_shape_becomes_the_change_it_describes() -> None:
    assert list(parse_diff_tree(OUTPUT)) == [
        (C1, [
            Change(C1, "added.txt", A, (NULL_SHA,)),
            Change(C1, "edited.txt", B, (A,)),
            Change(C1, "deleted.txt", B, (), deleted=True),
            Change(C1, "vendor/sub", f"submodule:{S}", (NULL_SHA,)),
            Change(C1, "was-a-submodule", A, (NULL_SHA,)),  # a gitlink parent holds no content
            Change(C1, "caf\u00e9.txt\udcff", B, (A,)),
        ]),
        (C2, []),
        (M, [
            Change(M, "merged.txt", D, (A, B)),
            Change(M, "mixed.txt", D, (NULL_SHA, NULL_SHA)),
        ]),
    ]
