"""The diffusers backend on tiny random-weight models (built once per session, never downloaded)."""
from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

from diffusers import AutoPipelineForText2Image  # noqa: E402
from tinymodels import build_tiny_lora, build_tiny_sd, build_tiny_sdxl, build_tiny_taesd, layout_hf_cache  # noqa: E402

from assetkit.errors import ModelError  # noqa: E402
from assetkit.generators import GenerationRequest, get_generator  # noqa: E402
from assetkit.models import resolve_model  # noqa: E402

FAST = dict(steps=2, dtype="float32", device="cpu")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("tinymodels")
    sd = build_tiny_sd(root / "tiny-sd")
    return {"root": root, "sd": sd, "taesd": build_tiny_taesd(root / "taesd"),
            "lora": build_tiny_lora(sd, root / "lora" / "style.safetensors")}


@pytest.fixture(scope="session")
def sd_gen(tiny):
    return get_generator("diffusers", model=str(tiny["sd"]), **FAST)


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg"))


def req(seed=1, prompt="a cup of coffee", size=(64, 64), **kw) -> GenerationRequest:
    return GenerationRequest(concept="c", variant=1, prompt=prompt, negative_prompt="blurry", width=size[0],
                             height=size[1], seed=seed, palette={"background": "#EEE8DD"}, **kw)


def arr(img) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.int16)


def test_txt2img_records_parameters(sd_gen):
    seen = []
    [out] = sd_gen.generate([req()], progress=lambda d, t: seen.append((d, t)))
    assert out.image.size == (64, 64) and out.image.mode == "RGB"
    assert seen[-1][0] == seen[-1][1] == 2
    p = out.params
    assert p["parameters_text"].startswith("a cup of coffee\nNegative prompt: blurry\nSteps: 2, Sampler: DPM++ 2M "
                                           "Karras, CFG scale: 7.5, Seed: 1, Size: 64x64, Model hash: ")
    assert f"Model hash: {p['weights_sha256'][:10]}, Model: tiny-sd" in p["parameters_text"]
    assert (p["pipeline"], p["dtype"], p["device"], p["family"]) == ("StableDiffusionPipeline", "float32", "cpu", "sd1")
    assert out.compute_seconds > 0
    assert type(sd_gen.load()) is type(AutoPipelineForText2Image.from_pretrained(str(sd_gen.ref.path)))  # its class
    # same request → same pixels; another seed → other pixels
    assert np.array_equal(arr(sd_gen.generate([req()])[0].image), arr(out.image))
    assert not np.array_equal(arr(sd_gen.generate([req(seed=2)])[0].image), arr(out.image))


def test_alone_and_batched_images_are_pixel_identical(tiny, sd_gen):
    reqs = [req(seed=s, prompt=p) for s, p in [(1, "a cup of coffee"), (7, "beans"), (3, "a cup of coffee")]]
    alone = [sd_gen.generate([r])[0] for r in reqs]
    batched = get_generator("diffusers", model=str(tiny["sd"]), batch_size=3, **FAST).generate(reqs)
    for a, b in zip(alone, batched):
        assert np.array_equal(arr(a.image), arr(b.image))


def test_native_sizes_are_multiples_of_the_latent_grid(sd_gen):
    assert sd_gen.native_size("square") == (64, 64)  # tiny: sample 32 × VAE scale 2
    w, h = sd_gen.native_size("portrait")
    assert (w, h) == (48, 80) and w % 16 == 0 and h % 16 == 0
    assert sd_gen.native_size("landscape") == (80, 48)


LONG = "a ceramic cup of light roast coffee " * 12  # more than one window of 75 tokens


def test_long_prompt_is_truncated_with_a_warning_when_asked(tiny):
    logged = []
    gen = get_generator("diffusers", model=str(tiny["sd"]), log=logged.append, long_prompts="truncate", **FAST)
    [out] = gen.generate([req(prompt="espresso " * 90)])
    assert len(logged) == 1 and "truncated" in logged[0] and "reads 75" in logged[0]
    assert out.params["warnings"] == logged
    # what comes after token 75 is lost
    a, b = gen.generate([req(prompt=LONG + "in red"), req(prompt=LONG + "in blue")])
    assert np.array_equal(arr(a.image), arr(b.image))


def test_long_prompts_are_read_in_chunks_by_default(tiny):
    logged = []
    gen = get_generator("diffusers", model=str(tiny["sd"]), log=logged.append, **FAST)
    assert gen.fingerprint()["long_prompts"] == "chunk"
    a, b = gen.generate([req(prompt=LONG + "in red"), req(prompt=LONG + "in blue")])
    assert not logged and a.params["warnings"] == []
    assert not np.array_equal(arr(a.image), arr(b.image))  # the words after token 75 reach the UNet
    pipe = gen.load()
    pe, npe, _, _ = gen._encode(pipe, LONG + "in red", "blurry", True, "cpu")
    n = gen._chunks(pipe, LONG + "in red")
    assert n >= 2 and pe.shape[1] == npe.shape[1] == n * 77  # the negative padded to the same length


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_one_chunk_is_exactly_what_diffusers_encodes(tiny, tmp_path_factory, family):
    """The chunked encoder, given a prompt that fits, reproduces the pipeline's own encode_prompt."""
    import torch

    model = tiny["sd"] if family == "sd" else build_tiny_sdxl(tmp_path_factory.mktemp("xl") / "tiny-sdxl")
    gen = get_generator("diffusers", model=str(model), **FAST)
    pipe = gen.load()
    own = gen._encode(pipe, "a cup of coffee", "blurry", True, "cpu")  # fits: diffusers' encode_prompt
    mine = gen._encode_chunked(pipe, "a cup of coffee", "blurry", True, "cpu", sdxl=family == "sdxl")
    for x, y in zip(own, mine):
        assert (x is None and y is None) or torch.equal(x, y)


def test_long_and_short_prompts_batched_are_the_same_images(tiny, sd_gen):
    reqs = [req(seed=1, prompt=LONG + "in red"), req(seed=2), req(seed=3, prompt=LONG + "in blue")]
    alone = [sd_gen.generate([r])[0] for r in reqs]
    batched = get_generator("diffusers", model=str(tiny["sd"]), batch_size=3, **FAST).generate(reqs)
    for a, b in zip(alone, batched):
        assert np.array_equal(arr(a.image), arr(b.image))


def test_img2img_follows_the_concept_image(tmp_path, sd_gen, tiny):
    from PIL import Image

    ref = tmp_path / "ref.png"
    Image.new("RGB", (100, 80), "#D02020").save(ref)
    gen = get_generator("diffusers", model=str(tiny["sd"]), strength=0.3, **FAST)
    [out] = gen.generate([req(init_image=ref)])
    assert out.params["mode"] == "img2img" and "Denoising strength: 0.3" in out.params["parameters_text"]
    assert out.image.size == (64, 64)
    assert not np.array_equal(arr(out.image), arr(sd_gen.generate([req()])[0].image))


def test_inpainting_keeps_the_product_pixels_exact(tmp_path, tiny):
    from PIL import Image

    rng = np.random.default_rng(0)
    rgba = np.zeros((24, 20, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (24, 20, 3))
    rgba[3:21, 4:16, 3] = 255  # an opaque bottle shape on transparency
    product = tmp_path / "product.png"
    Image.fromarray(rgba, "RGBA").save(product)
    gen = get_generator("diffusers", model=str(tiny["sd"]), **FAST)
    [out] = gen.generate([req(product_image=product)])
    x0, y0, x1, y1 = out.params["product_box"]
    assert (x1 - x0, y1 - y0) == (20, 24) and out.params["mode"] == "inpaint"
    got = np.asarray(out.image)[y0:y1, x0:x1]
    opaque = rgba[..., 3] > 0
    assert np.array_equal(got[opaque], rgba[..., :3][opaque])
    assert out.focal == ((x0 + x1) / 2 / 64, (y0 + y1) / 2 / 64)


def test_lora_changes_the_output_with_its_weight(tiny, sd_gen):
    base = arr(sd_gen.generate([req()])[0].image)
    a = get_generator("diffusers", model=str(tiny["sd"]), lora=str(tiny["lora"]), lora_weight=1.0, **FAST)
    b = get_generator("diffusers", model=str(tiny["sd"]), lora=str(tiny["lora"]), lora_weight=0.2, **FAST)
    ia, ib = arr(a.generate([req()])[0].image), arr(b.generate([req()])[0].image)
    assert not np.array_equal(ia, base) and not np.array_equal(ia, ib)
    assert a.fingerprint()["lora"] and a.fingerprint() != b.fingerprint()


def test_fast_preset_decodes_with_the_tiny_vae(tiny):
    gen = get_generator("diffusers", model=str(tiny["sd"]), preset="fast", tiny_vae=str(tiny["taesd"]),
                        steps=1, device="cpu")
    [out] = gen.generate([req()])
    assert type(gen.load().vae).__name__ == "AutoencoderTiny"
    assert out.image.size == (64, 64) and "VAE: taesd" in out.params["parameters_text"]
    assert out.params["dtype"] in ("bfloat16", "float32")


def test_schedulers_by_name(tiny):
    gen = get_generator("diffusers", model=str(tiny["sd"]), scheduler="euler_a", **FAST)
    [out] = gen.generate([req()])
    assert type(gen.load().scheduler).__name__ == "EulerAncestralDiscreteScheduler"
    assert "Sampler: Euler a" in out.params["parameters_text"]
    with pytest.raises(ModelError, match="unknown scheduler 'dpm2m'"):
        get_generator("diffusers", model=str(tiny["sd"]), scheduler="dpm2m")


def test_single_file_needs_config_and_loads_with_it(tmp_path, tiny, sd_gen):
    """A community-style checkpoint: one .safetensors in the original (LDM) layout. Without
    `config:` a clear error; with the local config folder diffusers' own converter loads it
    offline, and it makes exactly the images of the diffusers folder it was written from."""
    from tinymodels import save_original_layout

    ckpt = save_original_layout(tiny["sd"], tmp_path / "tiny.safetensors")
    with pytest.raises(ModelError, match="needs `config:` naming a local diffusers folder"):
        get_generator("diffusers", model=str(ckpt))
    gen = get_generator("diffusers", model=str(ckpt), config=str(tiny["sd"]), **FAST)
    [out] = gen.generate([req()])
    [ref] = sd_gen.generate([req()])
    assert np.array_equal(arr(out.image), arr(ref.image))
    assert out.params["model"] == "tiny.safetensors" and gen.ref.kind == "single_file"
    assert out.params["pipeline"] == "StableDiffusionPipeline"
    assert out.params["weights_sha256"] == __import__("hashlib").sha256(ckpt.read_bytes()).hexdigest()
    assert "Model hash: " + out.params["weights_sha256"][:10] in out.params["parameters_text"]


def test_pickle_weights_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for name in ("model.ckpt", "weights.bin"):
        f = tmp_path / name
        f.write_bytes(pickle.dumps({"state_dict": Evil()}))
        with pytest.raises(ModelError, match="(?s)refusing to load .*pickles.*--allow-unsafe-weights"):
            get_generator("diffusers", model=str(f), config=str(tmp_path))
    # a diffusers folder whose UNet only has a pickle
    folder = tmp_path / "pickled"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", '
                                             '"UNet2DConditionModel"]}')
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelError, match="unet/ only has pickle weights"):
        resolve_model(str(folder))
    # a pickle disguised as .safetensors
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(pickle.dumps(Evil(), protocol=4))
    with pytest.raises(ModelError, match="not a safetensors file"):
        resolve_model(str(fake), config=str(folder), allow_unsafe=True)
    assert not marker.exists()


def test_missing_and_unsupported_models_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="model not found: nowhere/model") as e:
        get_generator("diffusers", model="nowhere/model")
    assert "hf:ORG/NAME" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no model_index.json"):
        get_generator("diffusers", model=str(tmp_path / "empty"))
    (tmp_path / "x.onnx").write_bytes(b"\x08\x01")
    with pytest.raises(ModelError, match="unsupported model file type .onnx"):
        get_generator("diffusers", model=str(tmp_path / "x.onnx"))


def test_hf_id_resolves_offline_from_a_hub_cache(tmp_path, tiny, monkeypatch):
    hub = tmp_path / "hf" / "hub"
    snap = layout_hf_cache(hub, "acme/tiny-turbo", tiny["sd"], revision="a" * 40,
                           readme="---\nlicense: openrail++\n---\n# tiny\n")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    ref = resolve_model("hf:acme/tiny-turbo")
    assert ref.path == snap and ref.name == "hf:acme/tiny-turbo" and ref.revision == "a" * 40
    gen = get_generator("diffusers", model="hf:acme/tiny-turbo", dtype="float32", device="cpu")
    assert (gen.family, gen.steps, gen.guidance) == ("turbo", 4, 0.0)  # turbo preset: few steps, no CFG
    [out] = gen.generate([req()])
    assert "CFG scale: 0, " in out.params["parameters_text"] and "Negative prompt" not in out.params["parameters_text"]
    with pytest.raises(ModelError, match="assetkit models pull acme/other"):
        resolve_model("hf:acme/other")


def test_sdxl_family(tmp_path_factory):
    path = build_tiny_sdxl(tmp_path_factory.mktemp("xl") / "tiny-sdxl")
    gen = get_generator("diffusers", model=str(path), **FAST)
    assert gen.family == "sdxl"
    reqs = [req(seed=1), req(seed=2)]
    one = [gen.generate([r])[0] for r in reqs]
    two = get_generator("diffusers", model=str(path), batch_size=2, **FAST).generate(reqs)
    assert one[0].params["pipeline"] == "StableDiffusionXLPipeline"
    assert type(gen.load()) is type(AutoPipelineForText2Image.from_pretrained(str(path)))  # loaded by its own class
    for a, b in zip(one, two):
        assert np.array_equal(arr(a.image), arr(b.image))


def test_compile_option_wraps_unet_and_decoder_and_keeps_batches_exact(tiny, monkeypatch):
    """compile=True (opt-in) goes through torch.compile for the UNet forward and the VAE decoder.

    torch.compile is replaced by a recording pass-through here (a real inductor compile takes
    minutes on CPU); the wiring, the fingerprint, the compile-time bookkeeping and the exact
    per-image batching over the compiled forward are what is checked."""
    import torch

    compiled = []

    def fake_compile(fn, *a, **kw):
        def run(*args, **kwargs):
            compiled.append(getattr(fn, "__qualname__", repr(fn)))
            return fn(*args, **kwargs)
        return run

    monkeypatch.setattr(torch, "compile", fake_compile)
    opts = dict(preset="fast", tiny_vae=str(tiny["taesd"]), steps=1, dtype="float32", device="cpu")
    plain = get_generator("diffusers", model=str(tiny["sd"]), **opts)
    gen = get_generator("diffusers", model=str(tiny["sd"]), compile=True, batch_size=2, **opts)
    assert gen.fingerprint()["compile"] is True and plain.fingerprint()["compile"] is False
    reqs = [req(seed=1), req(seed=2)]
    alone = [plain.generate([r])[0] for r in reqs]
    out = gen.generate(reqs)
    assert any("UNet2DConditionModel.forward" in c for c in compiled)
    assert any("Decoder" in c and "forward" in c for c in compiled)
    assert gen.compile_seconds > 0
    for a, b in zip(alone, out):
        assert np.array_equal(arr(a.image), arr(b.image))
    pipe = gen.load()
    assert "forward" in pipe.unet.__dict__  # the compiled forward is put back after the per-image split
    before = gen.compile_seconds
    gen.generate(reqs[:1])
    assert gen.compile_seconds == before  # only the first call of a size counts as compile time


def test_the_fingerprint_is_derived_from_every_output_option_of_the_config(tiny, tmp_path, monkeypatch):
    """Config = constructor = fingerprint: each option not marked NOT_OUTPUT changes the
    fingerprint (so the masters cached under it), each one marked does not, and no option is
    left unclassified (a new option is in the fingerprint until someone marks it)."""
    import shutil

    from tinymodels import save_original_layout

    import assetkit.generators.diffusers as D
    from assetkit.generators.diffusers import DiffusersConfig

    monkeypatch.setattr(D, "pick_device", lambda device="auto": "cpu" if device == "auto" else device)
    other = build_tiny_sd(tmp_path / "other-sd", seed=1)
    ckpt = save_original_layout(tiny["sd"], tmp_path / "tiny.safetensors")
    config2 = shutil.copytree(tiny["sd"], tmp_path / "config2", ignore=shutil.ignore_patterns("*.safetensors"))
    sched = config2 / "scheduler" / "scheduler_config.json"
    sched.write_text(sched.read_text().replace("{", '{"_assetkit_test": 1,', 1))
    base = dict(model=str(tiny["sd"]), dtype="float32", device="cpu", steps=2)
    with_lora = dict(base, lora=str(tiny["lora"]))
    single = dict(base, model=str(ckpt), config=str(tiny["sd"]))
    changes = {  # option → (base options, the same with that option changed)
        "model": (base, dict(base, model=str(other))),
        "config": (single, dict(single, config=str(config2))),
        "scheduler": (base, dict(base, scheduler="ddim")),
        "steps": (base, dict(base, steps=3)),
        "guidance": (base, dict(base, guidance=5.0)),
        "strength": (base, dict(base, strength=0.5)),
        "mode": (base, dict(base, mode="txt2img")),
        "preset": (base, dict(base, preset="fast", steps=2)),
        "dtype": (base, dict(base, dtype="bfloat16")),
        "device": (base, dict(base, device="cuda:1")),
        "tiny_vae": (base, dict(base, tiny_vae=str(tiny["taesd"]))),
        "width": (base, dict(base, width=128, height=64)),
        "height": (dict(base, width=128, height=64), dict(base, width=128, height=128)),
        "compile": (base, dict(base, compile=True)),
        "long_prompts": (base, dict(base, long_prompts="truncate")),
        "cpu_kernels": (base, dict(base, cpu_kernels=False)),
        "lora": (base, with_lora),
        "lora_weight": (with_lora, dict(with_lora, lora_weight=0.3)),
        "family": (base, dict(base, family="turbo")),
    }
    not_output = {"batch_size": 4, "allow_unsafe_weights": True, "exact_batches": False,
                  "compile_cache": str(tmp_path / "kernels"), "weights_cache": "off"}
    assert set(DiffusersConfig.output_fields()) == set(changes)
    assert set(DiffusersConfig.model_fields) == set(changes) | set(not_output)

    def fp(options):
        return get_generator("diffusers", **options).fingerprint()

    for option, (before, after) in changes.items():
        a, b = fp(before), fp(after)
        assert a != b and a[option] != b[option], option
    plain = fp(base)
    for option, value in not_output.items():
        assert fp(dict(base, **{option: value})) == plain, option
    assert {k: plain[k] for k in ("generator", "steps", "device", "dtype", "scheduler")} == {
        "generator": "diffusers", "steps": 2, "device": "cpu", "dtype": "float32", "scheduler": "dpmpp_2m_karras"}
    assert plain["weights_sha256"] and plain["tiny_vae"] is None and plain["cpu_kernels"] == D.CPU_KERNELS_VERSION
