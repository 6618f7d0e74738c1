"""The diffusers backend: local Stable Diffusion-family models on CUDA, MPS or CPU.

The pipeline is loaded once per generator (per run). Each distinct prompt is encoded once and
passed as ``prompt_embeds``; requests are batched (``batch_size``) with one ``torch.Generator``
per image, so an image is the same alone or in a batch. torch and diffusers are imported inside
functions only: importing this module is cheap.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import FieldError, ModelError
from ..models import ModelRef, check_weights_file, file_sha256, resolve_model, weights_sha256
from .base import (
    NOT_OUTPUT,
    GeneratedImage,
    GenerationRequest,
    Generator,
    GeneratorConfig,
    ProgressFn,
    place_product,
)

#: scheduler name → (diffusers class, extra config, A1111 sampler name)
SCHEDULERS: dict[str, tuple[str, dict, str]] = {
    "euler": ("EulerDiscreteScheduler", {}, "Euler"),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "euler_karras": ("EulerDiscreteScheduler", {"use_karras_sigmas": True}, "Euler Karras"),
    "heun": ("HeunDiscreteScheduler", {}, "Heun"),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}, "DPM++ 2M"),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                                        "use_karras_sigmas": True}, "DPM++ 2M Karras"),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}, "DPM++ 2M SDE"),
    "dpmpp_2m_sde_karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++",
                                                            "use_karras_sigmas": True}, "DPM++ 2M SDE Karras"),
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "pndm": ("PNDMScheduler", {}, "PLMS"),
    "unipc": ("UniPCMultistepScheduler", {}, "UniPC"),
    "lcm": ("LCMScheduler", {}, "LCM"),
}
#: diffusers scheduler class → A1111 sampler name (when the model's own scheduler is kept)
SAMPLER_OF_CLASS = {"EulerDiscreteScheduler": "Euler", "EulerAncestralDiscreteScheduler": "Euler a",
                    "DPMSolverMultistepScheduler": "DPM++ 2M", "DDIMScheduler": "DDIM", "PNDMScheduler": "PLMS",
                    "UniPCMultistepScheduler": "UniPC", "LCMScheduler": "LCM", "HeunDiscreteScheduler": "Heun",
                    "LMSDiscreteScheduler": "LMS", "EulerDiscreteSchedulerKarras": "Euler Karras"}

#: (family, preset) → steps, guidance, default scheduler (None keeps the model's own)
PRESETS: dict[str, dict[str, dict]] = {
    "sd1": {"quality": dict(steps=25, guidance=7.5, scheduler="dpmpp_2m_karras"),
            "fast": dict(steps=15, guidance=7.0, scheduler="dpmpp_2m_karras")},
    "sd2": {"quality": dict(steps=25, guidance=7.0, scheduler="dpmpp_2m_karras"),
            "fast": dict(steps=15, guidance=7.0, scheduler="dpmpp_2m_karras")},
    "sdxl": {"quality": dict(steps=30, guidance=5.0, scheduler="dpmpp_2m_karras"),
             "fast": dict(steps=20, guidance=5.0, scheduler="dpmpp_2m_karras")},
    "turbo": {"quality": dict(steps=4, guidance=0.0, scheduler=None),
              "fast": dict(steps=1, guidance=0.0, scheduler=None)},
    "lcm": {"quality": dict(steps=6, guidance=1.0, scheduler="lcm"),
            "fast": dict(steps=4, guidance=1.0, scheduler="lcm")},
    "other": {"quality": dict(steps=28, guidance=5.0, scheduler=None),
              "fast": dict(steps=20, guidance=5.0, scheduler=None)},
}
DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}
PORTRAIT_RATIO = 832 / 1216  # SDXL's 832×1216 bucket; the same shape is used for every family
#: in the fingerprint of CPU runs with the CPU kernels (packed fp32 convolutions may round
#: differently from stock PyTorch's; bf16 attention is blocked)
CPU_KERNELS_VERSION = "cpu-1"


def quiet_libraries() -> None:
    """Hide diffusers', transformers' and huggingface_hub's own progress bars and chatter."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    import diffusers.utils.logging as dlog
    import transformers.utils.logging as tlog

    dlog.disable_progress_bar()
    tlog.disable_progress_bar()
    dlog.set_verbosity_error()
    tlog.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*steps_offset.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="diffusers")


#: text-to-image pipeline classes that ``AutoPipelineForText2Image`` maps to themselves: a folder of
#: one of these is loaded by its own class (other folders, e.g. an img2img one, go through the auto
#: pipeline, which finds their text-to-image sibling)
TEXT_TO_IMAGE = frozenset({"StableDiffusionPipeline", "StableDiffusionXLPipeline"})


def use_huge_pages() -> bool:
    """Let torch back its large CPU tensors (≥ 2 MB: weights, packed weights, activations) with
    transparent huge pages (``THP_MEM_ALLOC_ENABLE``, read by torch at its first allocation, so
    this runs before torch is imported). On a VM each 4 KiB page fault is expensive: loading
    SD-Turbo and the first image of each size faulted ≈ 380,000 pages (5.7 s of system time for
    the first 512 px image); with huge pages ≈ 25,000 (load 14.4 → 11.4 s, first image 8.4 →
    6.8 s, ``bench/campaign.py``). Linux only, not where THP is off (``[never]``); an explicit
    ``THP_MEM_ALLOC_ENABLE`` in the environment (e.g. ``0``) wins. Returns whether it is on."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    if "[never]" in mode:
        return False
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    return os.environ["THP_MEM_ALLOC_ENABLE"] == "1"


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 math (AVX512-BF16 or AMX), where bf16 is faster than fp32."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
        if "avx512_bf16" in flags or "amx_bf16" in flags:
            return True
        if flags:
            return False
    except OSError:
        pass
    try:  # no /proc/cpuinfo (macOS, Windows): ask torch
        import torch

        return "AMX" in torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        return False


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError(f"device {device!r} asked for, but torch sees no CUDA GPU\n"
                             "  hint: use --device cpu (or auto), or install a CUDA build of torch")
        if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ModelError("device 'mps' asked for, but it is not available\n  hint: use device: cpu or auto")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, dtype: str = "auto") -> str:
    """CUDA: bf16 where supported else fp16; MPS: fp16; CPU: bf16 with native support else fp32."""
    if dtype != "auto":
        if dtype not in DTYPES:
            raise ModelError(f"unknown dtype {dtype!r}; use one of auto, float32, float16, bfloat16")
        return DTYPES[dtype]
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "bfloat16" if cpu_supports_bf16() else "float32"


def _round_to(x: float, m: int) -> int:
    return max(m, int(math.floor(x / m + 0.5)) * m)


@dataclass
class _Plan:
    """How one request is made (resolved mode, size, strength)."""

    request: GenerationRequest
    mode: str
    width: int
    height: int
    strength: float | None


class DiffusersOptions(GeneratorConfig):
    """What a pipeline's generate step may set for the diffusers backend."""

    model: str | None = None
    """Diffusers folder, .safetensors (with config) or hf:org/name (the brief's or --model otherwise)."""
    config: str | None = None
    """Diffusers folder / hf: id with the configs of a .safetensors model."""
    scheduler: str | None = None
    """euler, euler_a, dpmpp_2m, dpmpp_2m_karras, ddim, lcm, ... (the family preset's otherwise)."""
    steps: int | None = Field(None, ge=1, le=200)
    """Denoising steps (family preset otherwise)."""
    guidance: float | None = Field(None, ge=0, le=30)
    """CFG scale (family preset otherwise)."""
    strength: float | None = Field(None, gt=0, le=1)
    """How much img2img changes the concept image."""
    mode: Literal["auto", "txt2img", "img2img", "inpaint"] = "auto"
    """auto: inpaint with a product, img2img with an image, else txt2img."""
    batch_size: int = Field(1, ge=1, le=64, json_schema_extra=NOT_OUTPUT)
    """Images per model call (same pixels as one by one)."""
    preset: Literal["fast", "quality"] = "quality"
    """fast: bf16, tiny VAE, fewer steps."""
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """Weights' precision (auto: bf16 where the hardware has it, else fp16 on GPUs, fp32 on CPUs)."""
    device: str = "auto"
    """auto, cpu, cuda, cuda:1, mps."""
    tiny_vae: str | None = None
    """Local AutoencoderTiny (TAESD) folder for the fast decoder."""
    width: int | None = Field(None, ge=64, le=4096, multiple_of=8)
    """Override the native width (with height)."""
    height: int | None = Field(None, ge=64, le=4096, multiple_of=8)
    """Override the native height (with width)."""
    compile: bool = False
    """torch.compile the UNet and decoder (one-time compile per size: minutes on a CPU; see compile_cache)."""
    compile_cache: str | None = Field(None, json_schema_extra=NOT_OUTPUT)
    """Folder torch.compile keeps compiled kernels in between runs ($ASSETKIT_COMPILE_CACHE, else
    ~/.cache/assetkit/torch-compile)."""
    weights_cache: str = Field("auto", json_schema_extra=NOT_OUTPUT)
    """Folder that keeps the model converted to the run's dtype (e.g. fp32 files run in bf16), so
    later runs load it without converting; ``off``: convert every run. auto: $ASSETKIT_WEIGHTS_CACHE,
    else ~/.cache/assetkit/weights."""
    long_prompts: Literal["chunk", "truncate"] = "chunk"
    """Prompts over the text encoder's 75 tokens: read in 75-token chunks, or truncated with a warning."""
    cpu_kernels: bool = True
    """On CPU: pre-packed oneDNN convolutions and blocked bf16 self-attention (off: stock PyTorch kernels)."""

    @field_validator("scheduler")
    @classmethod
    def _known_scheduler(cls, v: str | None) -> str | None:
        if v is not None and v not in SCHEDULERS:
            import difflib

            close = difflib.get_close_matches(v, SCHEDULERS, n=1)
            raise ValueError(f"unknown scheduler {v!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                             + f"\n  hint: known schedulers: {', '.join(SCHEDULERS)}")
        return v

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype_alias(cls, v: Any) -> Any:
        return DTYPES.get(v, v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _size(self) -> DiffusersOptions:
        if (self.width is None) != (self.height is None):
            raise FieldError(("width",) if self.width is not None else ("height",),
                             "give both width and height, or neither")
        return self


class DiffusersConfig(DiffusersOptions):
    """The diffusers backend's whole config: the pipeline's options plus what the run fills in."""

    allow_unsafe_weights: bool = Field(False, json_schema_extra=NOT_OUTPUT)
    """Allow pickle weights (.ckpt/.bin): they can run code (``--allow-unsafe-weights`` only, never a
    pipeline file)."""
    lora: str | None = None
    """The brand's style LoRA (the brand kit's ``style.lora``)."""
    lora_weight: float = 0.8
    """How strongly the style LoRA applies (the brand kit's ``style.lora_weight``)."""
    family: Literal["sd1", "sd2", "sdxl", "turbo", "lcm", "other"] | None = None
    """Model family for the presets (detected from the model otherwise)."""
    exact_batches: bool | None = Field(None, json_schema_extra=NOT_OUTPUT)
    """Run the UNet and VAE image by image inside a batch (pixel-identical to one by one; default on CPU).
    Not in the fingerprint, like ``batch_size``: batching moves pixels at most within float rounding."""


class DiffusersGenerator(Generator):
    """Stable Diffusion-family models through diffusers' AutoPipeline classes.

    ``model`` is a diffusers folder, a ``.safetensors`` file (with ``config``) or ``hf:org/name``.
    Everything else is optional: ``scheduler`` (a name in :data:`SCHEDULERS`), ``steps`` and
    ``guidance`` (family presets otherwise), ``strength`` (img2img), ``mode``, ``batch_size``,
    ``preset`` (``quality`` / ``fast``: bf16 where supported, ``tiny_vae`` decoder, fewer steps),
    ``dtype``/``device`` (``auto``), ``lora``/``lora_weight`` (brand style LoRA),
    ``width``/``height`` (override the native size of every aspect group) and ``log`` (where
    warnings such as prompt truncation go; ``warnings.warn`` by default).

    Every image has its own seeded ``torch.Generator``. With ``exact_batches`` (the default on
    CPU) the UNet and VAE run image by image inside a batch, because CPU GEMM/conv kernels round
    differently for different batch sizes: an image is then pixel-identical alone or batched. On
    GPUs batches run as one (the throughput is the point there); images match to within float
    rounding, and ``exact_batches=True`` makes them exact too.

    On CPU, ``cpu_kernels`` (default on) pre-packs the UNet's and VAE's convolution weights for
    oneDNN once instead of on every call and, in bf16, runs long self-attention as blocked bf16
    GEMMs (:mod:`.cpu_kernels`): SD-Turbo UNet at 512 px, 2 cores, 2.9 → 2.4 s. Pixels move
    within float rounding, so it is part of the fingerprint.

    ``compile=True`` (opt-in) also runs the UNet and the VAE decoder through ``torch.compile``
    (inductor; on CPU with weight freezing, the blocked attention kept as one opaque op). The
    first image of every size pays a one-time compile, kept in ``compile_seconds``; its kernels
    are kept in ``compile_cache`` (:func:`compile_cache_dir`), so a later run skips their C++
    build (SD-Turbo shape at 512 px, 2 cores at load 8-10: first image 286 s cold, 161 s with
    the cache). Inductor cannot keep the frozen graph itself on CPU ("mkldnn tensors
    unpickleable"), so tracing is paid every run. The compiled steady state is ~10 % faster than
    the CPU kernels (README, bench/diffusion.py): ~0.3 s an image against a minute or more per
    size, so it pays from roughly 150+ masters of one size — far above a campaign's (the
    reference one has 16 per size), which is why there is no ``compile: auto``. Pixels differ
    from eager within bf16 rounding, so it is part of
    the fingerprint.
    """

    name = "diffusers"
    Config = DiffusersConfig
    Options = DiffusersOptions
    config: DiffusersConfig

    def __init__(self, config: DiffusersConfig | None = None, /, *, base_dir: Path | None = None,
                 log: Callable[[str], None] | None = None, **options: Any):
        from ..extras import require

        require("diffusion", "the diffusers generator (a diffusion model)")
        super().__init__(config, base_dir=base_dir, log=log, **options)
        c = self.config
        if c.model is None:
            raise ModelError("the diffusers generator needs a model\n  hint: set `model:` in the brief or the "
                             "generate step, or pass --model (hf:ORG/NAME, a diffusers folder or a .safetensors file)")
        self.ref: ModelRef = resolve_model(c.model, c.config, allow_unsafe=c.allow_unsafe_weights, base_dir=base_dir)
        if c.cpu_kernels:  # before this process first imports torch (a no-op after)
            use_huge_pages()
        self.allow_unsafe = c.allow_unsafe_weights
        self.preset, self.mode, self.batch_size = c.preset, c.mode, c.batch_size
        self.index = self.ref.model_index()
        self.pipeline_class = str(self.index.get("_class_name", "?"))
        self.family = c.family or self._family()
        p = PRESETS.get(self.family, PRESETS["other"])[c.preset]
        self.steps = int(c.steps if c.steps is not None else p["steps"])
        self.guidance = float(c.guidance if c.guidance is not None else p["guidance"])
        self.scheduler = c.scheduler if c.scheduler is not None else p["scheduler"]
        self.strength = c.strength
        self.device_pref, self.dtype_pref = c.device, c.dtype
        self.tiny_vae = self._local_path(c.tiny_vae, base_dir) if c.tiny_vae else None
        if self.tiny_vae is not None and not (self.tiny_vae / "config.json").is_file():
            raise ModelError(f"tiny_vae {c.tiny_vae} is not an AutoencoderKL/AutoencoderTiny folder (no config.json)\n"
                             "  hint: point at a local TAESD folder, e.g. one made by `assetkit models pull "
                             "madebyollin/taesd`")
        self.lora = self._local_path(c.lora, base_dir) if c.lora else None
        if self.lora is not None:
            if not self.lora.is_file():
                raise ModelError(f"style LoRA not found: {c.lora}\n  hint: style.lora is relative to the brand kit")
            check_weights_file(self.lora, c.allow_unsafe_weights)
        self.lora_weight = float(c.lora_weight)
        self.size_override = (c.width, c.height) if c.width is not None and c.height is not None else None
        self.exact_batches = c.exact_batches
        self.compile = c.compile
        self.cpu_kernels = c.cpu_kernels
        self.long_prompts = c.long_prompts
        self.compile_seconds = 0.0  # one-time torch.compile cost, paid by the first image of each size
        self._pipes: dict[str, Any] = {}
        self._embeds: dict[tuple[str, str, bool], tuple] = {}
        self._compiled_sizes: set[tuple] = set()
        self._eager = False  # the accelerated path failed once: diffusers' own kernels from then on
        self._device: str | None = None
        self._dtype: str | None = None
        self._fingerprint: dict | None = None
        self.load_seconds = 0.0
        self.encode_seconds = 0.0  # text encoding, each distinct prompt once per run
        self.prompts_encoded = 0
        self.compile_cache = c.compile_cache
        self.weights_cache = c.weights_cache

    # ----------------------------------------------------------------------------- description
    @staticmethod
    def _local_path(value, base_dir: Path | None) -> Path:
        p = Path(os.path.expanduser(str(value)))
        if not p.is_absolute() and base_dir is not None and not p.exists():
            p = base_dir / p
        return p

    def _component_config(self, comp: str) -> dict:
        try:
            return json.loads((self.ref.folder / comp / "config.json").read_text())
        except (OSError, ValueError):
            return {}

    def _family(self) -> str:
        text = f"{self.ref.ref} {self.ref.name} {self.ref.repo_id or ''}".lower()
        if "turbo" in text or "lightning" in text or "hyper" in text:
            return "turbo"
        if "lcm" in text:
            return "lcm"
        cls = self.pipeline_class
        cross = self._component_config("unet").get("cross_attention_dim")
        if "XL" in cls or cross == 2048:
            return "sdxl"
        if cls.startswith("StableDiffusion") and cross == 1024:
            return "sd2"
        if cls.startswith("StableDiffusion"):
            return "sd1"
        return "other"

    @property
    def vae_scale_factor(self) -> int:
        blocks = self._component_config("vae").get("block_out_channels") or [0, 0, 0, 0]
        return 2 ** (len(blocks) - 1)

    def native_size(self, aspect: str) -> tuple[int, int]:
        """The model's native square (UNet sample size × VAE scale) shaped per aspect group.

        Portrait/landscape keep the square's area at SDXL's 832×1216 shape; both sides are
        multiples of 8 × the VAE scale factor (64 for SD/SDXL). ``width``/``height`` override all.
        """
        if aspect not in ("square", "portrait", "landscape"):
            raise ValueError(f"unknown aspect group {aspect!r}; use square, portrait or landscape")
        if self.size_override:
            return self.size_override
        vsf = self.vae_scale_factor
        sample = self._component_config("unet").get("sample_size") or (128 if self.family == "sdxl" else 64)
        if isinstance(sample, (list, tuple)):
            sample = sample[0]
        side = int(sample) * vsf
        if aspect == "square":
            return side, side
        m = 8 * vsf
        w, h = _round_to(side * math.sqrt(PORTRAIT_RATIO), m), _round_to(side / math.sqrt(PORTRAIT_RATIO), m)
        return (w, h) if aspect == "portrait" else (h, w)

    @property
    def size_multiple(self) -> int:  # type: ignore[override]
        return 8 * self.vae_scale_factor

    def size_for_ratio(self, ratio: float) -> tuple[int, int]:
        """The native square's area shaped ``ratio``; ``width``/``height`` override it too."""
        return self.size_override or super().size_for_ratio(ratio)

    def sampler_name(self) -> str:
        if self.scheduler:
            return SCHEDULERS[self.scheduler][2]
        try:
            cfg = json.loads((self.ref.folder / "scheduler" / "scheduler_config.json").read_text())
            return SAMPLER_OF_CLASS.get(cfg.get("_class_name", ""), cfg.get("_class_name", "?"))
        except (OSError, ValueError):
            return "?"

    def resolved_device(self) -> tuple[str, str]:
        if self._device is None:
            self._device = pick_device(self.device_pref)
            self._dtype = pick_dtype(self._device, self.dtype_pref)
        assert self._dtype is not None
        return self._device, self._dtype

    def fingerprint(self) -> dict:
        """Everything that changes the pixels, derived from the config (:meth:`GeneratorConfig.fingerprint`):
        every option not marked ``NOT_OUTPUT`` (``batch_size``, ``exact_batches``,
        ``allow_unsafe_weights`` are), with what it resolves to here (a preset's steps, the
        detected device and dtype, files by content hash), plus what identifies the model
        (weights hash, pipeline class, sampler) and the library versions. No model load.

        Its keys are the config's field names (before they were derived, ``config_sha256``,
        ``size_override`` and ``kernels`` stood for ``config``, ``width``/``height`` and
        ``cpu_kernels``): masters cached under the hand-written fingerprint are made again once,
        which is cheaper than keeping a second list of names that can drift from the config."""
        if self._fingerprint is None:
            from importlib.metadata import version

            device, dtype = self.resolved_device()
            c = self.config
            cfg_hash = None
            if self.ref.kind == "single_file":
                import hashlib

                h = hashlib.sha256()
                for f in sorted(self.ref.config.rglob("*.json")):  # type: ignore[union-attr]
                    h.update(f.read_bytes())
                cfg_hash = h.hexdigest()
            tiny = None
            if self.tiny_vae is not None:
                tiny = (weights_sha256(resolve_model(self.tiny_vae, allow_unsafe=True))
                        if (self.tiny_vae / "model_index.json").exists() else _folder_hash(self.tiny_vae))
            resolved = {
                "model": self.ref.name, "config": cfg_hash, "family": self.family,
                "scheduler": self.scheduler or "default", "steps": self.steps, "guidance": self.guidance,
                "device": device, "dtype": dtype, "tiny_vae": tiny,
                "lora": file_sha256(self.lora) if self.lora else None,
                "lora_weight": self.lora_weight if self.lora else None,
                "cpu_kernels": CPU_KERNELS_VERSION if c.cpu_kernels and device == "cpu" else False,
                "compile": self.compile,  # False when an unusable compile cache turned it off for the run
            }
            self._fingerprint = {
                "generator": "diffusers", **c.fingerprint(resolved),
                "model_path": str(self.ref.path), "weights_sha256": weights_sha256(self.ref),
                "pipeline": self.pipeline_class, "sampler": self.sampler_name(),
                "diffusers": version("diffusers"), "torch": version("torch"),
            }
        return dict(self._fingerprint)

    # ---------------------------------------------------------------------------------- loading
    def _load_pipe(self, diffusers, kw: dict[str, Any], dtype_name: str):
        """The pipeline as stored, in ``dtype_name``: from the weights cache when it holds this
        model in that dtype (:mod:`.weights_cache`), else from the model's files (then kept in
        the cache for the next run when its files hold another dtype)."""
        from .weights_cache import WeightsCache

        cache = WeightsCache.for_load(self.weights_cache, self.ref, dtype_name, self.pipeline_class, self.log)
        entry = cache.find() if cache is not None else None
        if entry is not None:
            try:
                return self._from_pretrained(diffusers, entry, {**kw, "use_safetensors": True})
            except Exception as exc:  # noqa: BLE001 - a cache entry that cannot load: the model's own files
                self.log(f"weights cache: {entry} did not load ({type(exc).__name__}: {exc}); loading "
                         f"{self.ref.name} itself and writing the entry again")
                cache.discard()  # type: ignore[union-attr]
        pipe = self._load_source(diffusers, kw)
        if cache is not None:
            cache.store(pipe)
        return pipe

    def _load_source(self, diffusers, kw: dict[str, Any]):
        if self.ref.kind == "single_file":
            cls = getattr(diffusers, self.pipeline_class, None)
            if cls is None or not hasattr(cls, "from_single_file"):
                raise ModelError(f"{self.ref.name}: the config's pipeline {self.pipeline_class} cannot load "
                                 "single-file checkpoints\n  hint: use a diffusers folder instead")
            kw.pop("use_safetensors")
            pipe = cls.from_single_file(str(self.ref.path), config=str(self.ref.config), **kw)
        else:
            pipe = self._from_pretrained(diffusers, self.ref.path, kw)
        return pipe

    def _from_pretrained(self, diffusers, folder: Path, kw: dict[str, Any]):
        """A diffusers folder (the model's, or its weights-cache entry) as this model's pipeline."""
        if self.pipeline_class in TEXT_TO_IMAGE:  # what the auto pipeline would pick, without
            # importing every pipeline module of diffusers first (1.2 s of the load)
            return getattr(diffusers, self.pipeline_class).from_pretrained(str(folder), **kw)
        return diffusers.AutoPipelineForText2Image.from_pretrained(str(folder), **kw)

    def load(self):
        """Load the text-to-image pipeline once (later calls return it)."""
        if "txt2img" in self._pipes:
            return self._pipes["txt2img"]
        device, dtype_name = self.resolved_device()
        t0 = time.perf_counter()
        quiet_libraries()
        import diffusers
        import torch

        dtype = getattr(torch, dtype_name)
        kw: dict[str, Any] = dict(torch_dtype=dtype, local_files_only=True)
        kw["use_safetensors"] = None if self.allow_unsafe else True
        try:
            pipe = self._load_pipe(diffusers, kw, dtype_name)
            if self.scheduler:
                cls_name, extra, _ = SCHEDULERS[self.scheduler]
                pipe.scheduler = getattr(diffusers, cls_name).from_config(pipe.scheduler.config, **extra)
            if self.tiny_vae is not None:
                pipe.vae = diffusers.AutoencoderTiny.from_pretrained(str(self.tiny_vae), torch_dtype=dtype,
                                                                     local_files_only=True, use_safetensors=True)
            if self.lora is not None:
                pipe.load_lora_weights(str(self.lora.parent), weight_name=self.lora.name, adapter_name="brand",
                                       local_files_only=True)
                pipe.fuse_lora(lora_scale=self.lora_weight, adapter_names=["brand"])
                pipe.unload_lora_weights()
            pipe = pipe.to(device)
            if device == "cpu":
                packed = self.cpu_kernels and not self.compile  # inductor packs the weights itself
                if self.cpu_kernels:
                    from . import cpu_kernels

                    cpu_kernels.keep_freed_memory()
                for comp in ("unet", "vae"):
                    module = getattr(pipe, comp, None)
                    if module is None:
                        continue
                    if self.cpu_kernels:
                        cpu_kernels.accelerate(module, pack=packed)
                    # oneDNN's stock bf16/fp32 convolutions are fastest on NHWC weights (TAESD decode
                    # at 512 px: 0.70 → 0.44 s in bf16); a packed one takes its weight in any layout,
                    # so only the others are converted (the whole UNet's: 1.9 s of the load)
                    stock = [m for m in module.modules() if not packed or not isinstance(m, cpu_kernels.PackedConv2d)]
                    for m in stock:
                        if any(t.dim() == 4 for t in m.parameters(recurse=False)):
                            m.to(memory_format=torch.channels_last)
            if self.compile:
                problem = use_compile_cache(compile_cache_dir(self.compile_cache))
                if problem:  # compiling into /tmp, or not at all, would hide that every run pays again
                    self.log(f"compile: true is off for this run: {problem}; the images come from the eager "
                             "path (same images within float rounding, slower)\n  hint: set compile_cache: (or "
                             "$ASSETKIT_COMPILE_CACHE) to a writable folder")
                    self.compile = False
                    self._fingerprint = None
                else:
                    _compile_pipe(pipe, device)
            pipe.set_progress_bar_config(disable=True)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - diffusers raises many kinds; the user needs one message
            raise _model_error(exc, f"could not load {self.ref.name}", device) from None
        self._pipes["txt2img"] = pipe
        self.load_seconds = time.perf_counter() - t0
        return pipe

    def _pipe_for(self, mode: str):
        if mode not in self._pipes:
            import diffusers

            base = self.load()
            cls = {"img2img": diffusers.AutoPipelineForImage2Image,
                   "inpaint": diffusers.AutoPipelineForInpainting}[mode]
            try:
                pipe = cls.from_pipe(base)
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"{self.ref.name} ({self.pipeline_class}) has no {mode} pipeline: {exc}\n"
                                 "  hint: use mode: txt2img, or a Stable Diffusion / SDXL family model") from None
            pipe.set_progress_bar_config(disable=True)
            self._pipes[mode] = pipe
        return self._pipes[mode]

    def timings(self) -> dict[str, float]:
        """Model load, text encoding (each distinct prompt once) and, with ``compile``, the
        one-time compile (part of the first image of each size), in seconds."""
        t = {"generate.model_load": self.load_seconds, "generate.prompt_encode": self.encode_seconds}
        if self.compile_seconds:
            t["generate.compile"] = self.compile_seconds
        return t

    def close(self) -> None:
        """Drop the pipelines. On a GPU also collect and empty the allocator's cache, so the
        memory is free for the next run in this process; on the CPU dropping the references
        frees the tensors already (a full gc pass would only add ~0.2 s to every run)."""
        self._pipes.clear()
        self._embeds.clear()
        if self._device is None or self._device == "cpu":
            return
        try:
            import gc

            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass

    # ---------------------------------------------------------------------------------- prompts
    def _check_length(self, pipe, text: str, what: str) -> list[str]:
        """Warn (and say so) when a prompt is longer than the text encoder reads and is truncated:
        with ``long_prompts: truncate``, or a pipeline that takes no prompt embeddings."""
        tok = getattr(pipe, "tokenizer", None) or getattr(pipe, "tokenizer_2", None)
        if tok is None or not text:
            return []
        if self.long_prompts == "chunk" and self._supports_embeds(pipe):
            return []  # chunked: every token is read
        room = _token_room(tok)
        ids = tok(text, truncation=False, add_special_tokens=False)["input_ids"]
        if len(ids) <= room:
            return []
        dropped = tok.decode(ids[room:]).strip()
        msg = (f"{what} is {len(ids)} tokens; the text encoder reads {room}: truncated, dropping "
               f"\"{dropped[:80]}{'…' if len(dropped) > 80 else ''}\"")
        return [msg]

    def _encode(self, pipe, prompt: str, negative: str, cfg: bool, device: str) -> tuple:
        """``(prompt_embeds, negative_embeds, pooled, negative_pooled)`` of a prompt, once per run.

        Prompts that fit the text encoder go through the pipeline's own ``encode_prompt``; longer
        ones (with ``long_prompts: chunk``) are read in 75-token chunks, each encoded on its own
        and concatenated (the way A1111 and compel do it), so brand style keywords at the end of
        a long concept prompt still reach the UNet."""
        key = (prompt, negative if cfg else "", cfg)
        if key not in self._embeds:
            import inspect

            t0 = time.perf_counter()
            self.prompts_encoded += 1

            sdxl = "pooled_prompt_embeds" in inspect.signature(pipe.encode_prompt).parameters
            if self.long_prompts == "chunk" and self._chunks(pipe, prompt, negative if cfg else "") > 1:
                self._embeds[key] = self._encode_chunked(pipe, prompt, negative, cfg, device, sdxl)
            elif sdxl:
                pe, npe, ppe, nppe = pipe.encode_prompt(prompt=prompt, device=device, num_images_per_prompt=1,
                                                        do_classifier_free_guidance=cfg,
                                                        negative_prompt=negative if cfg else None)
                self._embeds[key] = (pe, npe, ppe, nppe)
            else:
                pe, npe = pipe.encode_prompt(prompt, device, 1, cfg, negative_prompt=negative if cfg else None)
                self._embeds[key] = (pe, npe, None, None)
            self.encode_seconds += time.perf_counter() - t0
        return self._embeds[key]

    def _chunks(self, pipe, *texts: str) -> int:
        """How many 75-token chunks the longest of ``texts`` needs (token counts kept per text:
        grouping, encoding and chunking all ask)."""
        tok = pipe.tokenizer if getattr(pipe, "tokenizer", None) is not None else pipe.tokenizer_2
        room = _token_room(tok)
        counts = self.__dict__.setdefault("_token_counts", {})
        for t in texts:
            if t not in counts:
                counts[t] = len(tok(t, truncation=False, add_special_tokens=False)["input_ids"])
        return max(max(1, math.ceil(counts[t] / room)) for t in texts)

    def _encode_chunked(self, pipe, prompt: str, negative: str, cfg: bool, device: str, sdxl: bool) -> tuple:
        import torch

        n = self._chunks(pipe, prompt, negative if cfg else "")
        pairs = [(pipe.tokenizer, pipe.text_encoder)]
        if sdxl:
            pairs = [(t, e) for t, e in ((getattr(pipe, "tokenizer", None), getattr(pipe, "text_encoder", None)),
                                         (pipe.tokenizer_2, pipe.text_encoder_2)) if t is not None and e is not None]

        def encode(text: str) -> tuple:
            per_encoder, pooled = [], None
            for tok, enc in pairs:
                ids, mask = _chunk_ids(tok, text, n)
                use_mask = getattr(enc.config, "use_attention_mask", False)
                out = enc(ids.to(device), attention_mask=mask.to(device) if use_mask else None,
                          output_hidden_states=sdxl)
                if sdxl:
                    if pooled is None and out[0].ndim == 2:  # the projection encoder's pooled output
                        pooled = out[0][:1]  # of the first chunk, as a single prompt gives it
                    hidden = out.hidden_states[-2]
                else:
                    hidden = out[0]
                per_encoder.append(hidden.reshape(1, -1, hidden.shape[-1]))  # chunks one after another
            dtype = pairs[-1][1].dtype
            embeds = torch.cat(per_encoder, dim=-1).to(dtype=dtype, device=device)
            return embeds, pooled.to(dtype=dtype, device=device) if pooled is not None else None

        with torch.inference_mode():
            pe, ppe = encode(prompt)
            npe, nppe = encode(negative) if cfg else (None, None)
        return pe, npe, ppe, nppe

    def _supports_embeds(self, pipe) -> bool:
        return type(pipe).__name__.startswith("StableDiffusion") and hasattr(pipe, "encode_prompt")

    # ------------------------------------------------------------------------------- generating
    def _plan(self, r: GenerationRequest) -> _Plan:
        mode = self.mode
        if mode == "auto":
            mode = "inpaint" if r.product_image else "img2img" if r.init_image else "txt2img"
        if mode == "img2img" and not r.init_image:
            raise ModelError(f"concept {r.concept}: mode img2img needs a concept `image:`")
        if mode == "inpaint" and not r.product_image:
            raise ModelError(f"concept {r.concept}: mode inpaint needs a concept `product:` PNG with alpha")
        strength = None
        if mode == "img2img":
            strength = self.strength if self.strength is not None else 0.6
        elif mode == "inpaint":
            strength = self.strength if self.strength is not None else 1.0
        if r.width % 8 or r.height % 8:
            raise ModelError(f"`height` and `width` have to be divisible by 8 but are {r.height} and {r.width}")
        return _Plan(r, mode, r.width, r.height, strength)

    def _effective_steps(self, plan: _Plan) -> int:
        if plan.strength is not None and int(self.steps * plan.strength) < 1:
            return math.ceil(1 / plan.strength)  # img2img needs at least one denoising step
        return self.steps

    def generate(self, requests: list[GenerationRequest], progress: ProgressFn | None = None) -> list[GeneratedImage]:
        """Make one image per request, in order; ``progress(done, total)`` counts denoising steps."""
        if not requests:
            return []
        plans = [self._plan(r) for r in requests]
        pipe0 = self.load()
        device, dtype = self.resolved_device()
        groups: dict[tuple, list[int]] = {}
        chunked = self.long_prompts == "chunk" and self._supports_embeds(pipe0)
        cfg = self.guidance > 1.0
        for i, p in enumerate(plans):
            key = (p.mode, p.width, p.height, str(p.request.init_image), str(p.request.product_image), p.strength,
                   # a batch shares one prompt length: padding a prompt with empty chunks would change it
                   self._chunks(pipe0, p.request.prompt, p.request.negative_prompt if cfg else "")
                   if chunked else 1)
            groups.setdefault(key, []).append(i)
        batches = [idx[j:j + self.batch_size] for idx in groups.values() for j in range(0, len(idx), self.batch_size)]
        expected = [self._expected_steps(plans[b[0]]) for b in batches]
        state = {"done": 0, "total": sum(expected)}
        results: list[GeneratedImage | None] = [None] * len(requests)
        warned: set[str] = set()
        for bi, batch in enumerate(batches):
            base_done = state["done"]
            out = self._run_batch([plans[i] for i in batch], pipe0, device, dtype, progress, state, base_done,
                                  expected[bi], warned)
            state["done"] = base_done + out[1]
            for i, img in zip(batch, out[0]):
                results[i] = img
        if progress:
            progress(state["total"], state["total"])
        return results  # type: ignore[return-value]

    def _expected_steps(self, plan: _Plan) -> int:
        steps = self._effective_steps(plan)
        return max(1, int(steps * plan.strength)) if plan.strength is not None and plan.strength < 1 else steps

    def _run_batch(self, plans: list[_Plan], pipe0, device: str, dtype: str, progress, state, base_done: int,
                   expected: int, warned: set[str]) -> tuple[list[GeneratedImage], int]:
        import torch

        first = plans[0]
        pipe = self._pipe_for(first.mode) if first.mode != "txt2img" else pipe0
        steps = self._effective_steps(first)
        cfg = self.guidance > 1.0
        warn_list: dict[int, list[str]] = {}
        kwargs: dict[str, Any] = dict(num_inference_steps=steps, guidance_scale=self.guidance, width=first.width,
                                      height=first.height, output_type="pil")
        for k, p in enumerate(plans):
            msgs = self._check_length(pipe0, p.request.prompt, f"prompt of concept {p.request.concept}")
            if cfg:
                msgs += self._check_length(pipe0, p.request.negative_prompt,
                                           f"negative prompt of concept {p.request.concept}")
            for msg in msgs:
                if msg not in warned:
                    warned.add(msg)
                    self.log(msg)
            warn_list[k] = msgs
        t0 = time.perf_counter()
        try:
            if self._supports_embeds(pipe0):
                embs = [self._encode(pipe0, p.request.prompt, p.request.negative_prompt, cfg, device) for p in plans]
                kwargs["prompt_embeds"] = torch.cat([e[0] for e in embs])
                if cfg:
                    kwargs["negative_prompt_embeds"] = torch.cat([e[1] for e in embs])
                if embs[0][2] is not None:
                    kwargs["pooled_prompt_embeds"] = torch.cat([e[2] for e in embs])
                    if cfg:
                        kwargs["negative_pooled_prompt_embeds"] = torch.cat([e[3] for e in embs])
            else:
                kwargs["prompt"] = [p.request.prompt for p in plans]
                if cfg:
                    kwargs["negative_prompt"] = [p.request.negative_prompt for p in plans]
            kwargs["generator"] = [torch.Generator("cpu").manual_seed(int(p.request.seed)) for p in plans]
            packshots = None
            if first.mode == "img2img":
                assert first.request.init_image is not None
                init = _cover(first.request.init_image, first.width, first.height)
                kwargs["image"] = [init] * len(plans)
                kwargs["strength"] = first.strength
            elif first.mode == "inpaint":
                packshots = [_packshot(_required(p.request.product_image), p.width, p.height, p.request.focal,
                                       p.request.palette) for p in plans]
                kwargs["image"] = [ps.init for ps in packshots]
                kwargs["mask_image"] = [ps.mask for ps in packshots]
                kwargs["strength"] = first.strength
            counted = {"n": 0}

            def on_step(pipe_, step, timestep, cb_kwargs):
                counted["n"] = step + 1
                if progress:
                    n = getattr(pipe_, "num_timesteps", None) or expected
                    if n != expected:
                        state["total"] += n - expected
                        expected_local = n
                    else:
                        expected_local = expected
                    progress(base_done + min(step + 1, expected_local), state["total"])
                return cb_kwargs

            if progress:
                kwargs["callback_on_step_end"] = on_step
            if first.mode == "img2img":
                kwargs.pop("width"), kwargs.pop("height")  # img2img takes the init image's size
            exact = self.exact_batches if self.exact_batches is not None else device == "cpu"
            size_key = (first.mode, first.width, first.height)
            first_of_size = self.compile and size_key not in self._compiled_sizes
            images = self._call(pipe, kwargs, len(plans), cfg, exact, device, first, warn_list)
            if first_of_size:  # this call compiled the graphs for this size (and made its images)
                self._compiled_sizes.add(size_key)
                self.compile_seconds += time.perf_counter() - t0
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _model_error(exc, f"generating with {self.ref.name} failed", device,
                               f"{first.width}×{first.height}, batch of {len(plans)}") from None
        seconds = time.perf_counter() - t0
        out = []
        for k, (p, img) in enumerate(zip(plans, images)):
            img = img.convert("RGB")
            if img.size != (p.width, p.height):
                img = img.resize((p.width, p.height))
            focal = p.request.focal or (0.5, 0.5)
            extra: dict[str, Any] = {}
            if packshots is not None:
                ps = packshots[k]
                img.paste(ps.product.convert("RGB"), ps.box[:2], ps.product.getchannel("A"))
                focal = ((ps.box[0] + ps.box[2]) / 2 / p.width, (ps.box[1] + ps.box[3]) / 2 / p.height)
                extra["product_box"] = list(ps.box)
                extra["product_scale"] = ps.scale
            params = self._params(p, steps, warn_list[k], dtype, device, extra)
            out.append(GeneratedImage(image=img, focal=focal, params=params, compute_seconds=seconds / len(plans)))
        return out, max(counted["n"], expected)

    def _accelerated(self, device: str) -> bool:
        return self.compile or (device == "cpu" and self.cpu_kernels and not self._eager)

    def _call(self, pipe, kwargs: dict, images: int, cfg: bool, exact: bool, device: str, first: _Plan,
              warn_list: dict[int, list[str]]):
        """The pipeline call; when the accelerated path (``compile``, the CPU kernels) fails, one
        clear warning and the same batch again on diffusers' own eager path, which then serves
        the rest of the run (a campaign never stops half-way for a speed-up that does not work)."""
        import torch

        from . import cpu_kernels

        fallbacks = cpu_kernels.stats["fallbacks"]
        seeds = [g.initial_seed() for g in kwargs["generator"]]
        try:
            with torch.inference_mode(), _per_image(pipe, images, cfg, enabled=exact and images > 1):
                out = pipe(**kwargs).images
        except Exception as exc:  # noqa: BLE001
            oom = isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()
            if oom or not self._accelerated(device):
                raise
            what = "compile: true" if self.compile else "the CPU kernels"
            msg = (f"{what} failed at {first.width}×{first.height} ({type(exc).__name__}: "
                   f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); the rest of the run uses the eager "
                   "stock path (same images within float rounding, slower)")
            self.log(msg)
            self._to_eager()
            for k in warn_list:
                warn_list[k] = [*warn_list[k], msg]
            # the failed call drew noise from the generators: the same seeds again for the same images
            kwargs["generator"] = [torch.Generator("cpu").manual_seed(s) for s in seeds]
            with torch.inference_mode(), _per_image(pipe, images, cfg, enabled=exact and images > 1):
                out = pipe(**kwargs).images
        if cpu_kernels.stats["fallbacks"] > fallbacks:
            self.log(f"{cpu_kernels.stats['fallbacks'] - fallbacks} convolution(s) oneDNN could not run packed at "
                     f"{first.width}×{first.height} run on stock kernels (same images within float rounding)")
        return out

    def _to_eager(self) -> None:
        """Undo ``compile`` and the CPU kernels on every loaded pipeline (they share modules)."""
        import torch
        from diffusers.models.attention_processor import AttnProcessor2_0

        from . import cpu_kernels

        self.compile, self._eager = False, True
        for pipe in self._pipes.values():
            for comp in ("unet", "vae"):
                module = getattr(pipe, comp, None)
                if module is None:
                    continue
                for owner in (module, getattr(module, "decoder", None)):
                    if owner is not None:
                        owner.__dict__.pop("forward", None)  # the compiled forward, if any
                for m in module.modules():
                    if isinstance(m, cpu_kernels.PackedConv2d):
                        m.__dict__["_ak_stock"] = True
                        m.__dict__.pop("_ak_packed", None)
                        m.to(memory_format=torch.channels_last)  # stock kernels: NHWC weights (see load)
                procs = getattr(module, "attn_processors", None)
                if procs and any(type(p).__name__ == "BlockedAttnProcessor" for p in procs.values()):
                    module.set_attn_processor(AttnProcessor2_0())

    def _params(self, p: _Plan, steps: int, warns: list[str], dtype: str, device: str, extra: dict) -> dict:
        fp = self.fingerprint()
        r = p.request
        cfg = self.guidance
        negative = r.negative_prompt if cfg > 1.0 else ""
        model_hash = (fp["weights_sha256"] if self.ref.kind == "single_file" else fp["weights_sha256"])[:10]
        text = f"{r.prompt}\nNegative prompt: {negative}\n" if negative else f"{r.prompt}\n"
        fields = [f"Steps: {steps}", f"Sampler: {fp['sampler']}", f"CFG scale: {_num(cfg)}", f"Seed: {r.seed}",
                  f"Size: {p.width}x{p.height}", f"Model hash: {model_hash}", f"Model: {self.ref.name}"]
        if p.strength is not None:
            fields.append(f"Denoising strength: {_num(p.strength)}")
        if self.lora:
            fields.append(f'Lora hashes: "{self.lora.stem}: {fp["lora"][:12]}"')
        if self.tiny_vae:
            fields.append(f"VAE: {self.tiny_vae.name}")
        text += ", ".join(fields)
        return {
            "parameters_text": text, "prompt": r.prompt, "negative_prompt": negative, "steps": steps,
            "sampler": fp["sampler"], "scheduler": fp["scheduler"], "cfg": cfg, "seed": r.seed,
            "size": [p.width, p.height], "mode": p.mode, "strength": p.strength, "model": self.ref.name,
            "model_path": str(self.ref.path), "weights_sha256": fp["weights_sha256"],
            "pipeline": self.pipeline_class, "family": self.family, "preset": self.preset, "dtype": dtype,
            "device": device, "lora": str(self.lora) if self.lora else None,
            "lora_weight": self.lora_weight if self.lora else None,
            "tiny_vae": str(self.tiny_vae) if self.tiny_vae else None, "warnings": warns, **extra,
        }


def _token_room(tok) -> int:
    """Tokens of text one pass of a CLIP text encoder reads (its window less start and end)."""
    limit = int(getattr(tok, "model_max_length", 77) or 77)
    return (77 if limit > 10_000 else limit) - 2


def _chunk_ids(tok, text: str, chunks: int) -> tuple:
    """``text`` as ``chunks`` rows of ``[start] + 75 tokens + [end]`` padded to the window, and
    their attention masks: the way the tokenizer pads one short prompt (one chunk equals the
    input diffusers gives the text encoder)."""
    import torch

    room = _token_room(tok)
    ids = tok(text, truncation=False, add_special_tokens=False)["input_ids"]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rows, masks = [], []
    for c in range(chunks):
        row = [tok.bos_token_id, *ids[c * room:(c + 1) * room], tok.eos_token_id]
        masks.append([1] * len(row) + [0] * (room + 2 - len(row)))
        rows.append(row + [pad] * (room + 2 - len(row)))
    return torch.tensor(rows, dtype=torch.long), torch.tensor(masks, dtype=torch.long)


def _take(obj, idx, n: int):
    """Rows ``idx`` of every tensor in ``obj`` whose first dimension is the batch ``n``."""
    import torch

    if torch.is_tensor(obj):
        return obj[idx] if obj.dim() > 0 and obj.shape[0] == n else obj
    if isinstance(obj, dict):
        return {k: _take(v, idx, n) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not isinstance(obj, str):
        return type(obj)(_take(v, idx, n) for v in obj)
    return obj


def _split_call(fn, images: int, rows_of):
    """Wrap ``fn(x, ...)`` so each image's rows go through ``fn`` alone; outputs reassembled in order."""
    import torch

    def call(x, *args, **kwargs):
        n = x.shape[0]
        if n % images:
            return fn(x, *args, **kwargs)
        per = n // images
        outs, order = [], []
        for i in range(images):
            idx = torch.tensor(rows_of(i, images, per))
            out = fn(x[idx], *_take(args, idx, n), **_take(kwargs, idx, n))
            outs.append(out)
            order.extend(idx.tolist())
        inverse = torch.empty(n, dtype=torch.long)
        inverse[torch.tensor(order)] = torch.arange(n)
        first = outs[0]
        if isinstance(first, tuple):
            return (torch.cat([o[0] for o in outs])[inverse],) + tuple(first[1:])
        if hasattr(first, "sample"):
            return type(first)(sample=torch.cat([o.sample for o in outs])[inverse])
        return torch.cat(outs)[inverse]

    return call


class _per_image:
    """While active, the pipe's UNet and VAE decoder see one image (and its CFG pair) at a time."""

    def __init__(self, pipe, images: int, cfg: bool, enabled: bool):
        self.pipe, self.images, self.enabled = pipe, images, enabled
        self.cfg = cfg
        self.patched: list[tuple[Any, str]] = []

    def __enter__(self):
        if not self.enabled:
            return self
        # CFG batches are [uncond × B, cond × B]: image i owns rows i and B + i
        def rows(i: int, b: int, per: int) -> list[int]:
            return [i + k * b for k in range(per)]

        for owner, attr in ((getattr(self.pipe, "unet", None), "forward"), (getattr(self.pipe, "vae", None), "decode")):
            if owner is not None:
                before = owner.__dict__.get(attr, _MISSING)  # e.g. a compiled forward: put back on exit
                setattr(owner, attr, _split_call(getattr(owner, attr), self.images, rows))
                self.patched.append((owner, attr, before))
        return self

    def __exit__(self, *exc):
        for owner, attr, before in self.patched:
            try:
                if before is _MISSING:
                    delattr(owner, attr)
                else:
                    setattr(owner, attr, before)
            except AttributeError:  # pragma: no cover
                pass
        return False


_MISSING = object()


def compile_cache_dir(value: str | None = None) -> Path:
    """Where ``torch.compile``'s kernels are kept between runs: ``value`` (the generator's
    ``compile_cache``), else ``$ASSETKIT_COMPILE_CACHE``, else ``$XDG_CACHE_HOME/assetkit/torch-compile``
    (``~/.cache/...``). A compile then costs its minutes once per model, size and machine."""
    chosen = value or os.environ.get("ASSETKIT_COMPILE_CACHE")
    if chosen:
        return Path(os.path.expanduser(chosen))
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assetkit" / "torch-compile"


def use_compile_cache(folder: Path) -> str | None:
    """Point inductor's on-disk caches at ``folder`` (made if missing); a reason string when the
    folder cannot be used (not a folder, not writable), else None."""
    import tempfile

    try:
        if folder.is_symlink():  # compiled kernels are code the run loads: no redirection
            return f"the compile cache {folder} is a symbolic link (give the folder itself)"
        if folder.exists() and not folder.is_dir():
            return f"the compile cache {folder} is not a folder"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as exc:
        return f"the compile cache {folder} is not writable ({exc.strerror or exc})"
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    return None


def _compile_pipe(pipe, device: str) -> None:
    """``torch.compile`` the UNet's forward and the VAE decoder's forward in place (lazy: the
    first call of each shape compiles). On CPU inductor freezes the weights into the graph, so
    oneDNN can pre-pack them; the pipeline must then run under ``inference_mode``/``no_grad``."""
    import torch

    if device == "cpu":
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
    unet = getattr(pipe, "unet", None)
    if unet is not None:
        unet.forward = torch.compile(unet.forward)
    decoder = getattr(getattr(pipe, "vae", None), "decoder", None)
    if decoder is not None:
        decoder.forward = torch.compile(decoder.forward)


def _num(x: float) -> str:
    return f"{x:g}"


def _folder_hash(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(folder).as_posix()}:{file_sha256(f)}\n".encode())
    return h.hexdigest()


def _model_error(exc: BaseException, what: str, device: str, detail: str = "") -> ModelError:
    text = f"{type(exc).__name__}: {exc}"
    oom = isinstance(exc, MemoryError) or "out of memory" in str(exc).lower() or "OutOfMemory" in type(exc).__name__
    if oom:
        return ModelError(f"{what}: out of memory on {device}" + (f" ({detail})" if detail else "") +
                          "\n  hint: lower batch_size, use preset: fast or dtype: float16, a smaller size, "
                          "or device: cpu")
    first = text.splitlines()[0][:400]
    return ModelError(f"{what}: {first}\n  hint: check that the model folder is complete and is a Stable Diffusion "
                      "family pipeline diffusers supports (`assetkit models check MODEL` shows the details)")


def _cover(path: Path, width: int, height: int):
    """The image scaled to cover width×height and centre-cropped (a concept reference image)."""
    from PIL import Image, ImageOps

    from ..files import load_image

    rgb = ImageOps.exif_transpose(load_image(path, mode=None)).convert("RGB")  # re-checked now, as validated
    return ImageOps.fit(rgb, (width, height), Image.Resampling.LANCZOS)


def _required(path: Path | None) -> Path:
    if path is None:  # pragma: no cover - planning gives every inpaint job a product image
        raise ModelError("an inpainting job has no product image")
    return path


@dataclass
class _Packshot:
    init: Any  # RGB image: product over a flat background
    mask: Any  # L image: 255 where the model paints (background), 0 on the product
    product: Any  # RGBA product as placed (pixels pasted back exactly after generation)
    box: tuple[int, int, int, int]
    scale: float


def _packshot(path: Path, width: int, height: int, focal, palette: dict[str, str]) -> _Packshot:
    """The inpainting inputs of a packshot: the product placed as every backend places it
    (:func:`~.base.place_product`) over the palette's background, and the mask around it."""
    from PIL import Image

    placed = place_product(path, width, height, focal)
    prod, (x, y) = placed.image, placed.box[:2]
    bg = palette.get("background", "#808080") if palette else "#808080"
    init = Image.new("RGB", (width, height), bg)
    init.paste(prod, (x, y), prod)
    mask = Image.new("L", (width, height), 255)
    mask.paste(Image.eval(prod.getchannel("A"), lambda a: 255 - a), (x, y))
    return _Packshot(init, mask, prod, placed.box, placed.scale)


# ------------------------------------------------------------------------------------- checking
def check_model(model: str, config: str | None = None, **options) -> dict:
    """Load a model and make one tiny image: load time, time per step, pipeline, device, dtype."""
    notes: list[str] = []  # what loading said (e.g. the weights cache written): part of the report
    gen = DiffusersGenerator(model=model, config=config, log=notes.append, **options)
    t0 = time.perf_counter()
    gen.load()
    load_s = time.perf_counter() - t0
    w, h = gen.native_size("square")
    m = 8 * gen.vae_scale_factor
    side = max(m, _round_to(w / 4, m))
    stamps: list[float] = []
    req = GenerationRequest(concept="check", variant=0, prompt="a product photo", negative_prompt="", width=side,
                            height=side, seed=0, palette={})
    t1 = time.perf_counter()
    img = gen.generate([req], progress=lambda done, total: stamps.append(time.perf_counter()))[0]
    total_s = time.perf_counter() - t1
    step_times = [b - a for a, b in zip([t1] + stamps[:-1], stamps[:-1])] if len(stamps) > 1 else [total_s]
    device, dtype = gen.resolved_device()
    info = {"model": gen.ref.name, "path": str(gen.ref.path), "pipeline": gen.pipeline_class, "family": gen.family,
            "device": device, "dtype": dtype, "load_seconds": round(load_s, 3), "size": [side, side],
            "steps": img.params["steps"], "seconds_per_step": round(sum(step_times) / len(step_times), 4),
            "image_seconds": round(total_s, 3), "sampler": img.params["sampler"],
            "native_sizes": {a: list(gen.native_size(a)) for a in ("square", "portrait", "landscape")},
            "notes": notes}
    gen.close()
    return info
