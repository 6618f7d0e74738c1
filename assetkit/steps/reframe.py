"""The ``reframe`` step: each aspect-group master → one frame per format, at the exact size."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from PIL import Image
from pydantic import Field

from ..formats import AdFormat
from ..imaging import cover_crop
from ..layout import DEFAULT_PANEL, panel_boxes
from ..state import Frame, Master
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..brand import BrandKit
    from ..context import RunContext
    from ..state import RunState


class ReframeParams(StepParams):
    panel: float = Field(DEFAULT_PANEL, ge=0.1, le=0.9)
    """Image panel share of a strip's width / a tower's height (the rest is the colour field)."""
    field_colour: str = "primary"
    """Palette role of the colour field that carries the text in strip and tower layouts."""
    focal: Literal["auto", "center"] = "auto"
    """Crop around the master's focal point, or always around its centre."""


def reframe_master(master: Master, fmt: AdFormat, brand: BrandKit, params: ReframeParams | None = None,
                   concept: str = "", variant: int = 0) -> Frame:
    """Make the frame of ``fmt`` from ``master``: cover-crop around the focal point (never
    stretched); strip/tower layouts get an image panel and a brand-colour field."""
    params = params or ReframeParams()
    focal = master.focal if params.focal == "auto" else (0.5, 0.5)
    image_box, field_box = panel_boxes(fmt, params.panel)
    iw, ih = image_box[2] - image_box[0], image_box[3] - image_box[1]
    picture = master.image if master.image.mode == "RGB" else master.image.convert("RGB")  # resize reads it, no copy
    panel, crop, scale = cover_crop(picture, (iw, ih), focal)
    if field_box is None:
        canvas = panel
    else:
        canvas = Image.new("RGB", (fmt.width, fmt.height), brand.colour(params.field_colour))
        canvas.paste(panel, image_box[:2])
    protect = []
    pb = (master.params or {}).get("product_box")
    if pb:  # the product's box, master pixels → frame pixels, clipped to the image panel
        x0, y0 = image_box[0] + (pb[0] - crop[0]) * scale, image_box[1] + (pb[1] - crop[1]) * scale
        x1, y1 = image_box[0] + (pb[2] - crop[0]) * scale, image_box[1] + (pb[3] - crop[1]) * scale
        box = (max(image_box[0], int(x0)), max(image_box[1], int(y0)),
               min(image_box[2], int(round(x1))), min(image_box[3], int(round(y1))))
        if box[2] > box[0] and box[3] > box[1]:
            protect.append(box)
    return Frame(concept=concept or master.request.concept, variant=variant if concept else master.request.variant,
                 format=fmt, image=canvas, image_box=image_box, field_box=field_box, master_key=master.key,
                 crop=crop, scale=scale, protect=protect)


class ReframeStep(Step):
    """Crop each master to every format of its aspect group (focal-point cover crop)."""

    name = "reframe"
    description = "crop masters to each format; strips and towers get an image panel and a colour field"
    Params = ReframeParams
    inputs = ("masters",)
    provides = ("frames",)

    def run(self, ctx: RunContext, state: RunState) -> None:
        todo = {}
        for job in state.pending:
            if job.frame_id not in state.frames and job.frame_id not in todo:
                todo[job.frame_id] = job

        def one(job):
            master = state.masters[job.master_id]
            return job.frame_id, reframe_master(master, job.format, ctx.brand, self.params, job.concept, job.variant)

        for frame_id, frame in ctx.map(one, list(todo.values()), "reframe"):
            state.frames[frame_id] = frame
