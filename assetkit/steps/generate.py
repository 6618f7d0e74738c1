"""The ``generate`` step: one master image per concept variant and aspect group.

Masters come from the draft generator (procedural, no model) or a local diffusion model
(diffusers backend). They are cached under ``<out>/<campaign>/.cache/masters`` by a key that
covers the request and the generator's fingerprint, so an unchanged master is never remade.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import create_model, field_validator

from ..generators.base import PRODUCT_PLACEMENT
from ..state import Master
from ..threads import worker_started
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..context import RunContext
    from ..generators.base import GenerationRequest, Generator
    from ..state import RunState


class GenerateParams(StepParams):
    """Which generator makes the masters, and how many; the step's other keys are that
    generator's options (its ``Options`` model: see :func:`params_model`)."""

    generator: str = "auto"
    """auto: diffusers when a model is given (brief, here or --model), else draft; or a generator's name."""
    masters: Literal["per-aspect", "shared"] = "per-aspect"
    """per-aspect: a master per concept variant and aspect group (square, portrait, landscape); shared: one
    per concept variant, shaped to cover every format's crop (a third of the masters; each format's crop
    loss is reported)."""

    @field_validator("generator")
    @classmethod
    def _known_generator(cls, v: str) -> str:
        from ..generators import generator_names

        if v != "auto" and v not in generator_names():
            import difflib

            close = difflib.get_close_matches(v, generator_names(), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown generator {v!r}; {hint}known: auto, {', '.join(generator_names())}")
        return v


@functools.cache
def params_model(generator: str = "auto") -> type[GenerateParams]:
    """The generate step's params for ``generator``: the step's own plus that backend's pipeline
    options, so an option it does not have is an error; for ``auto`` (or an unknown name, which
    the ``generator`` field then reports) the options of every backend."""
    from ..generators import generator_class, generator_names

    names = [generator] if generator in generator_names() else generator_names()
    options: list[type] = []
    for name in names:
        opts = generator_class(name).Options
        if opts.model_fields and opts not in options:
            options.append(opts)
    if not options:
        return GenerateParams
    return create_model(f"GenerateParams_{generator}", __base__=(GenerateParams, *options))


def image_ratios(ctx: RunContext) -> dict[str, float]:
    """Width ÷ height of the picture each of the brief's formats shows (a strip's or tower's
    image panel, else the whole format)."""
    from ..layout import DEFAULT_PANEL, panel_boxes

    step = ctx.pipeline.step("reframe")
    panel = getattr(getattr(step, "params", None), "panel", DEFAULT_PANEL)
    out = {}
    for fmt in ctx.brief.ad_formats():
        box = panel_boxes(fmt, panel)[0]
        out[fmt.name] = (box[2] - box[0]) / (box[3] - box[1])
    return out


def shared_ratio(ctx: RunContext) -> float:
    """The shape of a shared master: the geometric mean of the widest and the tallest picture,
    which makes the largest crop loss of any format as small as one master can."""
    ratios = image_ratios(ctx).values()
    return math.sqrt(min(ratios) * max(ratios))


def crop_losses(ctx: RunContext, sizes: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Per format: the share of its master's pixels a cover crop cuts away (0 = the whole master
    shows). ``sizes``: master size per aspect group ("shared" for one master)."""
    out = {}
    for fmt in ctx.brief.ad_formats():
        w, h = sizes.get("shared") or sizes[fmt.aspect_group]
        r, R = image_ratios(ctx)[fmt.name], w / h
        out[fmt.name] = round(1 - min(r, R) / max(r, R), 3)
    return out


def generation_order(todo: list, uses: dict) -> list:
    """``(master_id, request, key)`` items in the order the model makes them: grouped by size
    (every master of one size, then the next: a model warms up and packs its weights once per
    size, and interleaving sizes pays that again and again), and within a size the masters with
    the most deliverables first. The size whose busiest master has the fewest deliverables goes
    last, so what is left to compose after the model's last image (the run's tail when steps
    stream) stays as small as it can be."""
    groups: dict[tuple[int, int], list] = {}
    for item in todo:
        groups.setdefault((item[1].width, item[1].height), []).append(item)
    for items in groups.values():
        items.sort(key=lambda t: -uses.get(t[0], 0))  # stable: job order within equal counts
    ordered = sorted(groups.values(), key=lambda items: -uses.get(items[0][0], 0))
    return [item for items in ordered for item in items]


class GenerateStep(Step):
    """Make (or reuse from the cache) the masters every pending deliverable needs."""

    name: ClassVar[str] = "generate"
    streamable: ClassVar[bool] = False  # it is what the other steps stream from
    source: ClassVar[bool] = True
    description: ClassVar[str] = "make one master per concept variant and aspect group (draft or diffusion model)"
    Params: ClassVar[type[StepParams]] = GenerateParams
    inputs: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ("masters",)

    params: GenerateParams

    @classmethod
    def params_model(cls, raw: Any = None) -> type[StepParams]:
        """The params model for this step's YAML: its ``generator`` picks the options allowed."""
        name = raw.get("generator", "auto") if isinstance(raw, dict) else "auto"
        return params_model(name if isinstance(name, str) else "auto")

    # ------------------------------------------------------------------------------ generator
    def generator(self, ctx: RunContext) -> Generator:
        """The run's generator, created once per run (the model itself loads on first use).

        The pipeline's options for it, plus what the run gives every backend that has the
        option: the model (``--model``, the step's or the brief's), the brand's style LoRA and
        ``--allow-unsafe-weights``.
        """
        if ctx.generator is not None:
            return ctx.generator
        from ..generators import generator_class

        model = ctx.options.model or getattr(self.params, "model", None) or ctx.brief.model
        name = ctx.options.generator or self.params.generator
        if name == "auto":
            name = "diffusers" if model else "draft"
        cls = generator_class(name)
        takes = cls.Config.model_fields
        options = {k: getattr(self.params, k) for k in self.params.model_fields_set if k in takes}
        if model and "model" in takes:
            options["model"] = model
        if ctx.options.allow_unsafe_weights and "allow_unsafe_weights" in takes:
            options["allow_unsafe_weights"] = True
        style = ctx.brand.style
        if style.lora and "lora" in takes:
            from ..files import resolve_ref

            options["lora"] = str(resolve_ref(style.lora, ctx.brand.root))
            options["lora_weight"] = style.lora_weight
        gen = cls(base_dir=ctx.brief.base_dir, log=lambda msg: ctx.progress.log(f"warning: {msg}"), **options)
        ctx.generator = gen
        return gen

    def fingerprint(self, ctx: RunContext) -> dict:
        """The step's own params and the generator's fingerprint (model, weights hash, steps...,
        without loading the model), which is all that its options change about the images."""
        own = self.params.model_dump(mode="json", include=set(GenerateParams.model_fields))
        return {"step": self.name, **own, "product_placement": PRODUCT_PLACEMENT,
                "generator": self.generator(ctx).fingerprint()}

    def close(self, ctx: RunContext) -> None:
        """Free the model once the later steps are done too (when they stream, freeing it while
        they compose the last batch would hold the GIL against them: ``gc.collect``)."""
        if ctx.generator is not None:
            ctx.generator.close()

    # -------------------------------------------------------------------------------- requests
    def requests(self, ctx: RunContext, state: RunState) -> dict[tuple[str, int, str], GenerationRequest]:
        """One request per distinct master the pending jobs need, in job order."""
        from ..generators.base import GenerationRequest

        gen = self.generator(ctx)
        brand, brief = ctx.brand, ctx.brief
        concepts = {c.id: c for c in brief.concepts}
        out: dict[tuple[str, int, str], GenerationRequest] = {}
        for job in state.pending:
            mid = job.master_id
            if mid in out:
                continue
            concept = concepts[job.concept]
            prompt = ", ".join([concept.prompt.strip(), *brand.style.keywords])
            negative = ", ".join([*brand.style.negative, *([concept.negative] if concept.negative else [])])
            width, height = gen.size_for_ratio(shared_ratio(ctx)) if mid[2] == "shared" else gen.native_size(mid[2])
            out[mid] = GenerationRequest(
                concept=concept.id, variant=job.variant, prompt=prompt, negative_prompt=negative, width=width,
                height=height, seed=job.seed, palette=dict(brand.palette), aspect=mid[2],
                init_image=brief.concept_path(concept.image), product_image=brief.concept_path(concept.product),
                focal=concept.focal)
        return out

    @staticmethod
    def master_key(request: GenerationRequest, fingerprint: dict) -> str:
        """sha256 of the request (input files by content) and the generator fingerprint."""
        from ..files import sha256_file

        req = {k: getattr(request, k) for k in request.__dataclass_fields__}
        for k in ("init_image", "product_image"):
            req[k] = sha256_file(req[k]) if req[k] else None
        req["concept"] = req["variant"] = None  # the same picture for any concept id with the same inputs
        if request.product_image:  # where the product goes is the same rule for every backend
            req["product_placement"] = PRODUCT_PLACEMENT
        return hashlib.sha256(json.dumps({"request": req, "generator": fingerprint}, sort_keys=True,
                                         default=str).encode()).hexdigest()

    # ------------------------------------------------------------------------------------- run
    def prepare(self, ctx: RunContext, state: RunState
                ) -> tuple[Generator, list[tuple[tuple[str, int, str], GenerationRequest, str]]]:
        """The run's generator and ``(master_id, request, master key)`` of every master the
        pending jobs need, in job order; records the generator in ``state.generator_info``.
        No model is loaded (the Ray executor's driver calls this too)."""
        gen = self.generator(ctx)
        fp = gen.fingerprint()
        state.generator_info = {"name": gen.name, **fp, "device": fp.get("device", "cpu")}
        requests = self.requests(ctx, state)
        if not requests:
            return gen, []
        sizes = {mid[2]: (r.width, r.height) for mid, r in requests.items()}
        if self.params.masters == "per-aspect":
            sizes = {f.aspect_group: gen.native_size(f.aspect_group) for f in ctx.brief.ad_formats()}
        losses = crop_losses(ctx, sizes)
        state.generator_info["masters"] = {"mode": self.params.masters, "sizes": sizes, "crop_loss": losses}
        if self.params.masters == "shared":
            w, h = sizes["shared"]
            ctx.progress.log(f"masters: shared, one {w}×{h} master per concept variant; crop loss per format: "
                             + ", ".join(f"{k} {v:.0%}" for k, v in losses.items()))
        return gen, [(mid, req, self.master_key(req, fp)) for mid, req in requests.items()]

    @staticmethod
    def from_cache(cache, request: GenerationRequest, key: str) -> Master | None:
        """The master ``key`` kept by an earlier run, or None (missing or damaged: made again)."""
        from PIL import Image

        png, meta = f"{key}.png", f"{key}.json"
        if not (cache.exists(png) and cache.exists(meta)):
            return None
        try:
            info = json.loads(cache.read_text(meta))
            with Image.open(io.BytesIO(cache.read_bytes(png))) as im:
                image = im.convert("RGB")
            return Master(request=request, image=image, focal=tuple(info["focal"]), params=info["params"],
                          compute_seconds=info["compute_seconds"], key=key, cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is simply remade

    @staticmethod
    def order(state: RunState, todo: list) -> list:
        """:func:`generation_order` of ``todo`` by the pending jobs each master serves."""
        uses: dict = {}
        for job in state.pending:
            uses[job.master_id] = uses.get(job.master_id, 0) + 1
        return generation_order(todo, uses)

    @staticmethod
    def make(gen: Generator, part: list, progress=None) -> list[Master]:
        """One ``gen.generate`` call: the masters of ``part`` (``(mid, request, key)`` items)."""
        images = gen.generate([r for _, r, _ in part], progress)
        return [Master(request=req, image=img.image, focal=(img.focal[0], img.focal[1]), params=img.params,
                       compute_seconds=img.compute_seconds, key=key) for (_, req, key), img in zip(part, images)]

    def run(self, ctx: RunContext, state: RunState) -> None:
        """Make (or take from the cache) every master the pending jobs need.

        When the runner streams (``ctx.on_masters``), masters are handed on in batches
        as they are made, so reframe/compose/export work while the model makes the next batch.
        """
        gen, items = self.prepare(ctx, state)
        if not items:
            return
        notify = ctx.on_masters or (lambda mids: None)
        cache = ctx.cache.sub("masters")
        todo: list[tuple[tuple[str, int, str], GenerationRequest, str]] = []
        ready: list[tuple[str, int, str]] = []
        for mid, req, key in items:
            master = None if ctx.options.force else self.from_cache(cache, req, key)
            if master is not None:
                state.masters[mid] = master
                ready.append(mid)
            else:
                todo.append((mid, req, key))
        if ready:
            notify(ready)
        if not todo:
            return
        chunk = max(1, gen.batch_size)
        todo = self.order(state, todo)
        from concurrent.futures import ThreadPoolExecutor

        # cache writes overlap the next batch's generation
        writer = ThreadPoolExecutor(max_workers=1, initializer=worker_started)
        stored = []
        try:
            with ctx.progress.task("generate", len(todo)) as task:
                for start in range(0, len(todo), chunk):
                    part = todo[start:start + chunk]
                    shown = {"n": 0}

                    def progress(done: int, total: int, part=part, shown=shown) -> None:
                        n = min(len(part), int(len(part) * done / max(total, 1)))
                        if n > shown["n"]:
                            task.advance(n - shown["n"])
                            shown["n"] = n

                    masters = self.make(gen, part, progress)
                    if shown["n"] < len(part):
                        task.advance(len(part) - shown["n"])
                    for (mid, _req, key), master in zip(part, masters):
                        stored.append(writer.submit(self._store, cache, key, master))
                        state.masters[mid] = master
                        state.compute_seconds += master.compute_seconds
                        state.compute_ms += master.compute_ms
                    notify([mid for mid, _, _ in part])
        finally:
            writer.shutdown(wait=True)
            parts = gen.timings()
            state.timings.update(parts)
            if parts:
                ctx.progress.log("generator: " + ", ".join(f"{k.split('.', 1)[-1].replace('_', ' ')} {v:.1f} s"
                                                           for k, v in parts.items()))
        for f in stored:
            f.result()  # a failed cache write is an error of the run

    @staticmethod
    def _store(cache, key: str, img) -> None:
        """Keep a master (or a generated image) in the run's cache (PNG + JSON sidecar), atomically."""
        buf = io.BytesIO()
        img.image.save(buf, format="PNG", compress_level=1)  # a cache: speed over size
        cache.write_bytes(f"{key}.png", buf.getvalue())
        cache.write_text(f"{key}.json", json.dumps(
            {"focal": list(img.focal), "params": img.params, "compute_seconds": img.compute_seconds},
            default=str, indent=1))
