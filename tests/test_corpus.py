"""leakscan's own corpus (tests/corpus/build.py): every planted secret is found by the expected rule on
the expected line, the hard negatives produce nothing, and Hyperscan and the keyword gate agree."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Finding
from scanner.ruleset import build_spec
from tests.corpus.build import Plant, build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Plant]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, build(root)


@pytest.fixture(scope="module")
def engines(rules) -> dict[str, Engine]:  # type: ignore[no-untyped-def]
    spec = build_spec(rules, decode_depth=2)
    return {"hyperscan": Engine(spec), "keyword-gate": Engine(dataclasses.replace(spec, use_hyperscan=False))}


def _scan(engine: Engine, root: Path) -> list[Finding]:
    findings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        findings.extend(engine.scan(Chunk(data=path.read_bytes(), path=rel)).findings)
    return findings


def _plant_id(plant: Plant) -> str:
    return f"{plant.path}:{plant.rule_id}"


def _plants() -> list[Plant]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return build(Path(tmp))


@pytest.mark.parametrize("plant", _plants(), ids=_plant_id)
def test_planted_secret_is_found_by_its_rule_on_its_line(engines, corpus, plant: Plant) -> None:  # type: ignore[no-untyped-def]
    root, _ = corpus
    text = (root / plant.path).read_bytes()
    findings = engines["hyperscan"].scan(Chunk(data=text, path=plant.path)).findings
    hits = [(f.rule_id, f.line) for f in findings if f.secret == plant.secret]
    assert hits == [(plant.rule_id, plant.line)]


def test_every_finding_is_a_planted_secret(engines, corpus) -> None:  # type: ignore[no-untyped-def]
    root, plants = corpus
    planted = {(p.path, p.line, p.rule_id) for p in plants}
    found = {(f.path, f.line, f.rule_id) for f in _scan(engines["hyperscan"], root)}
    assert found == planted  # nothing on the hard negatives under clean/, nothing twice


def test_hard_negatives_exist_for_every_family(corpus) -> None:  # type: ignore[no-untyped-def]
    root, _ = corpus
    clean = {p.name for p in (root / "clean").iterdir()}
    assert {"package-lock.json", "go.sum", "yarn.lock", "README.md", "secrets.enc.yaml", "server.crt"} <= clean


def test_hyperscan_and_keyword_gate_agree_on_the_corpus(engines, corpus) -> None:  # type: ignore[no-untyped-def]
    root, _ = corpus
    keys = {name: sorted((f.path, f.rule_id, f.line, f.column, f.secret) for f in _scan(e, root))
            for name, e in engines.items()}
    assert keys["hyperscan"] == keys["keyword-gate"]
