"""Big runs keep memory bounded: the images alive while a run streams depend on the streaming
window (one batch of masters and what is made from it), never on how many assets the run makes.

Measured without timing or RSS: the live PIL images (count and pixel bytes) each time the export
step starts on a batch, with the model held back until the previous batch is exported, so that
every sample sees exactly one batch in flight (deterministic; ``--jobs 1``). The bench with the
resident-memory figures is ``bench/memory.py``.
"""
from __future__ import annotations

import gc
import threading
from pathlib import Path

from PIL import Image

from assetkit.context import RunOptions
from assetkit.runner import run_brief
from assetkit.steps.export import ExportStep
from assetkit.steps.generate import GenerateStep

BRIEF = """\
version: 1
campaign: memory
brand: brand/nordlicht
seed: 20270301
variants: 2
formats: [iab-medium-rectangle, iab-leaderboard]
copy:
  en-US: {{headline: Spring tastes like fresh coffee, subline: Our new light roast., cta: Discover now}}
  de-DE: {{headline: Der Frühling schmeckt nach Kaffee, subline: Unsere neue Röstung., cta: Jetzt entdecken}}
concepts:
{concepts}
"""
ASSETS_PER_CONCEPT = 2 * 2 * 2  # variants × formats × locales
WAIT = 120  # seconds: only a broken hook ever waits this long (then the test fails, it does not hang)


def write_brief(folder: Path, concepts: int) -> Path:
    lines = "\n".join(f"  - id: c{i:03d}\n    prompt: a ceramic cup of coffee number {i} on a wooden table"
                      for i in range(concepts))
    path = folder / f"brief-{concepts}.yaml"
    path.write_text(BRIEF.format(concepts=lines))
    return path


def live_images(skip: set[int]) -> tuple[int, int]:
    """(count, pixel bytes) of the PIL images alive now, but those whose id is in ``skip``."""
    gc.collect()
    count = size = 0
    for obj in gc.get_objects():
        if isinstance(obj, Image.Image) and id(obj) not in skip:
            count += 1
            size += obj.width * obj.height * len(obj.getbands())
    return count, size


def window_peak(monkeypatch, brief: Path, out: Path) -> dict:
    """Run ``brief`` with one batch in flight at a time; the most live images at any export start.
    The contact sheets' thumbnails are left out (they are capped by ``runs.contact_sheet_tiles``)."""
    exported = threading.Semaphore(0)
    stores = threading.Condition()
    seen = {"batches": 0, "masters": 0, "stored": 0, "exports": 0, "count": 0, "bytes": 0}
    make, store, export = GenerateStep.make, GenerateStep._store, ExportStep.run

    def held_make(gen, part, progress=None):
        if seen["batches"]:  # the previous batch is exported and its masters are in the cache first
            assert exported.acquire(timeout=WAIT), "the export of the previous batch never started"
            with stores:
                assert stores.wait_for(lambda: seen["stored"] == seen["masters"], timeout=WAIT)
        masters = make(gen, part, progress)
        seen["batches"] += 1
        seen["masters"] += len(masters)
        return masters

    def counted_store(cache, key, img):
        store(cache, key, img)
        with stores:
            seen["stored"] += 1
            stores.notify_all()

    def sampled_run(self, ctx, state):
        count, size = live_images({id(t) for t in ctx.thumbs.values()})
        seen["count"], seen["bytes"] = max(seen["count"], count), max(seen["bytes"], size)
        seen["exports"] += 1
        try:
            export(self, ctx, state)
        finally:
            exported.release()

    monkeypatch.setattr(GenerateStep, "make", staticmethod(held_make))
    monkeypatch.setattr(GenerateStep, "_store", staticmethod(counted_store))
    monkeypatch.setattr(ExportStep, "run", sampled_run)
    result = run_brief(brief, RunOptions(out=out, jobs=1, record=False))
    monkeypatch.undo()
    assert result.made == len(result.manifest["assets"])
    seen["assets"] = result.made
    return seen


def test_live_images_are_bounded_by_the_streaming_window_not_the_asset_count(workdir, monkeypatch):
    small = window_peak(monkeypatch, write_brief(workdir, 2), workdir / "out-small")
    big = window_peak(monkeypatch, write_brief(workdir, 8), workdir / "out-big")
    assert small["assets"] == 2 * ASSETS_PER_CONCEPT and big["assets"] == 8 * ASSETS_PER_CONCEPT
    # 4 masters a batch (the draft generator's batch size), 4 or 16 per aspect group: the big run
    # streams 4× the batches through the same window
    assert (small["batches"], big["batches"]) == (2, 8)
    assert small["exports"] == small["batches"] and big["exports"] == big["batches"]
    assert small["count"] > 0 and small["bytes"] > 0
    assert big["count"] <= small["count"], (small, big)
    assert big["bytes"] <= small["bytes"], (small, big)
