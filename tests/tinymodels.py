"""Tiny random-weight diffusion models for tests: built in seconds, never downloaded.

``build_tiny_sd(dir)`` saves a Stable-Diffusion-shaped pipeline (~8 MB, 64 px native) the
diffusers backend loads like any real model folder; ``build_tiny_sdxl`` does the same with two
text encoders; ``build_tiny_taesd`` an AutoencoderTiny; ``build_tiny_lora`` a style LoRA file;
``save_original_layout`` writes a tiny SD folder as a single-file checkpoint in the original layout.
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
    write_card(path, "creativeml-openrail-m")  # SD 1.x's licence: the licence gate lets it make commercial work
    return path


def write_card(folder: Path, license: str) -> None:
    """A model card (README.md) with the licence in its front matter, as on the Hugging Face Hub."""
    card = f"---\nlicense: {license}\nlibrary_name: diffusers\n---\n# tiny test model\n"
    (Path(folder) / "README.md").write_text(card)


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
    write_card(path, "openrail++")  # SDXL's licence
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
        if src / "README.md" not in files:
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


def save_original_layout(model_dir: str | Path, out_file: str | Path) -> Path:
    """Write a diffusers SD-1.x folder as one ``.safetensors`` checkpoint in the original
    (CompVis/LDM) layout, as community checkpoints come: ``model.diffusion_model.*``,
    ``first_stage_model.*``, ``cond_stage_model.transformer.*``. The key mapping follows
    diffusers' ``scripts/convert_diffusers_to_original_stable_diffusion.py``, generalised to any
    number of blocks (the tiny models have two)."""
    from safetensors.torch import load_file, save_file

    model_dir = Path(model_dir)
    unet_cfg = json.loads((model_dir / "unet" / "config.json").read_text())
    vae_cfg = json.loads((model_dir / "vae" / "config.json").read_text())
    unet = load_file(str(model_dir / "unet" / "diffusion_pytorch_model.safetensors"))
    vae = load_file(str(model_dir / "vae" / "diffusion_pytorch_model.safetensors"))
    text = load_file(str(model_dir / "text_encoder" / "model.safetensors"))
    out = {}
    out.update({"model.diffusion_model." + k: v for k, v in _ldm_unet(unet, unet_cfg).items()})
    out.update({"first_stage_model." + k: v for k, v in _ldm_vae(vae, vae_cfg).items()})
    out.update({"cond_stage_model.transformer." + (k if k.startswith("text_model.") else "text_model." + k): v
                for k, v in text.items()})  # transformers ≥ 5.6 saves CLIPTextModel without text_model.
    save_file({k: v.contiguous() for k, v in out.items()}, str(out_file))
    return Path(out_file)


def _rename(state: dict, pairs: list[tuple[str, str]]) -> dict:
    """Apply (original, diffusers) substring pairs to every key, in order."""
    out = {}
    for k, v in state.items():
        for sd_part, hf_part in pairs:
            k = k.replace(hf_part, sd_part)
        out[k] = v
    return out


def _ldm_unet(state: dict, cfg: dict) -> dict:
    n, per = len(cfg["block_out_channels"]), cfg["layers_per_block"]
    fixed = {"time_embedding.linear_1.": "time_embed.0.", "time_embedding.linear_2.": "time_embed.2.",
             "conv_in.": "input_blocks.0.0.", "conv_norm_out.": "out.0.", "conv_out.": "out.2."}
    resnet = [("in_layers.0", "norm1"), ("in_layers.2", "conv1"), ("out_layers.0", "norm2"),
              ("out_layers.3", "conv2"), ("emb_layers.1", "time_emb_proj"), ("skip_connection", "conv_shortcut")]
    layers = []
    for i in range(n):
        for j in range(per):
            layers.append((f"input_blocks.{(per + 1) * i + j + 1}.0.", f"down_blocks.{i}.resnets.{j}."))
            layers.append((f"input_blocks.{(per + 1) * i + j + 1}.1.", f"down_blocks.{i}.attentions.{j}."))
        layers.append((f"input_blocks.{(per + 1) * (i + 1)}.0.op.", f"down_blocks.{i}.downsamplers.0.conv."))
        for j in range(per + 1):
            layers.append((f"output_blocks.{(per + 1) * i + j}.0.", f"up_blocks.{i}.resnets.{j}."))
            layers.append((f"output_blocks.{(per + 1) * i + j}.1.", f"up_blocks.{i}.attentions.{j}."))
        has_attn = "CrossAttn" in cfg["up_block_types"][i]
        layers.append((f"output_blocks.{(per + 1) * i + per}.{2 if has_attn else 1}.", f"up_blocks.{i}.upsamplers.0."))
    layers += [("middle_block.1.", "mid_block.attentions.0."), ("middle_block.0.", "mid_block.resnets.0."),
               ("middle_block.2.", "mid_block.resnets.1.")]
    out = {}
    for k, v in state.items():
        for hf, sd in fixed.items():
            if k.startswith(hf):
                k = sd + k[len(hf):]
        if "resnets" in k:
            for sd_part, hf_part in resnet:
                k = k.replace(hf_part, sd_part)
        for sd_part, hf_part in layers:
            if k.startswith(hf_part):
                k = sd_part + k[len(hf_part):]
        out[k] = v
    return out


def _ldm_vae(state: dict, cfg: dict) -> dict:
    n, per = len(cfg["block_out_channels"]), cfg.get("layers_per_block", 1)
    pairs = [("nin_shortcut", "conv_shortcut"), ("norm_out", "conv_norm_out"),
             ("mid.attn_1.", "mid_block.attentions.0.")]
    for i in range(n):
        for j in range(per):
            pairs.append((f"encoder.down.{i}.block.{j}.", f"encoder.down_blocks.{i}.resnets.{j}."))
        pairs.append((f"down.{i}.downsample.", f"down_blocks.{i}.downsamplers.0."))
        pairs.append((f"up.{n - 1 - i}.upsample.", f"up_blocks.{i}.upsamplers.0."))
        for j in range(per + 1):
            pairs.append((f"decoder.up.{n - 1 - i}.block.{j}.", f"decoder.up_blocks.{i}.resnets.{j}."))
    pairs += [("mid.block_1.", "mid_block.resnets.0."), ("mid.block_2.", "mid_block.resnets.1.")]
    out = _rename(state, pairs)
    attn = [("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."), ("proj_out.", "to_out.0.")]
    final = {}
    for k, v in out.items():
        if "mid.attn_1." in k:
            head, tail = k.split("mid.attn_1.")
            for sd_part, hf_part in attn:
                if tail.startswith(hf_part):
                    tail = sd_part + tail[len(hf_part):]
            k = head + "mid.attn_1." + tail
            if k.endswith(("q.weight", "k.weight", "v.weight", "proj_out.weight")) and v.ndim == 2:
                v = v.reshape(*v.shape, 1, 1)  # linear → 1×1 conv, as the original VAE has it
        final[k] = v
    return final
