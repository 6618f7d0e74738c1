"""``assetkit models``: list local models, check one loads and runs, pull one (the only download)."""
from __future__ import annotations

import json

import click


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


@click.group()
def models():
    """Local diffusion models: list, check, pull, and the weights cache.

    Runs never use the network; only `assetkit models pull` downloads (safetensors only).
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_cmd(as_json: bool):
    """List diffusers models in the Hugging Face cache and in ASSETKIT_MODEL_DIRS.

    Example:

    \b
        assetkit models list --json
    """
    from .models import hf_hub_cache, list_models

    found = list_models()  # needs huggingface_hub: says which extra when it is missing
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in found], indent=2))
        return
    if not found:
        click.echo(f"No models found in {hf_hub_cache()} (pull one with `assetkit models pull ORG/NAME`).")
        return
    from .cli_table import print_table

    print_table(["ID", "PIPELINE", "SIZE", "LICENSE"],
                [[m.id, m.pipeline, _size(m.size_bytes), m.license or "-"] for m in found], right={2})


@models.command("check")
@click.argument("model")
@click.option("--config", help="Diffusers folder or hf: id with the configs of a .safetensors checkpoint.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, mps.")
@click.option("--dtype", default="auto", show_default=True, help="auto, float32, float16, bfloat16.")
@click.option("--allow-unsafe-weights", is_flag=True, help="Allow pickle weights (.ckpt/.bin): they can run code.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(model, config, device, dtype, allow_unsafe_weights, as_json):
    """Load MODEL, make one tiny image and report load and step times.

    Example:

    \b
        assetkit models check hf:stabilityai/sd-turbo
    """
    from .extras import require

    require("diffusion", "`assetkit models check`")
    from .generators.diffusers import check_model
    from .models import set_offline

    set_offline()
    info = check_model(model, config, device=device, dtype=dtype, allow_unsafe_weights=allow_unsafe_weights)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    sizes = ", ".join(f"{k} {w}×{h}" for k, (w, h) in info["native_sizes"].items())
    click.echo(f"{info['model']}: {info['pipeline']} ({info['family']}) on {info['device']} {info['dtype']}\n"
               f"  loaded in {info['load_seconds']:.2f} s; {info['size'][0]}×{info['size'][1]} in "
               f"{info['steps']} steps: {info['seconds_per_step']:.3f} s/step, {info['image_seconds']:.2f} s/image\n"
               f"  native sizes: {sizes}")
    for note in info["notes"]:
        click.echo("  " + note.replace("\n", "\n  "))


@models.command("cache")
@click.option("--remove-stale", is_flag=True, help="Delete the entries no load would use now.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def cache_cmd(remove_stale: bool, as_json: bool):
    """List the weights cache: models kept converted to a narrower dtype than their files.

    A model whose files are fp32 and which a run loads in bf16 (or fp16) is kept converted after
    its first load, so later runs skip the conversion (the generator's `weights_cache`,
    $ASSETKIT_WEIGHTS_CACHE, else ~/.cache/assetkit/weights). An entry is stale when its model
    is gone or changed, or another diffusers version wrote it.

    Example:

    \b
        assetkit models cache --remove-stale
    """
    import shutil

    from .generators.weights_cache import cache_root, list_entries

    root = cache_root(None)
    if root is None:
        click.echo("The weights cache is off ($ASSETKIT_WEIGHTS_CACHE=off).")
        return
    found = list_entries(root)
    removed = []
    if remove_stale:
        for e in found:
            if e["stale"]:
                shutil.rmtree(e["path"], ignore_errors=True)
                removed.append(e)
    if as_json:
        click.echo(json.dumps([dict(e, removed=e in removed) for e in found], indent=2))
        return
    if not found:
        click.echo(f"The weights cache {root} is empty.")
        return
    from .cli_table import print_table

    print_table(["ENTRY", "MODEL", "DTYPE", "SIZE", "STATE"],
                [[e["key"], e["source"] or "-", e["dtype"] or "-", _size(e["bytes"]),
                  ("removed: " if e in removed else "stale: ") + e["stale"] if e["stale"] else "current"]
                 for e in found], right={3})
    total, kept = sum(e["bytes"] for e in found if e not in removed), len(found) - len(removed)
    click.echo(f"{root}: {_size(total)} in {kept} entr{'y' if kept == 1 else 'ies'}"
               + ("" if remove_stale or not any(e["stale"] for e in found) else
                  "; `assetkit models cache --remove-stale` deletes the stale ones"))


@models.command("pull")
@click.argument("repo_id", metavar="ORG/NAME")
@click.option("--revision", help="Branch, tag or commit (default: main).")
@click.option("--variant", help="Weights variant, e.g. fp16 (downloads *.fp16.safetensors).")
def pull_cmd(repo_id, revision, variant):
    """Download a diffusers model into the Hugging Face cache (safetensors weights only).

    Example:

    \b
        assetkit models pull stabilityai/sd-turbo --variant fp16
    """
    from .models import pull

    path = pull(repo_id, revision=revision, variant=variant)
    click.echo(f"Pulled {repo_id} to {path}\nUse it with: model: hf:{repo_id.removeprefix('hf:')}")


commands = [models]
