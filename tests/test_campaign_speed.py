"""A campaign at benchmark speed: masters made size by size, packed weights kept per size, the
same pixels in any order, and ``masters: shared`` with its crop loss reported (issue 13)."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from assetkit.context import RunOptions  # noqa: E402
from assetkit.generators.base import GenerationRequest  # noqa: E402
from assetkit.runner import run_brief  # noqa: E402
from assetkit.steps.generate import generation_order  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def req(concept: str, w: int, h: int) -> GenerationRequest:
    return GenerationRequest(concept, 1, "p", "", w, h, seed=1, palette={})


def test_masters_are_made_size_by_size_busiest_first():
    sizes = {"square": (64, 64), "portrait": (48, 80), "landscape": (80, 48)}
    todo, uses = [], {}
    for concept in ("a", "b"):  # job order interleaves the sizes
        for aspect, n in (("square", 4), ("portrait", 8), ("landscape", 2)):
            mid = (concept, 1, aspect)
            todo.append((mid, req(concept, *sizes[aspect]), f"{concept}-{aspect}"))
            uses[mid] = n + (concept == "b")  # b's masters have one deliverable more
    order = generation_order(todo, uses)
    assert [k for _, _, k in order] == ["b-portrait", "a-portrait", "b-square", "a-square", "b-landscape",
                                        "a-landscape"]
    assert sorted(order, key=lambda t: t[2]) == sorted(todo, key=lambda t: t[2])  # nothing lost or doubled


def write_brief(root: Path, formats: list[str], variants: int, pipeline: str, name: str) -> Path:
    brand = root / "brand" / "nordlicht"
    if not brand.is_dir():
        shutil.copytree(ROOT / "brand" / "nordlicht", brand)
    brief = root / f"{name}.yaml"
    brief.write_text(f"""version: 1
campaign: {name}
brand: brand/nordlicht
pipeline: {pipeline}
variants: {variants}
formats: [{", ".join(formats)}]
copy:
  en-US: {{headline: Spring tastes like fresh coffee, cta: Discover now}}
concepts:
  - id: cup
    prompt: a ceramic cup of coffee on a wooden table
""")
    return brief


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("torch")
    from tinymodels import build_tiny_sd

    root = tmp_path_factory.mktemp("speed")
    model = build_tiny_sd(root / "tiny-sd")
    (root / "tiny.yaml").write_text(
        f"version: 1\nsteps:\n  - generate: {{generator: diffusers, model: {model}, steps: 1, dtype: float32, "
        "device: cpu}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n  - export: {}\n")
    return root, model


def masters_of(out: Path, campaign: str) -> dict[tuple, np.ndarray]:
    """The run's masters by (size, seed), read from its master cache."""
    from PIL import Image

    found = {}
    for meta in (out / campaign / ".cache" / "masters").glob("*.json"):
        params = json.loads(meta.read_text())["params"]
        with Image.open(meta.with_suffix(".png")) as im:
            found[(tuple(params["size"]), params["seed"])] = np.asarray(im.convert("RGB"))
    return found


def test_a_master_is_the_same_alone_and_inside_a_mixed_size_campaign(tiny, monkeypatch):
    from assetkit.generators.diffusers import DiffusersGenerator

    root, _ = tiny
    made: list[tuple[int, int]] = []
    real = DiffusersGenerator.generate

    def recording(self, requests, progress=None):
        made.extend((r.width, r.height) for r in requests)
        return real(self, requests, progress)

    monkeypatch.setattr(DiffusersGenerator, "generate", recording)
    mixed = write_brief(root, ["meta-landscape", "meta-square", "meta-portrait", "meta-story"], 2, "tiny.yaml", "mixed")
    run_brief(mixed, RunOptions(out=root / "out-mixed", record=False))
    assert len(made) == 6  # 2 variants × 3 aspect groups
    runs = [s for i, s in enumerate(made) if i == 0 or made[i - 1] != s]
    assert len(runs) == len(set(made)) == 3 and runs[0] == (48, 80)  # each size once; portrait (2 formats) first
    alone = write_brief(root, ["meta-square"], 1, "tiny.yaml", "alone")
    run_brief(alone, RunOptions(out=root / "out-alone", record=False))
    a, m = masters_of(root / "out-alone", "alone"), masters_of(root / "out-mixed", "mixed")
    assert len(a) == 1 and len(m) == 6
    key = next(iter(a))
    assert key in m and np.array_equal(a[key], m[key])  # bit for bit
    timings = json.loads((root / "out-mixed" / "mixed" / "manifest.json").read_text())["timings"]
    assert timings["generate.model_load"] > 0 and timings["generate.prompt_encode"] > 0
    assert timings["generate.model_load"] + timings["generate.prompt_encode"] < timings["generate"]


def test_packed_weights_are_packed_once_per_size_however_the_sizes_come(tiny, monkeypatch):
    from assetkit.generators import cpu_kernels, get_generator

    if not cpu_kernels.available():
        pytest.skip("torch built without oneDNN")
    _, model = tiny
    sizes = [(64, 64), (48, 80), (80, 48)]

    def packs(order, shapes_kept):
        monkeypatch.setattr(cpu_kernels, "PACKED_SHAPES", shapes_kept)
        gen = get_generator("diffusers", model=str(model), steps=1, dtype="float32", device="cpu")
        before = cpu_kernels.stats["packs"]
        images = [gen.generate([req("c", w, h)])[0].image for w, h in order]
        gen.close()
        return cpu_kernels.stats["packs"] - before, images

    once, first = packs(sizes, 3)
    interleaved, again = packs(sizes * 3, 3)
    assert once > 0 and interleaved == once  # three rounds of three sizes: still packed once per size
    one_slot, _ = packs(sizes * 3, 1)  # the old one-shape cache re-packs at every size change
    assert one_slot == 3 * once
    for a, b in zip(first, again[-3:]):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_shared_masters_one_per_variant_with_the_crop_loss_of_every_format(tmp_path):
    (tmp_path / "shared-pipe.yaml").write_text(
        "version: 1\nsteps:\n  - generate: {generator: draft, masters: shared}\n  - reframe: {}\n  - compose: {}\n"
        "  - check: {}\n  - export: {}\n")
    formats = ["meta-square", "meta-story", "meta-landscape", "iab-leaderboard", "iab-wide-skyscraper"]
    brief = write_brief(tmp_path, formats, 2, "shared-pipe.yaml", "shared")
    logs = []

    from assetkit.progress import Progress

    class Recorder(Progress):
        def log(self, message: str) -> None:
            logs.append(message)

    res = run_brief(brief, RunOptions(out=tmp_path / "out", record=False), progress=Recorder())
    m = res.manifest
    assert len(m["assets"]) == 10
    masters = {a["master"] for a in m["assets"]}
    assert len(masters) == 2  # one per variant, cut to all five formats
    info = m["generator"]["masters"]
    assert info["mode"] == "shared" and set(info["crop_loss"]) == set(formats)
    w, h = info["sizes"]["shared"]
    assert w % 64 == 0 and h % 64 == 0 and abs(w * h - 1024 * 1024) / (1024 * 1024) < 0.1
    loss = info["crop_loss"]
    # story (9:16) and landscape (1.91:1) are the extremes: one master loses about as much for each
    assert loss["meta-story"] > 0.4 and loss["meta-landscape"] > 0.4 and loss["meta-square"] < 0.1
    assert any("masters: shared" in line and "meta-story" in line for line in logs)
    per_aspect = run_brief(write_brief(tmp_path, formats, 2, "social-campaign", "per"),
                           RunOptions(out=tmp_path / "out", record=False)).manifest
    assert len({a["master"] for a in per_aspect["assets"]}) == 6
    pa = per_aspect["generator"]["masters"]
    assert pa["mode"] == "per-aspect" and pa["crop_loss"]["meta-square"] == 0
    assert pa["crop_loss"]["meta-story"] < loss["meta-story"]


def test_a_failing_compile_falls_back_to_the_eager_path_with_one_clear_warning(tiny, monkeypatch):
    from assetkit.generators import diffusers as backend
    from assetkit.generators import get_generator

    _, model = tiny

    def broken_compile(pipe, device):  # what an unwritable or corrupt inductor cache looks like to us
        def fail(*a, **kw):
            raise RuntimeError("[Errno 20] Not a directory: '/cache/inductor/fxgraph/ab/entry'")

        pipe.unet.forward = fail

    monkeypatch.setattr(backend, "_compile_pipe", broken_compile)
    logs: list[str] = []
    opts = dict(model=str(model), steps=1, dtype="float32", device="cpu")
    gen = get_generator("diffusers", compile=True, log=logs.append, **opts)
    out = gen.generate([req("c", 64, 64), req("c", 48, 80)])
    assert len(logs) == 1 and "compile: true failed at 64×64" in logs[0] and "eager" in logs[0]
    assert logs[0] in out[0].params["warnings"]
    stock = get_generator("diffusers", cpu_kernels=False, **opts).generate([req("c", 64, 64), req("c", 48, 80)])
    for a, b in zip(out, stock):  # the eager path is diffusers' own: the stock images exactly
        assert np.array_equal(np.asarray(a.image), np.asarray(b.image))


def test_the_compile_cache_folder_is_the_option_then_the_environment_then_the_user_cache(monkeypatch, tmp_path):
    from assetkit.generators.diffusers import compile_cache_dir

    monkeypatch.delenv("ASSETKIT_COMPILE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache_dir() == tmp_path / "xdg" / "assetkit" / "torch-compile"
    monkeypatch.setenv("ASSETKIT_COMPILE_CACHE", str(tmp_path / "env"))
    assert compile_cache_dir() == tmp_path / "env"
    assert compile_cache_dir(str(tmp_path / "opt")) == tmp_path / "opt"


def test_a_usable_compile_cache_is_where_inductor_keeps_its_kernels(monkeypatch, tmp_path):
    from assetkit.generators.diffusers import use_compile_cache

    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    assert use_compile_cache(tmp_path / "new" / "cache") is None
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "new" / "cache")
    assert (tmp_path / "new" / "cache").is_dir() and not list((tmp_path / "new" / "cache").iterdir())
    (tmp_path / "file").write_text("x")
    assert use_compile_cache(tmp_path / "file") == f"the compile cache {tmp_path / 'file'} is not a folder"
    reason = use_compile_cache(tmp_path / "file" / "sub")
    assert reason is not None and reason.startswith(f"the compile cache {tmp_path / 'file' / 'sub'} is not writable (")
    (tmp_path / "link").symlink_to(tmp_path / "new")
    assert use_compile_cache(tmp_path / "link") == (f"the compile cache {tmp_path / 'link'} is a symbolic link "
                                                    "(give the folder itself)")


def test_an_unusable_compile_cache_runs_eager_with_one_message_and_the_eager_images(tiny, monkeypatch, tmp_path):
    from assetkit.generators import diffusers as backend
    from assetkit.generators import get_generator

    _, model = tiny
    compiled = []
    monkeypatch.setattr(backend, "_compile_pipe", lambda pipe, device: compiled.append(pipe))
    (tmp_path / "cache").write_text("not a folder")
    logs: list[str] = []
    opts = dict(model=str(model), steps=1, dtype="float32", device="cpu")
    gen = get_generator("diffusers", compile=True, compile_cache=str(tmp_path / "cache"), log=logs.append, **opts)
    out = gen.generate([req("c", 64, 64)])
    assert not compiled and len(logs) == 1
    assert logs[0].startswith(f"compile: true is off for this run: the compile cache {tmp_path / 'cache'} is not a "
                              "folder; the images come from the eager path")
    assert gen.fingerprint()["compile"] is False  # the masters are the eager path's, and keyed so
    plain = get_generator("diffusers", **opts).generate([req("c", 64, 64)])
    assert np.array_equal(np.asarray(out[0].image), np.asarray(plain[0].image))
    assert set(gen.timings()) == {"generate.model_load", "generate.prompt_encode"}
    assert gen.prompts_encoded == 1 and gen.timings()["generate.prompt_encode"] > 0


def test_a_convolution_onednn_refuses_at_run_time_runs_stock_and_says_so(tiny, monkeypatch):
    import torch

    from assetkit.generators import cpu_kernels, get_generator

    if not cpu_kernels.available():
        pytest.skip("torch built without oneDNN")
    _, model = tiny
    logs: list[str] = []
    opts = dict(model=str(model), steps=1, dtype="float32", device="cpu")
    gen = get_generator("diffusers", log=logs.append, **opts)
    ref = gen.generate([req("c", 64, 64)])[0].image

    class Refusing:  # oneDNN refusing an input shape (the latent grid of a model it cannot run)
        def __getattr__(self, name):
            if name == "_convolution_pointwise":
                def refuse(*a, **kw):
                    raise RuntimeError("could not create a primitive descriptor")
                return refuse
            return getattr(torch.ops.mkldnn, name)

    monkeypatch.setattr(torch.ops, "mkldnn", Refusing())
    img = gen.generate([req("c", 64, 64)])[0].image
    assert len(logs) == 1 and "could not run packed at 64×64" in logs[0]
    assert np.abs(np.asarray(img, np.int16) - np.asarray(ref, np.int16)).max() <= 1  # fp32 rounding at most


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="no per-thread scheduling here")
def test_worker_threads_step_back_only_while_the_model_runs(monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from assetkit import threads

    def a_worker() -> tuple[int, int]:  # (scheduling policy, nice) of a pool thread
        def probe():
            tid = threading.get_native_id()
            return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)

        with ThreadPoolExecutor(max_workers=1, initializer=threads.worker_started) as pool:
            return pool.submit(probe).result()

    me = threading.get_native_id()
    base = (os.sched_getscheduler(me), os.getpriority(os.PRIO_PROCESS, me))
    assert threads.IDLE  # the default: SCHED_IDLE, a core only when the model leaves one idle
    with threads.model_running():
        during = a_worker()
    assert during[0] == os.SCHED_IDLE and a_worker() == base
    monkeypatch.setattr(threads, "IDLE", False)  # ASSETKIT_WORKER_NICE=10: a nice increment instead
    monkeypatch.setattr(threads, "NICE", 10)
    with threads.model_running():
        during = a_worker()
    assert during == (base[0], min(19, base[1] + 10)) and a_worker() == base
    assert (os.sched_getscheduler(me), os.getpriority(os.PRIO_PROCESS, me)) == base  # the caller keeps its own
    monkeypatch.setattr(threads, "IDLE", True)
    with threads.model_running():
        with threads.model_waiting():  # the model waits for the steps: they are not starved by other load
            waiting = a_worker()
        again = a_worker()
    assert waiting == base and again[0] == os.SCHED_IDLE


def test_the_manifest_says_how_long_the_model_waited_for_the_later_steps(tmp_path, monkeypatch):
    """The streaming queue holds two batches: when export falls behind, the generate step waits,
    and that wait is booked apart (it is not the model's time)."""
    import time

    from assetkit.context import RunOptions
    from assetkit.generators.draft import DraftGenerator
    from assetkit.runner import WAITED, run_brief
    from assetkit.steps.export import ExportStep

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "brand" / "nordlicht", tmp_path / "brand" / "nordlicht")
    shutil.copytree(root / "examples" / "spring-launch", tmp_path / "examples" / "spring-launch")
    brief = tmp_path / "examples" / "spring-launch" / "brief.yaml"
    slow = ExportStep.run

    def slow_export(self, ctx, state):
        time.sleep(0.3)  # a slow disk: export is behind the draft generator
        return slow(self, ctx, state)

    monkeypatch.setattr(ExportStep, "run", slow_export)
    monkeypatch.setattr(DraftGenerator, "batch_size", 1)  # a batch a master: more batches than the queue holds
    streamed = run_brief(brief, RunOptions(out=tmp_path / "a", record=False))
    assert WAITED in streamed.manifest["timings"]  # booked only when the queue was full and the model waited
    sequential = run_brief(brief, RunOptions(out=tmp_path / "b", record=False, stream=False))
    assert WAITED not in sequential.manifest["timings"]
