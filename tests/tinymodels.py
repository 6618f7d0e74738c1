"""Tiny random-weight diffusion models for tests: built in seconds, never downloaded.

``build_tiny_sd(dir)`` saves a Stable-Diffusion-shaped pipeline (~8 MB, 64 px native) the
diffusers backend loads like any real model folder; ``build_tiny_sdxl`` does the same with two
text encoders; ``build_tiny_taesd`` an AutoencoderTiny; ``build_tiny_lora`` a style LoRA file.
"""
from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tiny_tokenizer(model_max_length: int = 77):
    """A CLIP BPE tokenizer over single bytes (+ a few merges): every text tokenises."""
    from transformers import CLIPTokenizer

    chars = _bytes_to_unicode()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    merges = []
    for a, b in [("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("i", "n"), ("o", "n</w>")]:
        merges.append((a, b))
        vocab.setdefault(a + b, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def _text_encoder(seed: int, projection: bool = False, hidden: int = 32):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    cfg = CLIPTextConfig(hidden_size=hidden, intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
                         vocab_size=1000, projection_dim=32, bos_token_id=0, eos_token_id=1, pad_token_id=1,
                         max_position_embeddings=77)
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(cfg).eval()


def _vae(seed: int):
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                         down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                         latent_channels=4, sample_size=64)


def build_tiny_sd(path: str | Path, seed: int = 0, name_or_path: str = "tiny-sd") -> Path:
    """Save a tiny SD-1.x-shaped pipeline (model_index.json + safetensors) to ``path``."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel

    path = Path(path)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=32)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, scheduler=scheduler, vae=_vae(seed), text_encoder=_text_encoder(seed),
                                   tokenizer=tiny_tokenizer(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(path, safe_serialization=True)
    return path


def build_tiny_sdxl(path: str | Path, seed: int = 0) -> Path:
    """Save a tiny SDXL-shaped pipeline (two text encoders, text_time conditioning)."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    path = Path(path)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
                                use_linear_projection=True, addition_embed_type="text_time",
                                addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
                                projection_class_embeddings_input_dim=80, cross_attention_dim=64, norm_num_groups=32)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="leading", steps_offset=1)
    pipe = StableDiffusionXLPipeline(unet=unet, scheduler=scheduler, vae=_vae(seed),
                                     text_encoder=_text_encoder(seed), tokenizer=tiny_tokenizer(),
                                     text_encoder_2=_text_encoder(seed + 1, projection=True),
                                     tokenizer_2=tiny_tokenizer())
    pipe.save_pretrained(path, safe_serialization=True)
    return path


def build_tiny_taesd(path: str | Path, seed: int = 0) -> Path:
    """Save a tiny AutoencoderTiny (TAESD-shaped, fewer channels) to ``path``."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    vae = AutoencoderTiny(encoder_block_out_channels=(16, 16), decoder_block_out_channels=(16, 16),
                          num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1), latent_channels=4)
    # two blocks → 2× upsampling, the tiny SD VAE's scale factor
    vae.save_pretrained(path, safe_serialization=True)
    return Path(path)


def build_tiny_lora(model_dir: str | Path, out_file: str | Path, seed: int = 1, rank: int = 4) -> Path:
    """Save a random (non-zero) UNet LoRA for the tiny SD pipeline as one safetensors file."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(Path(model_dir) / "unet")
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=True,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    out_file = Path(out_file)
    StableDiffusionPipeline.save_lora_weights(out_file.parent, unet_lora_layers=get_peft_model_state_dict(unet),
                                              weight_name=out_file.name, safe_serialization=True)
    return out_file


def layout_hf_cache(hub_dir: str | Path, repo_id: str, src: str | Path, revision: str = "0" * 40,
                    readme: str | None = None) -> Path:
    """Lay a model folder out as the real hub cache does: blobs, snapshots/<rev> symlinks, refs/main."""
    import hashlib
    import os
    import shutil

    hub_dir, src = Path(hub_dir), Path(src)
    root = hub_dir / ("models--" + repo_id.replace("/", "--"))
    snap = root / "snapshots" / revision
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(revision)
    files = [p for p in src.rglob("*") if p.is_file()]
    if readme is not None:
        (src / "README.md").write_text(readme)
        files.append(src / "README.md")
    for f in files:
        data = f.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        if not blob.exists():
            shutil.copyfile(f, blob)
        link = snap / f.relative_to(src)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    return snap


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data))
