"""The weights cache: a model converted to the run's dtype once, the same images from it."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from tinymodels import build_tiny_sd  # noqa: E402

from assetkit.generators import GenerationRequest, get_generator  # noqa: E402
from assetkit.generators.weights_cache import MANIFEST, cache_root, stored_dtypes  # noqa: E402
from assetkit.models import resolve_model  # noqa: E402

BF16 = dict(steps=2, dtype="bfloat16", device="cpu")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("wc") / "tiny-sd")  # fp32 files


@pytest.fixture(autouse=True)
def _cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ASSETKIT_WEIGHTS_CACHE", raising=False)


def req(seed=1) -> GenerationRequest:
    return GenerationRequest(concept="c", variant=1, prompt="a cup of coffee", negative_prompt="blurry", width=64,
                             height=64, seed=seed, palette={"background": "#EEE8DD"})


def images(model: Path, cache, log: list[str] | None = None, **kw):
    gen = get_generator("diffusers", model=str(model), weights_cache=str(cache), log=(log if log is not None else
                                                                                      []).append, **{**BF16, **kw})
    outs = gen.generate([req(1), req(5)])
    return gen, [np.asarray(o.image) for o in outs], outs[0].params


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


def test_fp32_files_run_in_bf16_are_kept_converted_and_give_the_same_images(model, tmp_path):
    root = tmp_path / "weights"
    _, plain, plain_params = images(model, "off")
    assert not root.exists()
    log: list[str] = []
    gen, first, params = images(model, root, log)
    [entry] = entries(root)
    assert any(f"kept in bfloat16 at {entry}" in line for line in log), log
    assert stored_dtypes(resolve_model(str(entry))) == {"bfloat16"}
    manifest = json.loads((entry / MANIFEST).read_text())
    assert manifest["source"] == str(model) and manifest["identity"]["dtype"] == "bfloat16"
    assert "unet/diffusion_pytorch_model.safetensors" in manifest["files"]
    log2: list[str] = []
    gen2, second, params2 = images(model, root, log2)
    assert Path(gen2.load().unet.config._name_or_path).parent == entry  # read from the entry
    assert not any("weights cache" in line for line in log2), log2
    for a, b, c in zip(plain, first, second):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    # the run's record names the model's own weights, whichever files were read
    assert plain_params["weights_sha256"] == params["weights_sha256"] == params2["weights_sha256"]
    assert params2["parameters_text"] == plain_params["parameters_text"]


def test_nothing_is_kept_when_the_copy_would_not_be_smaller_than_the_files(model, tmp_path):
    root = tmp_path / "weights"
    images(model, root, dtype="float32")  # the files' own dtype
    assert entries(root) == []
    images(model, root)  # fp32 → bf16: kept
    [bf16] = entries(root)
    images(bf16, tmp_path / "again")  # bf16 files in bf16
    images(bf16, tmp_path / "again", dtype="float32")  # bf16 files widened to fp32: a larger copy, for a cheap cast
    assert entries(tmp_path / "again") == []


def test_a_changed_entry_is_named_removed_and_written_again(model, tmp_path):
    root = tmp_path / "weights"
    _, first, _ = images(model, root)
    [entry] = entries(root)
    unet = entry / "unet" / "diffusion_pytorch_model.safetensors"
    data = bytearray(unet.read_bytes())
    data[-3] ^= 0xFF  # same size, other weights
    unet.write_bytes(bytes(data))
    log: list[str] = []
    gen, again, _ = images(model, root, log)
    assert any(f"{entry} is not usable (unet/diffusion_pytorch_model.safetensors does not match its sha256"
               in line for line in log), log
    assert Path(gen.load().unet.config._name_or_path) == model / "unet"  # the model's own files this time
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert entries(root) == [entry] and unet.read_bytes() != bytes(data)  # written again, whole


@pytest.mark.parametrize("damage", ["manifest", "extra file", "symlink"])
def test_an_entry_that_is_not_what_its_manifest_says_is_not_used(model, tmp_path, damage):
    root = tmp_path / "weights"
    _, first, _ = images(model, root)
    [entry] = entries(root)
    if damage == "manifest":
        (entry / MANIFEST).write_text("{not json")
    elif damage == "extra file":
        (entry / "unet" / "extra.safetensors").write_bytes(b"x")
    else:
        cfg = entry / "unet" / "config.json"
        (tmp_path / "elsewhere.json").write_text(cfg.read_text())
        cfg.unlink()
        cfg.symlink_to(tmp_path / "elsewhere.json")
    log: list[str] = []
    gen, again, _ = images(model, root, log)
    assert any(f"{entry} is not usable (" in line for line in log), log
    assert Path(gen.load().unet.config._name_or_path) == model / "unet"
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_an_entry_replaced_by_a_symlink_is_unlinked_and_what_it_points_at_is_untouched(model, tmp_path):
    import shutil

    root = tmp_path / "weights"
    _, first, _ = images(model, root)
    [entry] = entries(root)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(entry), elsewhere)  # a complete, valid entry, but not inside the cache
    entry.symlink_to(elsewhere, target_is_directory=True)
    log: list[str] = []
    gen, again, _ = images(model, root, log)
    assert any(f"{entry} is not usable (not a folder)" in line for line in log), log
    assert Path(gen.load().unet.config._name_or_path) == model / "unet"
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not entry.is_symlink() and (entry / MANIFEST).is_file()  # written again, as a folder
    assert (elsewhere / MANIFEST).is_file() and (elsewhere / "unet").is_dir()  # not followed, not deleted


def test_a_cache_that_cannot_be_written_is_one_line_and_the_run_goes_on(model, tmp_path):
    blocker = tmp_path / "weights"
    blocker.write_text("a file where the cache folder should be")
    log: list[str] = []
    _, out, _ = images(model, blocker, log)
    assert len(out) == 2
    assert [line.splitlines()[0] for line in log if "weights cache" in line] == [
        f"weights cache: not written ({blocker} is not a folder); every run converts tiny-sd to bfloat16 again"]
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    log.clear()
    images(model, link, log)
    assert any("is a symbolic link" in line for line in log) and not (tmp_path / "real").exists()


def test_a_changed_config_is_another_entry(model, tmp_path):
    import shutil

    root = tmp_path / "weights"
    copy = tmp_path / "tiny-copy"
    shutil.copytree(model, copy)
    images(copy, root)
    sched = copy / "scheduler" / "scheduler_config.json"
    cfg = json.loads(sched.read_text())
    cfg["steps_offset"] = 0
    sched.write_text(json.dumps(cfg))
    images(copy, root)
    assert len(entries(root)) == 2


def test_where_the_cache_is():
    assert cache_root("off") is None
    assert cache_root("/x/y") == Path("/x/y")
    assert cache_root("auto") == Path(os.environ["XDG_CACHE_HOME"]) / "assetkit" / "weights"
    os.environ["ASSETKIT_WEIGHTS_CACHE"] = "off"
    try:
        assert cache_root("auto") is None and cache_root("/x") == Path("/x")
    finally:
        del os.environ["ASSETKIT_WEIGHTS_CACHE"]


def test_models_cache_lists_entries_and_removes_the_stale_ones(model, tmp_path, monkeypatch):
    import shutil

    from click.testing import CliRunner

    from assetkit.cli import cli as main

    root = tmp_path / "weights"
    monkeypatch.setenv("ASSETKIT_WEIGHTS_CACHE", str(root))
    copy = tmp_path / "tiny-copy"
    shutil.copytree(model, copy)
    sched = copy / "scheduler" / "scheduler_config.json"
    sched.write_text(sched.read_text().replace('"steps_offset": 1', '"steps_offset": 2'))  # its own entry
    images(copy, "auto")
    images(model, "auto")
    (root / ".tmp-0123-999999999").mkdir()  # a killed write's leftovers (no such process)
    runner = CliRunner()
    got = json.loads(runner.invoke(main, ["models", "cache", "--json"]).output)
    assert sorted((e["source"], e["dtype"], e["stale"]) for e in got if e["source"]) == sorted(
        [(str(copy), "bfloat16", None), (str(model), "bfloat16", None)])
    assert [e["stale"] for e in got if not e["source"]] == ["a write that did not finish"]
    assert all(e["bytes"] > 0 for e in got if e["source"])
    sched.write_text(sched.read_text().replace('"steps_offset": 2', '"steps_offset": 0'))
    res = runner.invoke(main, ["models", "cache"])
    assert res.exit_code == 0 and "stale: the model's configs changed" in res.output
    assert "--remove-stale` deletes the stale ones" in res.output
    res = runner.invoke(main, ["models", "cache", "--remove-stale"])
    assert res.exit_code == 0 and "removed: the model's configs changed" in res.output
    left = json.loads(runner.invoke(main, ["models", "cache", "--json"]).output)
    assert [(e["source"], e["stale"]) for e in left] == [(str(model), None)]
    moved = tmp_path / "moved"
    shutil.move(str(model), moved)
    try:
        assert json.loads(runner.invoke(main, ["models", "cache", "--json"]).output)[0]["stale"] == "the model is gone"
    finally:
        shutil.move(str(moved), model)


def test_models_check_says_when_it_kept_a_converted_copy(model, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assetkit.cli import cli

    monkeypatch.setenv("ASSETKIT_WEIGHTS_CACHE", str(tmp_path / "weights"))
    args = ["models", "check", str(model), "--device", "cpu", "--dtype", "bfloat16"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "  weights cache: tiny-sd kept in bfloat16 at " in first.output
    again = CliRunner().invoke(cli, args + ["--json"])
    assert again.exit_code == 0 and json.loads(again.output)["notes"] == []
