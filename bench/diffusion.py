"""Diffusion speed: stock diffusers vs assetkit's generator on an SD-Turbo-shaped model.

Random weights (no download): SD-Turbo = the SD 2.1-base UNet, an OpenCLIP-H text encoder and
the SD VAE; AutoencoderTiny (default config) as the fast decoder. 512 px, 1 step, no CFG.

  (a) stock diffusers as its docs show SD-Turbo: fp32, full VAE, loaded once, one image a call
  (b) assetkit's DiffusersGenerator, preset fast: bf16 where the CPU/GPU has it, tiny VAE,
      prompt encoded once, channels_last on CPU; batch 1 by default (on CPU exact_batches runs
      a batch image by image anyway, so batching cannot help there)
  (c) with --compile: (b) plus ``compile=True`` (torch.compile, opt-in); its one-time compile
      cost is reported separately and excluded from images/minute

Both rates are steady state: model load and one warm-up image are timed and reported apart.

The ceiling: the FLOPs of one fast image (UNet step + TAESD decode, counted on the meta device)
at this CPU's measured bf16 GEMM rate; no implementation at this precision can beat it, so it
says how far (b) is from the hardware and what ratio over (a) is possible here at all.

Then a 20-asset ``run_brief`` on a tiny model: run wall time ÷ model compute time.

    .venv/bin/python bench/diffusion.py [--quick] [--device cpu] [--compile] [--ablation] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PROMPT = "a ceramic cup of light roast coffee on a wooden table by a window, spring morning"


def build_sd_turbo(path: Path) -> Path:
    """Save an SD-Turbo-architecture pipeline with random weights (fp32 safetensors)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        AutoencoderTiny,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from tinymodels import tiny_tokenizer
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, block_out_channels=(320, 640, 1280, 1280),
                                attention_head_dim=(5, 10, 20, 20), cross_attention_dim=1024,
                                use_linear_projection=True, layers_per_block=2)
    te = CLIPTextModel(CLIPTextConfig(hidden_size=1024, num_hidden_layers=23, num_attention_heads=16,
                                      intermediate_size=4096, projection_dim=1024, hidden_act="gelu",
                                      vocab_size=49408, max_position_embeddings=77))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, layers_per_block=2,
                        sample_size=768)
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet.eval(), text_encoder=te.eval(), vae=vae.eval(), scheduler=sched,
                                   tokenizer=tiny_tokenizer(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(path / "sd-turbo-random", safe_serialization=True)
    AutoencoderTiny().save_pretrained(path / "taesd-random", safe_serialization=True)
    return model_card(path / "sd-turbo-random")


def model_card(model: Path) -> Path:
    """Give the bench's random model a model card: its weights are random numbers made here, so
    the licence gate (commercial campaigns) reads MIT, ours, not the real SD-Turbo's non-commercial
    licence — the bench measures speed, the architecture is all it borrows."""
    card = model / "README.md"
    if not card.is_file():
        card.write_text("---\nlicense: mit\n---\n# sd-turbo-random\n\nSD-Turbo architecture, random weights "
                        "made by assetkit's bench/diffusion.py (no trained weights).\n", encoding="utf-8")
    return model


def stock(model: Path, n: int, device: str) -> tuple[float, dict]:
    """Images/minute, stock diffusers as documented for SD-Turbo (fp32, full VAE, one image per call)."""
    import torch
    from diffusers import AutoPipelineForText2Image

    t0 = time.perf_counter()
    pipe = AutoPipelineForText2Image.from_pretrained(model, torch_dtype=torch.float32).to(device)
    pipe.set_progress_bar_config(disable=True)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pipe(prompt=PROMPT, num_inference_steps=1, guidance_scale=0.0)  # warm-up
    warm_s = time.perf_counter() - t0
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        img = pipe(prompt=PROMPT, num_inference_steps=1, guidance_scale=0.0).images[0]
        times.append(time.perf_counter() - t0)
    assert img.size == (512, 512)
    del pipe
    return n / sum(times) * 60, {"load_s": round(load_s, 2), "warmup_s": round(warm_s, 2),
                                  "s_per_image": [round(t, 2) for t in times]}


def ceiling(model: Path, tiny_vae: Path, size: int = 512) -> dict:
    """FLOPs of one image (UNet step, math attention so its GEMMs count, + TAESD decode) and the
    best bf16 GEMM rate measured on this CPU: the fastest one image can possibly be made here."""
    import torch
    from diffusers import AutoencoderTiny, UNet2DConditionModel
    from diffusers.models.attention_processor import AttnProcessor
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(model / "unet"))
        taesd = AutoencoderTiny.from_config(AutoencoderTiny.load_config(tiny_vae))
    unet.set_attn_processor(AttnProcessor())
    lat = torch.empty(1, 4, size // 8, size // 8, device="meta")
    emb = torch.empty(1, 77, unet.config.cross_attention_dim, device="meta")
    with FlopCounterMode(display=False) as fc:
        unet(lat, 999, emb)
        taesd.decode(lat)
    flops = fc.get_total_flops()
    a, b = torch.randn(4096, 1024, dtype=torch.bfloat16), torch.randn(1024, 1024, dtype=torch.bfloat16)
    best = float("inf")
    for _ in range(12):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    peak = 2 * 4096 * 1024 * 1024 / best
    return {"gflop_per_image": round(flops / 1e9, 1), "bf16_gemm_gflops": round(peak / 1e9),
            "s_per_image": round(flops / peak, 3)}


def assetkit_fast(model: Path, tiny_vae: Path, n: int, device: str, batch: int,
                  compile: bool = False, cpu_kernels: bool = True) -> tuple[float, dict]:
    from assetkit.generators import GenerationRequest, get_generator

    gen = get_generator("diffusers", model=str(model), preset="fast", tiny_vae=str(tiny_vae), device=device,
                        batch_size=batch, family="turbo", compile=compile, cpu_kernels=cpu_kernels)
    w, h = gen.native_size("square")
    reqs = [GenerationRequest("bench", i, PROMPT, "", w, h, seed=i, palette={}) for i in range(n)]
    t0 = time.perf_counter()
    gen.load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen.generate(reqs[:1])  # warm-up: encodes the prompt once (and compiles, with compile=True)
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = gen.generate(reqs)
    ipm = n / (time.perf_counter() - t0) * 60
    assert all(o.image.size == (w, h) and o.image.mode == "RGB" for o in out)
    info = {k: out[0].params[k] for k in ("dtype", "device", "steps", "size")}
    info.update(load_s=round(load_s, 2), warmup_s=round(warm_s, 2), compile_s=round(gen.compile_seconds, 2))
    info["_first"] = out[0].image
    gen.close()
    return ipm, info


def run_ratio(work: Path) -> dict:
    """A 20-asset run (1 concept × 2 variants × 5 formats × 2 locales) on a tiny model."""
    from tinymodels import build_tiny_sd

    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    shutil.rmtree(work, ignore_errors=True)  # a fresh run folder each time (--work reuses the parent)
    model = build_tiny_sd(work / "tiny-sd")
    shutil.copytree(ROOT / "brand" / "nordlicht", work / "brand" / "nordlicht")
    (work / "brief.yaml").write_text(f"""version: 1
campaign: bench
brand: brand/nordlicht
model: {model}
variants: 2
formats: [meta-square, meta-portrait, meta-story, meta-landscape, iab-medium-rectangle]
copy:
  en-US: {{headline: Spring tastes like fresh coffee, cta: Discover now}}
  de-DE: {{headline: Der Frühling schmeckt nach Kaffee, cta: Jetzt entdecken}}
concepts:
  - id: morning
    prompt: {PROMPT}
""")
    os.environ["ASSETKIT_LEDGER"] = str(work / "ledger.sqlite")
    t0 = time.perf_counter()
    result = run_brief(work / "brief.yaml", RunOptions(out=work / "out", record=False))
    wall = time.perf_counter() - t0
    m = result.manifest
    compute = m["compute_seconds"]
    return {"assets": len(m["assets"]), "wall_s": round(wall, 3), "compute_s": round(compute, 3),
            "ratio": round(wall / compute, 3) if compute else None, "timings": m["timings"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer images (a few minutes on 2 CPU cores)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--compile", action="store_true", help="also measure (b) with compile=True (opt-in)")
    ap.add_argument("--ablation", action="store_true", help="also measure (b) without the CPU kernels")
    ap.add_argument("--work", type=Path, help="keep the random models here and reuse them (saves ~30 s)")
    ap.add_argument("--skip-run", action="store_true", help="skip the 20-asset run")
    args = ap.parse_args()
    from assetkit.generators.diffusers import pick_device, quiet_libraries

    quiet_libraries()
    device = pick_device(args.device)
    n_stock, n_fast = (2, 4) if args.quick else (4, 12)
    if device != "cpu":
        n_stock, n_fast = n_stock * 5, n_fast * 5
    keep = args.work is not None
    work = args.work or Path(tempfile.mkdtemp(prefix="assetkit-bench-"))
    try:
        t = time.perf_counter()
        if keep and (work / "sd-turbo-random" / "model_index.json").exists() and (work / "taesd-random").is_dir():
            model = model_card(work / "sd-turbo-random")
        else:
            work.mkdir(parents=True, exist_ok=True)
            model = build_sd_turbo(work)
        print(f"SD-Turbo-shaped random model ready in {time.perf_counter() - t:.1f}s ({device}); "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
        a, ainfo = stock(model, n_stock, device)
        print(f"(a) stock diffusers  fp32, full VAE, 1 image/call : {a:7.2f} images/min  "
              f"(load {ainfo['load_s']}s, warm-up {ainfo['warmup_s']}s, s/image {ainfo['s_per_image']})", flush=True)
        b, info = assetkit_fast(model, work / "taesd-random", n_fast, device, args.batch)
        print(f"(b) assetkit fast    {info['dtype']}, tiny VAE, batch {args.batch}  : {b:7.2f} images/min  "
              f"(load {info['load_s']}s, warm-up {info['warmup_s']}s)", flush=True)
        print(f"speed-up (b)/(a): {b / a:.2f}x  (target >= 8x)", flush=True)
        first_b = info.pop("_first")
        result = {"device": device, "load_average": [round(x, 2) for x in os.getloadavg()],
                  "stock_ipm": round(a, 3), "stock": ainfo, "assetkit_fast_ipm": round(b, 3),
                  "ratio": round(b / a, 2), "fast": info}
        if device == "cpu":
            top = ceiling(model, work / "taesd-random")
            best_ipm = 60 / top["s_per_image"]
            print(f"ceiling: {top['gflop_per_image']} GFLOP per image at this CPU's bf16 GEMM peak of "
                  f"{top['bf16_gemm_gflops']} GFLOPS = {top['s_per_image']} s/image = {best_ipm:.2f} images/min "
                  f"→ at most {best_ipm / a:.2f}x over (a) at 100 % efficiency; (b) runs at "
                  f"{b / best_ipm:.0%} of it", flush=True)
            result.update(ceiling=top, ceiling_ratio=round(best_ipm / a, 2))
        if args.ablation:
            n_, ninfo = assetkit_fast(model, work / "taesd-random", n_fast, device, args.batch, cpu_kernels=False)
            ninfo.pop("_first")
            print(f"(b') assetkit fast without cpu_kernels            : {n_:7.2f} images/min → {n_ / a:.2f}x",
                  flush=True)
            result.update(no_kernels_ipm=round(n_, 3), no_kernels_ratio=round(n_ / a, 2))
        if args.compile:
            import numpy as np

            c, cinfo = assetkit_fast(model, work / "taesd-random", n_fast, device, args.batch, compile=True)
            diff = np.abs(np.asarray(cinfo.pop("_first"), np.int16) - np.asarray(first_b, np.int16))
            cinfo["pixel_diff_vs_eager"] = {"max": int(diff.max()), "mean": round(float(diff.mean()), 3)}
            print(f"(c) assetkit fast + compile=True, batch {args.batch}   : {c:7.2f} images/min  "
                  f"(one-time compile {cinfo['compile_s']}s, not counted; pixels vs (b): "
                  f"max |diff| {cinfo['pixel_diff_vs_eager']['max']}, mean {cinfo['pixel_diff_vs_eager']['mean']})",
                  flush=True)
            print(f"speed-up (c)/(a): {c / a:.2f}x", flush=True)
            result.update(compiled_ipm=round(c, 3), compiled_ratio=round(c / a, 2), compiled=cinfo)
        if not args.skip_run:
            r = run_ratio(work / "run")
            print(f"20-asset run: {r['assets']} assets, wall {r['wall_s']}s, model compute {r['compute_s']}s, "
                  f"wall/compute {r['ratio']} (target <= 1.03)", flush=True)
            result["run"] = r
        print(json.dumps(result))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
