"""Who gets the CPU while the model generates: worker threads of the later steps step back.

A UNet step on the CPU runs on every core (torch's intra-op threads meet at a barrier after each
operation, so one core taken away stalls them all). Compose/export threads streaming beside it
are started in the idle scheduling class (``SCHED_IDLE``, per thread on Linux; or ``nice``
+:data:`NICE` with ``ASSETKIT_WORKER_NICE=N``) while :func:`model_running` is active: they take
the cycles the model leaves idle, and the model keeps its cores (measured on the reference
campaign: the model's compute inside the run fell from 133 s at nice +10 to 108 s, see
bench/campaign.py). Threads started after the model is done run at normal priority. Best effort: where
per-thread priorities are not available nothing changes.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: how far worker threads step back while the model runs: ``idle`` (Linux ``SCHED_IDLE``: they run
#: only on a core the model leaves idle) or a nice increment (19 is the lowest; 0 turns it off)
_SETTING = os.environ.get("ASSETKIT_WORKER_NICE", "idle").strip().lower()
IDLE = not _SETTING.lstrip("+-").isdigit()  # "idle", and anything that is not a number, is idle
NICE = 19 if IDLE else int(_SETTING)
_model = threading.Event()


@contextmanager
def model_running() -> Iterator[None]:
    """While active, :func:`worker_started` lowers the priority of newly started worker threads."""
    _model.set()
    try:
        yield
    finally:
        _model.clear()


@contextmanager
def model_waiting() -> Iterator[None]:
    """Inside :func:`model_running`, while the model waits for the later steps (their queue is
    full): worker threads started now run at normal priority, so other load on the machine cannot
    starve the steps the model is waiting for."""
    was = _model.is_set()
    _model.clear()
    try:
        yield
    finally:
        if was:
            _model.set()


def is_model_running() -> bool:
    return _model.is_set()


def worker_started() -> None:
    """A ``ThreadPoolExecutor`` initializer: step back while the model runs (Linux: per thread)."""
    if not _model.is_set() or NICE <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    tid = threading.get_native_id()
    if IDLE and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            return
        except OSError:  # not permitted here: the lowest nice instead
            pass
    with contextlib.suppress(OSError):  # not permitted or not per-thread here: run as is
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
