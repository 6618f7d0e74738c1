"""Progress reporting: a rich bar per step on a terminal, plain lines otherwise, or nothing."""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from rich.progress import TaskID


class Task:
    """A unit of progress; ``advance`` is thread-safe."""

    def __init__(self, reporter: Progress, label: str, total: int):
        self.reporter, self.label, self.total, self.done = reporter, label, total, 0
        self._lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
        self.reporter._update(self)

    def set_total(self, total: int) -> None:
        self.total = total
        self.reporter._update(self)


class Progress:
    """Silent base: subclasses show progress. ``task(label, total)`` is a context manager."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Task]:
        t = Task(self, label, total)
        start = time.perf_counter()
        self._start(t)
        try:
            yield t
        finally:
            self._finish(t, time.perf_counter() - start)

    def log(self, message: str) -> None:
        pass

    def _start(self, task: Task) -> None:
        pass

    def _update(self, task: Task) -> None:
        pass

    def _finish(self, task: Task, seconds: float) -> None:
        pass

    def close(self) -> None:
        pass


class PlainProgress(Progress):
    """Plain lines when output is not a terminal (CI logs, pipes): one per step when it ends,
    and while steps run, one per running step at least every ``interval`` seconds (a quiet
    log for minutes looks like a hang)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0):
        super().__init__(stream)
        self.interval = interval
        self._running: dict[int, tuple[Task, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def log(self, message: str) -> None:
        print(message, file=self.stream, flush=True)

    def _start(self, task: Task) -> None:
        with self._lock:
            self._running[id(task)] = (task, time.perf_counter())
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="assetkit-progress", daemon=True)
                self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                running = list(self._running.values())
            for task, start in running:
                pct = f" ({100 * task.done / task.total:.0f}%)" if task.total else ""
                print(f"{task.label}: {task.done}/{task.total}{pct}, {time.perf_counter() - start:.0f}s",
                      file=self.stream, flush=True)

    def _finish(self, task: Task, seconds: float) -> None:
        with self._lock:
            self._running.pop(id(task), None)
        print(f"{task.label}: {task.done}/{task.total} in {seconds:.2f}s", file=self.stream, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)


class RichProgress(Progress):
    """A rich progress bar per step."""

    def __init__(self, stream: TextIO | None = None):
        super().__init__(stream)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RP

        self._console = Console(file=self.stream)
        self._rp = RP(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self._console, transient=False)
        self._ids: dict[int, TaskID] = {}
        self._rp.start()

    def log(self, message: str) -> None:
        self._rp.console.print(message)

    def _start(self, task: Task) -> None:
        self._ids[id(task)] = self._rp.add_task(task.label, total=max(task.total, 1))

    def _update(self, task: Task) -> None:
        tid = self._ids.get(id(task))
        if tid is not None:
            self._rp.update(tid, completed=task.done, total=max(task.total, 1))

    def _finish(self, task: Task, seconds: float) -> None:
        tid = self._ids.pop(id(task), None)
        if tid is not None:
            self._rp.update(tid, completed=max(task.total, 1) if task.done >= task.total else task.done)

    def close(self) -> None:
        self._rp.stop()


def make_progress(mode: str = "auto", stream: TextIO | None = None) -> Progress:
    """``auto`` → rich on a TTY, plain otherwise; ``plain``; ``none``."""
    stream = stream or sys.stderr
    if mode == "none":
        return Progress(stream)
    if mode == "rich" or (mode == "auto" and stream.isatty()):
        return RichProgress(stream)
    return PlainProgress(stream)


class SharedProgress(Progress):
    """Wraps a reporter so that a step run once per batch shows one task for the whole run.

    ``task(label, n)`` opens the label's task on first use and adds ``n`` to its total after;
    ``close`` ends them all (a plain reporter then prints one line per step).
    """

    def __init__(self, inner: Progress):
        super().__init__(inner.stream)
        self.inner = inner
        self._open: dict[str, tuple] = {}
        self._lock = threading.Lock()

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Task]:
        with self._lock:
            if label in self._open:
                t = self._open[label][1]
                t.set_total(t.total + total)
            else:
                cm = self.inner.task(label, total)
                t = cm.__enter__()
                self._open[label] = (cm, t)
        yield t

    def log(self, message: str) -> None:
        self.inner.log(message)

    def close(self) -> None:
        with self._lock:
            for cm, _ in self._open.values():
                cm.__exit__(None, None, None)
            self._open.clear()
