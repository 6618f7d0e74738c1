"""Who gets the CPU while the model generates: worker threads of the later steps step back.

A UNet step on the CPU runs on every core (torch's intra-op threads meet at a barrier after each
operation, so one core taken away stalls them all). Compose/export threads streaming beside it
are started at a lower priority (``nice`` +:data:`NICE`, per thread on Linux) while
:func:`model_running` is active: they take the cycles the model leaves idle, and the model keeps
its cores. Threads started after the model is done run at normal priority. Best effort: where
per-thread priorities are not available nothing changes.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: how far worker threads step back while the model runs (nice increment; 19 is the lowest)
NICE = int(os.environ.get("ASSETKIT_WORKER_NICE", "10"))
_model = threading.Event()


@contextmanager
def model_running() -> Iterator[None]:
    """While active, :func:`worker_started` lowers the priority of newly started worker threads."""
    _model.set()
    try:
        yield
    finally:
        _model.clear()


def is_model_running() -> bool:
    return _model.is_set()


def worker_started() -> None:
    """A ``ThreadPoolExecutor`` initializer: step back while the model runs (Linux: per thread)."""
    if not _model.is_set() or NICE <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
    except OSError:  # not permitted or not per-thread here: run as is
        pass
