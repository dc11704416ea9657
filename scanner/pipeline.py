"""Runs work items through engines, in this process or across worker processes, and collects results.

Workers are processes (pygit2, re and bytes.lower hold the GIL: 2 threads give 1.0x, 2 processes
1.9x). Each builds its own Engine from the picklable EngineSpec, which carries the serialized
Hyperscan database, so the design works with the spawn start method too.
"""
from __future__ import annotations

import itertools
import os
import queue
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .engine import Engine, EngineSpec
from .model import Finding
from .sources import Notes, WorkItem

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

BATCH_BYTES = 1 << 20
BATCH_ITEMS = 256
SERIAL_BYTES = 2 << 20  # below this, forking workers costs more than it saves
STOP_GRACE = 2.0  # seconds stopped workers get to exit on SIGTERM before they are killed


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)
    partial: list[tuple[str, str]] = field(default_factory=list)  # (path, rule id) that timed out
    duration: float = 0.0


ProgressFn = Callable[[int, int], None]  # (items done, bytes done)
_BatchResult = tuple[list[Finding], Notes, list[tuple[str, str]], int]  # findings, notes, timed out, items
_T = TypeVar("_T")

_WORKER_ENGINE: Engine | None = None
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _init_worker(spec: EngineSpec) -> None:
    global _WORKER_ENGINE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's SIGTERM handler is not ours: just stop
    if hasattr(signal, "pthread_sigmask"):  # held since the fork (see _signals_held): let them in now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _WORKER_ENGINE = Engine(spec)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a submit may start workers.

    A worker begins as a copy of the parent, with the parent's handlers, until its initializer swaps
    them. A Ctrl-C to the process group in that gap raised KeyboardInterrupt inside the new worker
    (a traceback, a broken pool, once a parent waiting forever at exit for a worker that was never
    told to stop). Held signals stay pending instead: the parent takes its own as soon as the submit
    returns, and a worker's are ignored (SIGINT) or stop it (SIGTERM) once its initializer lets them in.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _run_batch(batch: Sequence[WorkItem]) -> _BatchResult:
    assert _WORKER_ENGINE is not None
    return scan_items(_WORKER_ENGINE, batch) + (len(batch),)


def scan_items(engine: Engine, items: Iterable[WorkItem]) -> tuple[list[Finding], Notes, list[tuple[str, str]]]:
    findings: list[Finding] = []
    notes = Notes()
    partial: list[tuple[str, str]] = []
    for item in items:
        for chunk in item.chunks(notes):
            if engine.path_allowed(chunk.path):
                continue
            result = engine.scan(chunk)
            findings.extend(result.findings)
            partial.extend((chunk.path, rule_id) for rule_id in result.timed_out_rules)
    return findings, notes, partial


def _batches(items: Iterable[WorkItem]) -> Iterator[list[WorkItem]]:
    batch: list[WorkItem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += item.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def run(
    spec: EngineSpec,
    items: Sequence[WorkItem] | Iterable[WorkItem],
    *,
    jobs: int = 0,
    progress: ProgressFn | None = None,
    engine: Engine | None = None,
) -> ScanReport:
    """Scan every item. ``jobs`` 0 means one worker per core; small inputs are scanned in-process."""
    started = time.monotonic()
    jobs = jobs or default_jobs()
    report = ScanReport()
    if not isinstance(items, Sequence) and jobs > 1:
        items = _small_or_stream(items)
    if isinstance(items, Sequence) and sum(i.size for i in items) < SERIAL_BYTES:
        jobs = 1
    if jobs <= 1:
        eng = engine or Engine(spec)
        done_items = done_bytes = 0
        for batch in _batches(items):
            findings, notes, partial = scan_items(eng, batch)
            _collect(report, findings, notes, partial)
            done_items += len(batch)
            done_bytes += sum(i.size for i in batch)
            if progress:
                progress(done_items, done_bytes)
    else:
        _run_parallel(spec, items, jobs, report, progress)
    report.duration = time.monotonic() - started
    return report


def _small_or_stream(items: Iterable[WorkItem]) -> Sequence[WorkItem] | Iterator[WorkItem]:
    """A list when the items add up to less than SERIAL_BYTES, else a stream that starts with the items
    read so far: workers then scan while the source (a directory walk) is still listing the rest."""
    stream = iter(items)
    head: list[WorkItem] = []
    size = 0
    for item in stream:
        head.append(item)
        size += item.size
        if size >= SERIAL_BYTES:
            return itertools.chain(head, stream)
    return head


def _collect(report: ScanReport, findings: list[Finding], notes: Notes, partial: list[tuple[str, str]]) -> None:
    report.findings.extend(findings)
    report.notes.merge(notes)
    report.partial.extend(partial)


def _run_parallel(
    spec: EngineSpec, items: Iterable[WorkItem], jobs: int, report: ScanReport, progress: ProgressFn | None
) -> None:
    import multiprocessing  # only parallel runs pay for these imports
    from concurrent.futures import ProcessPoolExecutor

    method = os.environ.get("LEAKSCAN_START_METHOD") or None
    ctx = multiprocessing.get_context(method)
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(spec,))
    done: _Completions[_BatchResult] = _Completions()
    sizes: dict[Future[_BatchResult], int] = {}
    done_items = done_bytes = 0
    try:
        for batch in _batches(items):
            while done.pending >= jobs * 3:  # bounded: never queue the whole input
                done_items, done_bytes = _drain(done.next(), report, sizes, done_items, done_bytes, progress)
            with _signals_held():
                fut = executor.submit(_run_batch, batch)
            sizes[fut] = sum(i.size for i in batch)
            done.add(fut)
        while done.pending:
            done_items, done_bytes = _drain(done.next(), report, sizes, done_items, done_bytes, progress)
    except BaseException:
        _stop(executor)
        raise
    executor.shutdown(wait=True)


class _Completions(Generic[_T]):
    """Futures handed back as they finish, for the main thread to wait on.

    Not ``concurrent.futures.wait``: it takes each pending future's lock in a Python loop, and a
    Ctrl-C or SIGTERM landing between two of those acquires leaves a lock held by the main thread.
    The pool's thread then blocks on that lock when it fails the futures of the stopped workers, and
    ``shutdown(wait=True)`` (and the interpreter's exit) waits for that thread forever. Here a signal
    can only land in ``SimpleQueue.get``, which holds no lock the pool's thread needs.
    """

    def __init__(self) -> None:
        self._done: queue.SimpleQueue[Future[_T]] = queue.SimpleQueue()
        self.pending = 0

    def add(self, fut: Future[_T]) -> None:
        self.pending += 1
        fut.add_done_callback(self._done.put)

    def next(self) -> Future[_T]:
        fut = self._done.get()
        self.pending -= 1
        return fut


def _drain(
    fut: Future[_BatchResult], report: ScanReport, sizes: dict[Future[_BatchResult], int], done_items: int,
    done_bytes: int, progress: ProgressFn | None,
) -> tuple[int, int]:
    findings, notes, partial, count = fut.result()
    _collect(report, findings, notes, partial)
    done_items += count
    done_bytes += sizes.pop(fut, 0)
    if progress:
        progress(done_items, done_bytes)
    return done_items, done_bytes


def _run_task(fn: Callable[[Engine, Any], Any], task: Any) -> Any:
    assert _WORKER_ENGINE is not None
    return fn(_WORKER_ENGINE, task)


def map_tasks(
    spec: EngineSpec,
    fn: Callable[[Engine, Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int = 0,
    engine: Engine | None = None,
) -> Iterator[Any]:
    """Yield ``fn(engine, task)`` for every task, as results arrive (not in order).

    For sources whose unit of work is not a chunk (git history reads blobs in bulk through its own
    ``git cat-file`` per worker). ``fn`` must be a module-level function and tasks picklable. Tasks are
    pulled lazily: at most three per worker are queued, so a streaming producer stays bounded.
    """
    jobs = jobs or default_jobs()
    if jobs <= 1:
        eng = engine or Engine(spec)
        for task in tasks:
            yield fn(eng, task)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = os.environ.get("LEAKSCAN_START_METHOD") or None
    ctx = multiprocessing.get_context(method)
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(spec,))
    done: _Completions[Any] = _Completions()
    try:
        for task in tasks:
            while done.pending >= jobs * 3:
                yield done.next().result()
            with _signals_held():
                done.add(executor.submit(_run_task, fn, task))
        while done.pending:
            yield done.next().result()
    except BaseException:
        _stop(executor)
        raise
    executor.shutdown(wait=True)


def _stop(executor: ProcessPoolExecutor) -> None:
    """Stop the workers now (Ctrl-C, SIGTERM, an error) and wait for the pool's thread to notice,
    so nothing is left running and nothing writes to a closed pipe at interpreter exit."""
    procs = list((getattr(executor, "_processes", None) or {}).values())
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for proc in procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:  # one that ignored SIGTERM (e.g. not yet past its start-up) would block the pool's join
        if proc.is_alive():
            proc.kill()
            proc.join()
    executor.shutdown(wait=True, cancel_futures=True)
