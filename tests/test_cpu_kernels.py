"""The CPU kernels of the diffusers backend: pre-packed convolutions and blocked attention."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from assetkit.generators import cpu_kernels  # noqa: E402
from assetkit.generators.cpu_kernels import PackedConv2d, accelerate, blocked_attention  # noqa: E402

pytestmark = pytest.mark.skipif(not cpu_kernels.available(), reason="torch built without oneDNN")
BF16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
DTYPES = [torch.float32] + ([torch.bfloat16] if BF16 else [])


def packed_copy(conv: nn.Conv2d) -> nn.Conv2d:
    import copy

    seq = nn.Sequential(copy.deepcopy(conv))
    accelerate(seq)
    assert type(seq[0]) is PackedConv2d
    return seq[0]


def same(a, b, dtype) -> bool:
    """bf16 convolutions always run on oneDNN: packing is bit-identical. In fp32 stock PyTorch
    sends small convolutions to other kernels, so only float rounding may differ."""
    return torch.equal(a, b) if dtype == torch.bfloat16 else torch.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cin,cout,k,stride,pad,groups,bias", [
    (8, 16, 3, 1, 1, 1, True), (16, 8, 1, 1, 0, 1, True), (8, 8, 3, 2, 1, 1, False), (8, 16, 3, 1, 1, 4, True),
    (4, 32, 3, 1, 1, 1, True)])
def test_packed_convolution_is_bit_identical(dtype, cin, cout, k, stride, pad, groups, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, groups=groups, bias=bias).to(dtype).eval()
    packed = packed_copy(conv)
    for shape in ((1, cin, 17, 23), (2, cin, 32, 32), (1, cin, 17, 23)):  # a new shape repacks, and back
        x = torch.randn(shape).to(dtype).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            assert same(packed(x), conv(x), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups", [1, 4])
def test_a_new_shape_is_packed_from_the_copy_of_another_shape_with_the_same_result(monkeypatch, dtype, groups):
    """The second shape's weight is reordered from the first shape's packed copy (no plain
    to_mkldnn copy again), and it is the same weight: outputs equal a fresh pack's bit for bit."""
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1, groups=groups).to(dtype).eval()
    sources = []
    reorder = torch._C._nn.mkldnn_reorder_conv2d_weight

    def spy(src, *args):
        sources.append(src)
        return reorder(src, *args)

    monkeypatch.setattr(torch._C._nn, "mkldnn_reorder_conv2d_weight", spy)
    chained, fresh = packed_copy(conv), packed_copy(conv)
    a, b = (torch.randn(s).to(dtype).contiguous(memory_format=torch.channels_last)
            for s in ((1, 8, 16, 16), (1, 8, 12, 20)))
    with torch.inference_mode():
        chained(a)
        first = chained.__dict__["_ak_packed"][1][tuple(a.shape)]
        out = chained(b)
        assert sources[-1] is first  # packed from the other shape's copy
        assert torch.equal(out, fresh(b)) and sources[-1] is not first  # fresh: from the plain weight
        assert same(out, conv(b), dtype)


def test_a_changed_weight_is_repacked():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 8, 3, padding=1).eval()
    packed = packed_copy(conv)
    x = torch.randn(1, 8, 16, 16)
    with torch.no_grad():
        first = packed(x)
        packed.weight.mul_(2)  # in place (fuse_lora does this): the packed copy is stale
        conv.weight.mul_(2)
        assert same(packed(x), conv(x), x.dtype) and not same(packed(x), first, x.dtype)
        packed.weight.data = conv.weight.data * 0.5  # a new storage
        assert same(packed(x), nn.functional.conv2d(x, conv.weight * 0.5, conv.bias, padding=1), x.dtype)


def test_relu_after_a_convolution_is_fused_with_the_same_result():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)).eval()
    x = torch.randn(1, 4, 20, 20)
    with torch.no_grad():
        ref = seq(x)
        assert accelerate(seq)["conv"] == 2
        assert isinstance(seq[1], nn.Identity) and seq[0]._ak_post == "relu" and seq[2]._ak_post == "none"
        fused = seq(x)
        assert same(fused, ref, x.dtype) and seq[0](x).min() == 0  # the ReLU runs inside the conv
    with torch.enable_grad():  # training falls back to the stock path, ReLU included
        assert torch.equal(seq(x).detach(), ref)


def test_a_convolution_onednn_cannot_pack_stays_stock(monkeypatch):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU()).eval()
    x = torch.randn(1, 4, 12, 12)
    with torch.no_grad():
        ref = seq(x)
        accelerate(seq)

        def refuse(*a, **kw):
            raise RuntimeError("mkldnn: unsupported")

        monkeypatch.setattr(torch._C._nn, "mkldnn_reorder_conv2d_weight", refuse)
        assert torch.equal(seq(x), ref)  # stock path, the fused ReLU still applied
        assert "_ak_stock" in seq[0].__dict__ and torch.equal(seq(x), ref)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5)] + ([(torch.bfloat16, 2e-2)] if BF16 else []))
@pytest.mark.parametrize("b,n,h,d", [(1, 300, 2, 16), (2, 1024, 5, 64), (1, 4096, 1, 8)])
def test_blocked_attention_matches_sdpa(dtype, tol, b, n, h, d):
    torch.manual_seed(0)
    q, k, v = (torch.randn(b, n, h, d).to(dtype) for _ in range(3))
    ref = nn.functional.scaled_dot_product_attention(*(t.transpose(1, 2).float() for t in (q, k, v)))
    ref = ref.transpose(1, 2).reshape(b, n, h * d)
    out = blocked_attention(q, k, v, d ** -0.5)
    assert out.shape == (b, n, h * d) and out.dtype == dtype
    assert (out.float() - ref).abs().max().item() < tol


def test_blocked_attention_is_one_opaque_op_for_torch_compile():
    def f(q, k, v):
        return blocked_attention(q, k, v, 0.25) * 2

    q = torch.randn(1, 300, 2, 16)
    out = torch.compile(f, backend="eager", fullgraph=True)(q, q, q)  # fullgraph: no graph break
    assert torch.allclose(out, f(q, q, q))


def tiny_unet(dtype):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=32).to(dtype).eval()


@pytest.mark.parametrize("dtype", DTYPES)
def test_accelerated_unet_matches_the_stock_one(dtype):
    unet = tiny_unet(dtype)
    x, emb = torch.randn(1, 4, 32, 32).to(dtype), torch.randn(1, 77, 32).to(dtype)
    with torch.inference_mode():
        ref = unet(x, 10, emb).sample
        counts = accelerate(unet)
        out = unet(x, 10, emb).sample
    assert counts["conv"] > 10 and counts["attention"] == 8  # 4 transformer blocks (1 down, mid, 2 up) × 2
    procs = {type(p).__name__ for p in unet.attn_processors.values()}
    assert procs == {"BlockedAttnProcessor"}
    if dtype == torch.float32:  # fp32 attention keeps the SDPA path; packing moves float rounding only
        assert torch.allclose(out, ref, rtol=1e-4, atol=1e-4)
    else:  # bf16 self-attention over 1024 tokens goes blocked: within bf16 rounding
        rel = ((out.float() - ref.float()).norm() / ref.float().norm()).item()
        assert 0 < rel < 0.02


def test_custom_attention_processors_are_left_alone():
    from diffusers.models.attention_processor import AttnProcessor

    unet = tiny_unet(torch.float32)
    unet.set_attn_processor(AttnProcessor())
    assert accelerate(unet)["attention"] == 0
    assert {type(p) for p in unet.attn_processors.values()} == {AttnProcessor}


def test_generator_uses_the_kernels_only_on_cpu_and_records_them(tmp_path):
    from tinymodels import build_tiny_sd

    from assetkit.generators import GenerationRequest, get_generator

    model = build_tiny_sd(tmp_path / "sd")
    r = GenerationRequest(concept="c", variant=1, prompt="a cup", negative_prompt="", width=64, height=64, seed=3,
                          palette={})
    opts = dict(model=str(model), steps=1, device="cpu")
    on = get_generator("diffusers", dtype="float32", **opts)
    off = get_generator("diffusers", dtype="float32", cpu_kernels=False, **opts)
    a, b = on.generate([r])[0], off.generate([r])[0]
    diff = np.abs(np.asarray(a.image, np.int16) - np.asarray(b.image, np.int16))
    assert diff.max() <= 1  # fp32: float rounding at most
    assert np.array_equal(np.asarray(on.generate([r])[0].image), np.asarray(a.image))  # and deterministic
    assert any(type(m) is PackedConv2d for m in on.load().unet.modules())
    assert not any(type(m) is PackedConv2d for m in off.load().unet.modules())
    assert on.fingerprint()["cpu_kernels"] == "cpu-1" and off.fingerprint()["cpu_kernels"] is False
    # weights: a packed convolution keeps its plain layout (it is packed from it), every stock one is NHWC
    for gen, packed in ((on, True), (off, False)):
        convs = [m for m in gen.load().unet.modules() if isinstance(m, nn.Conv2d)]
        assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) != packed for m in convs
                             if m.weight.shape[-2:] != (1, 1))  # a 1×1 kernel is both layouts at once


def test_huge_pages_are_asked_for_where_linux_has_them(monkeypatch, tmp_path):
    from assetkit.generators import diffusers as backend

    mode = tmp_path / "enabled"
    monkeypatch.setattr(backend, "Path", lambda p: mode if "transparent_hugepage" in str(p) else Path(p))
    monkeypatch.setattr(backend.sys, "platform", "linux")
    for text, env, want in (("always [madvise] never", None, True), ("always madvise [never]", None, False),
                            ("[always] madvise never", "0", False), (None, None, False)):
        monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
        if env is not None:
            monkeypatch.setenv("THP_MEM_ALLOC_ENABLE", env)
        if text is None:
            mode.unlink(missing_ok=True)  # no THP in this kernel
        else:
            mode.write_text(text + "\n")
        assert backend.use_huge_pages() is want
        assert os.environ.get("THP_MEM_ALLOC_ENABLE") == ("1" if want else env)
    monkeypatch.setattr(backend.sys, "platform", "darwin")
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    assert backend.use_huge_pages() is False and "THP_MEM_ALLOC_ENABLE" not in os.environ


def test_packed_weights_are_kept_per_input_shape_and_reused(monkeypatch):
    monkeypatch.setattr(cpu_kernels, "PACKED_SHAPES", 3)
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)).eval()
    ref = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)).eval()
    ref.load_state_dict(seq.state_dict())
    accelerate(seq)
    shapes = [(1, 4, 16, 16), (1, 4, 12, 20), (1, 4, 20, 12)]  # a campaign's three master sizes
    xs = {s: torch.randn(s) for s in shapes}
    with torch.inference_mode():
        before = cpu_kernels.stats["packs"]
        for s in shapes * 3:  # sizes interleaved, three rounds
            assert same(seq(xs[s]), ref(xs[s]), torch.float32)
        assert cpu_kernels.stats["packs"] - before == 2 * 3  # two convolutions × three shapes, packed once each
        assert len(seq[0].__dict__["_ak_packed"][1]) == 3
        assert cpu_kernels.packed_bytes(seq) >= 3 * sum(m.weight.numel() * 4 for m in (seq[0], seq[2]))
        seq(torch.randn(1, 4, 8, 8))  # a fourth shape: the least recently used one is dropped
        assert list(seq[0].__dict__["_ak_packed"][1]) == [shapes[1], shapes[2], (1, 4, 8, 8)]
        before = cpu_kernels.stats["packs"]
        seq(xs[shapes[2]])
        assert cpu_kernels.stats["packs"] == before
        seq[0].weight.mul_(2)  # a changed weight drops every shape's copy of it
        seq(xs[shapes[2]])
        assert cpu_kernels.stats["packs"] == before + 1 and len(seq[0].__dict__["_ak_packed"][1]) == 1
