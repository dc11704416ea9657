"""The pipeline: small inputs stay in-process, a stream of items reaches the workers while it is still read."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from scanner import pipeline
from scanner.engine import EngineSpec
from scanner.model import Chunk
from scanner.ruleset import build_spec
from scanner.sources import Notes

KEY = "AKIAZ5GMHYJKLOPQRS7T"


@dataclass(frozen=True)
class TextItem:
    text: str
    path: str

    @property
    def size(self) -> int:
        return len(self.text)

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        yield Chunk(data=self.text.encode(), path=self.path)


def _items(count: int) -> list[TextItem]:
    return [TextItem(f"aws_access_key_id = {KEY}\n" if i % 500 == 0 else "x = 1\n", f"f{i}.py") for i in range(count)]


@pytest.fixture(scope="module")
def spec(rules) -> EngineSpec:  # type: ignore[no-untyped-def]
    return build_spec(rules)


def _paths(report: pipeline.ScanReport) -> list[str]:
    return sorted(f.path for f in report.findings)


def test_small_stream_is_scanned_in_process(spec: EngineSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_workers(*_args: object) -> None:
        raise AssertionError("a small input must not start worker processes")

    monkeypatch.setattr(pipeline, "_run_parallel", no_workers)
    report = pipeline.run(spec, iter(_items(1000)), jobs=2)
    assert _paths(report) == ["f0.py", "f500.py"]


def test_large_stream_reaches_workers_before_it_is_exhausted(spec: EngineSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "SERIAL_BYTES", 1000)
    items = _items(4000)  # 16 batches: more than the 2 x 3 the pipeline queues before it waits for results
    read = []

    def stream() -> Iterator[TextItem]:
        for item in items:
            read.append(item)
            yield item

    first_progress: list[int] = []
    report = pipeline.run(spec, stream(), jobs=2, progress=lambda _n, _b: first_progress.append(len(read)))
    assert first_progress[0] < len(items)
    assert _paths(report) == _paths(pipeline.run(spec, items, jobs=1))
    assert _paths(report) == sorted(f"f{i}.py" for i in range(0, 4000, 500))
