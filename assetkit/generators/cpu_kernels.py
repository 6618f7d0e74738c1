"""Faster CPU inference for diffusers models, with no compile step.

Two changes, applied in place to a loaded UNet / VAE by :func:`accelerate`:

* **Pre-packed oneDNN weights.** An ``nn.Conv2d`` call in eager PyTorch reorders its weight into
  oneDNN's blocked layout on every call; for the wide convolutions of a UNet's low-resolution
  blocks (1280×2560×3×3 at 8×8 px) that reorder costs more than the arithmetic (30 ms vs 8 ms
  per call here). Packed once per input shape and reused: in bf16 the result is bit-identical
  (the same oneDNN kernel; in fp32 stock PyTorch runs small convolutions elsewhere, so float
  rounding may differ), and a ReLU that follows a convolution is fused into it. This is what
  inductor's weight freezing does, without the minute of ``torch.compile``.
* **Chunked self-attention in bf16.** PyTorch's CPU flash-attention kernel runs bf16 at
  fp32 speed (≈150 GFLOPS on this machine's AVX-512 BF16 cores, where bf16 GEMMs reach
  ≈420). For long self-attention (≥ 256 tokens) the scores are computed a block of queries at
  a time with bf16 GEMMs (the block stays in cache), softmax in fp32 internally; only the
  rounding of the scores to bf16 differs from the flash kernel (UNet output within 1.3 % of
  fp32 either way). Cross-attention, masks and other dtypes keep diffusers' own processor.

And one allocator setting, :func:`keep_freed_memory`: glibc maps every block over 32 MiB fresh
from the OS and unmaps it on free, so each 512 px activation of a decoder costs page faults
on every image (TAESD decode in a pipeline: 0.45 → 0.34 s).

SD-Turbo UNet at 512 px, bf16, 2 cores: 2.9 s → 2.4 s per step (``bench/diffusion.py``).
Importing this module imports torch; the diffusers backend imports it only when loading.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

#: the attention query block: about this many score elements (bf16) per GEMM
_SCORES_PER_BLOCK = 5 * 128 * 4096
#: below this many keys the flash kernel is as fast (and cross-attention has 77)
_MIN_KEYS = 256


def available() -> bool:
    """oneDNN (mkldnn) with the pointwise convolution that packing needs is in this torch build."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


#: packed weights kept per convolution, one per input shape (least recently used dropped first):
#: a campaign's three master sizes each keep theirs, so changing size does not re-pack. Each
#: entry is a copy of the weight in the model's dtype (SD-Turbo's UNet: ≈ 0.9 GB per shape in bf16;
#: :func:`packed_bytes` counts them)
PACKED_SHAPES = 3
#: how many times a weight was packed, and how many modules fell back to stock kernels (all
#: modules, this process): the generator, tests and benches read it
stats = {"packs": 0, "fallbacks": 0}


class PackedConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` whose weight is handed to oneDNN pre-packed (see the module docstring).

    Instances are ordinary ``Conv2d`` modules whose class was swapped by :func:`accelerate`. The
    packed copies are kept per input shape (at most :data:`PACKED_SHAPES`, least recently used
    dropped first) and all dropped when the weight changes (``_version``/storage, e.g. a fused LoRA).
    """

    _ak_post = "none"  # "relu" when the following ReLU was fused into this convolution
    _ak_dtypes: frozenset = frozenset()  # what oneDNN runs on this CPU; set by accelerate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if (x.device.type != "cpu" or x.dtype != self.weight.dtype or x.dtype not in self._ak_dtypes or x.dim() != 4
                or torch.is_grad_enabled() or "_ak_stock" in self.__dict__):
            y = super().forward(x)
            return torch.relu(y) if self._ak_post == "relu" else y
        w = self.weight
        ident = (w._version, w.data_ptr(), w.dtype)
        cache = self.__dict__.get("_ak_packed")
        if cache is None or cache[0] != ident:  # a new weight: every packed copy is stale
            cache = self.__dict__["_ak_packed"] = (ident, OrderedDict())
        shapes: OrderedDict = cache[1]
        shape = tuple(x.shape)
        weight = shapes.get(shape)
        if weight is None:
            # from a copy packed for another shape when there is one: a reorder between oneDNN
            # layouts is exact and 2-8x faster than packing the plain weight again (its
            # to_mkldnn copy and, for channels-last weights, a contiguous copy first)
            source = next(reversed(shapes.values())) if shapes else w.detach().to_mkldnn()
            try:
                weight = torch._C._nn.mkldnn_reorder_conv2d_weight(
                    source, list(self.padding), list(self.stride), list(self.dilation), self.groups, list(shape))
            except RuntimeError:  # a shape or build oneDNN cannot pack: this module stays stock
                return self._stock(x)
            stats["packs"] += 1
            shapes[shape] = weight
            while len(shapes) > max(1, PACKED_SHAPES):
                shapes.popitem(last=False)
        else:
            shapes.move_to_end(shape)
        try:
            return torch.ops.mkldnn._convolution_pointwise(
                x, weight, self.bias, list(self.padding), list(self.stride), list(self.dilation), self.groups,
                self._ak_post, [], "")
        except RuntimeError:  # oneDNN refuses this input at run time: stock from now on
            return self._stock(x)

    def _stock(self, x: torch.Tensor) -> torch.Tensor:
        self.__dict__["_ak_stock"] = True
        self.__dict__.pop("_ak_packed", None)
        stats["fallbacks"] += 1
        return self.forward(x)


def packed_bytes(module: nn.Module) -> int:
    """Bytes held by the packed weight copies of ``module``'s convolutions (all shapes)."""
    total = 0
    for m in module.modules():
        cache = m.__dict__.get("_ak_packed") if isinstance(m, PackedConv2d) else None
        if cache:
            total += sum(t.numel() * t.element_size() for t in cache[1].values())
    return total


@torch.library.custom_op("assetkit::blocked_attention", mutates_args=())
def blocked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """Softmax attention of ``q`` [B, N, H, D] over ``k``/``v`` [B, M, H, D] → [B, N, H·D].

    Queries go a block at a time, so each block's scores stay in cache; an opaque op to
    ``torch.compile`` (tracing the loop would add minutes of compile time).
    """
    b, n, h, d = q.shape
    m = k.shape[1]
    kt = k.permute(0, 2, 3, 1).contiguous()  # [B, H, D, M]
    vh = v.transpose(1, 2).contiguous()  # [B, H, M, D]
    out = torch.empty((b, n, h, d), dtype=q.dtype, device=q.device)
    step = max(32, min(n, _SCORES_PER_BLOCK // max(1, h * m) // 32 * 32))
    for i in range(b):
        for s in range(0, n, step):
            qs = (q[i, s:s + step] * scale).transpose(0, 1)  # [H, n_s, D]
            scores = torch.matmul(qs, kt[i])
            out[i, s:s + step].copy_(torch.matmul(torch.softmax(scores, dim=-1), vh[i]).transpose(0, 1))
    return out.view(b, n, h * d)


@blocked_attention.register_fake
def _(q, k, v, scale):
    b, n, h, d = q.shape
    return q.new_empty((b, n, h * d))


def _attn_processor_class():
    from diffusers.models.attention_processor import AttnProcessor2_0

    class BlockedAttnProcessor(AttnProcessor2_0):
        """diffusers' SDPA processor, except plain bf16 self-attention over ≥ 256 tokens on CPU."""

        def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                     *args, **kwargs):
            if (encoder_hidden_states is not None or attention_mask is not None or args or kwargs
                    or hidden_states.ndim != 3 or hidden_states.shape[1] < _MIN_KEYS
                    or hidden_states.dtype != torch.bfloat16 or hidden_states.device.type != "cpu"
                    or attn.spatial_norm is not None or attn.group_norm is not None or attn.norm_q is not None
                    or attn.norm_k is not None or attn.residual_connection or attn.rescale_output_factor != 1.0):
                return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb,
                                        *args, **kwargs)
            b, n, _ = hidden_states.shape
            q, k, v = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
            d = k.shape[-1] // attn.heads
            out = blocked_attention(q.view(b, n, attn.heads, d), k.view(b, n, attn.heads, d),
                                    v.view(b, n, attn.heads, d), d ** -0.5)  # SDPA's default scale
            return attn.to_out[1](attn.to_out[0](out))

    return BlockedAttnProcessor


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep large freed blocks for reuse instead of returning them to the OS
    (mmap threshold and trim threshold raised to 1 GiB). Process-wide; a no-op off glibc."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


def accelerate(module: nn.Module, *, pack: bool = True, attention: bool = True) -> dict[str, int]:
    """Pre-pack ``module``'s convolutions (ReLU fused where one follows) and give its diffusers
    ``Attention`` blocks the blocked processor. Returns how many of each were changed."""
    counts = {"conv": 0, "attention": 0}
    if pack and available():
        PackedConv2d._ak_dtypes = frozenset(
            [torch.float32] + ([torch.bfloat16] if torch.ops.mkldnn._is_mkldnn_bf16_supported() else []))
        for parent in module.modules():
            children = list(parent.named_children())
            for i, (_name, child) in enumerate(children):
                if type(child) is nn.Conv2d and child.padding_mode == "zeros" and not isinstance(child.padding, str):
                    child.__class__ = PackedConv2d
                    counts["conv"] += 1
                    nxt = children[i + 1][1] if i + 1 < len(children) else None
                    if isinstance(parent, nn.Sequential) and type(nxt) is nn.ReLU:
                        child._ak_post = "relu"
                        setattr(parent, children[i + 1][0], nn.Identity())
    if attention and hasattr(module, "set_attn_processor") and hasattr(module, "attn_processors"):
        from diffusers.models.attention_processor import AttnProcessor2_0

        procs = module.attn_processors
        if procs and all(type(p) is AttnProcessor2_0 for p in procs.values()):  # leave custom processors alone
            module.set_attn_processor(_attn_processor_class()())
            counts["attention"] = len(procs)
    return counts
