"""The draft generator: procedural, brand-coloured layout proofs — no model, no weights.

Deterministic per seed: gradients from the palette, soft shapes, grain and a "subject" at the
focal point (or the concept's product packshot). Fast: painted at half size with numpy.
"""
from __future__ import annotations

import time

import numpy as np
from PIL import Image, ImageFilter
from pydantic import Field

from ..brand import hex_to_rgb
from .base import GeneratedImage, GenerationRequest, Generator, GeneratorConfig, ProgressFn, place_product

VERSION = 2  # 2: packshot masters record their product box


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mix(base: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return base + (colour[None, None, :] - base) * alpha[..., None]


def _colours(palette: dict[str, str]) -> dict[str, np.ndarray]:
    out = {k: np.array(hex_to_rgb(v), dtype=np.float32) for k, v in palette.items()}
    out.setdefault("secondary", out["primary"] * 0.6 + out["background"] * 0.4)
    out.setdefault("accent", out["secondary"])
    out.setdefault("light", np.array((255.0, 255.0, 255.0), dtype=np.float32))
    return out


class DraftConfig(GeneratorConfig):
    """The draft generator's options."""

    grain: float = Field(5.0, ge=0, le=50)
    """Film grain painted over the master (standard deviation in 8-bit levels; 0: none)."""


class DraftGenerator(Generator):
    """Paints on-brand placeholder masters: same seed → same pixels, new seed → new layout."""

    name = "draft"
    Config = Options = DraftConfig
    config: DraftConfig

    def fingerprint(self) -> dict:
        """The painter's version and every option that differs from its default (so masters
        cached before the options were part of it keep their keys)."""
        return {"generator": "draft", "version": VERSION, **self.config.model_dump(mode="json", exclude_defaults=True)}

    def generate(self, requests: list[GenerationRequest], progress: ProgressFn | None = None) -> list[GeneratedImage]:
        out = []
        for i, req in enumerate(requests):
            out.append(self.generate_one(req))
            if progress:
                progress(i + 1, len(requests))
        return out

    def generate_one(self, req: GenerationRequest) -> GeneratedImage:
        """One master for ``req``; its focal point is the subject's centre."""
        t0 = time.perf_counter()
        rng = np.random.default_rng(req.seed)
        W, H = req.width, req.height
        w, h = max(W // 2, 8), max(H // 2, 8)
        c = _colours(req.palette)
        short = min(w, h)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        # coordinates in units of the short side, so circles stay round on any aspect
        u, v = xx / short, yy / short
        uw, vh = w / short, h / short

        schemes = [
            ["primary", "primary", "secondary"],  # dusk: deep blue into crema
            ["background", "light", "secondary"],  # morning: oat and light
            ["primary", "accent", "secondary"],  # ember glow
            ["secondary", "background", "primary"],  # warm into deep
            ["background", "secondary", "accent"],  # bright and warm
        ]
        scheme = schemes[int(rng.integers(len(schemes)))]
        stops = [c[r] for r in scheme]
        stops[1] = stops[1] * 0.75 + stops[0] * 0.25 if scheme[0] == scheme[1] else stops[1]
        angle = rng.uniform(0, 2 * np.pi)
        proj = (u - uw / 2) * np.cos(angle) + (v - vh / 2) * np.sin(angle)
        proj = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
        img = np.empty((h, w, 3), dtype=np.float32)
        img[:] = stops[0]
        img = _mix(img, stops[1], _smoothstep(0.0, 0.55, proj))
        img = _mix(img, stops[2], _smoothstep(0.45, 1.0, proj) * 0.85)

        if req.init_image is not None:
            img = self._blend_init(img, req, c, (w, h))

        dark_base = float(np.mean(img @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32))) < 128
        roles = ["secondary", "accent", "light", "background"] if dark_base else ["primary", "secondary", "accent"]

        # large soft circles
        for _ in range(int(rng.integers(3, 6))):
            cx, cy = rng.uniform(-0.1, uw + 0.1), rng.uniform(-0.1, vh + 0.1)
            r = rng.uniform(0.25, 0.7)
            soft = rng.uniform(0.03, 0.25)
            d = np.sqrt((u - cx) ** 2 + (v - cy) ** 2)
            a = (1 - _smoothstep(r - soft, r + soft, d)) * rng.uniform(0.15, 0.45)
            img = _mix(img, c[roles[int(rng.integers(len(roles)))]], a)
        # a diagonal band
        if rng.random() < 0.8:
            ang = rng.uniform(0.3, 1.2) * (1 if rng.random() < 0.5 else -1)
            off = rng.uniform(0.2, 0.8) * (uw + vh) / 2
            width = rng.uniform(0.08, 0.25)
            dist = np.abs((u * np.sin(ang) - v * np.cos(ang)) + off - (uw * np.sin(ang) - vh * np.cos(ang)) / 2 - off)
            a = (1 - _smoothstep(width, width + 0.06, dist)) * rng.uniform(0.12, 0.3)
            img = _mix(img, c[roles[int(rng.integers(len(roles)))]], a)
        # aurora arcs
        cx, cy = rng.uniform(0.2, uw - 0.2), vh + rng.uniform(0.1, 0.6)
        d = np.sqrt((u - cx) ** 2 + (v - cy) ** 2)
        r0 = rng.uniform(0.6, 1.0)
        for k, role in enumerate(("secondary", "accent", "light")):
            r = r0 + k * 0.07
            a = (1 - _smoothstep(0.0, 0.03, np.abs(d - r))) * 0.35
            img = _mix(img, c[role], a)

        # the subject: off-centre unless the concept fixes it
        if req.focal is not None:
            fx, fy = req.focal
        else:
            side = 1 if rng.random() < 0.5 else -1
            fx = 0.5 + side * rng.uniform(0.1, 0.2)
            fy = rng.uniform(0.3, 0.45)  # upper half: copy usually sits at the bottom
        sx, sy = fx * uw, fy * vh
        if req.product_image is None:
            img = self._subject(img, u, v, sx, sy, c, rng, dark_base)
        else:
            # a soft shadow where the product will stand
            d = np.sqrt(((u - sx) / 1.3) ** 2 + ((v - sy - 0.2) / 0.25) ** 2)
            img = _mix(img, c["primary"] * 0.4, (1 - _smoothstep(0.05, 0.3, d)) * 0.35)

        small = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
        small = small.filter(ImageFilter.GaussianBlur(0.6))
        full = small.resize((W, H), Image.Resampling.BICUBIC)
        arr = np.asarray(full).astype(np.int16)
        if self.config.grain > 0:
            noise = rng.normal(0.0, self.config.grain, (H, W, 1)).astype(np.int16)
            arr = arr + noise
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
        params = {"generator": self.name, "version": VERSION, "seed": req.seed, "size": [W, H],
                  "prompt": req.prompt, "scheme": scheme}
        if req.product_image is not None:
            image, box = self._paste_product(image, req, (fx, fy))
            params["product_box"] = list(box)  # copy must not cover the product (see compose)
        return GeneratedImage(image=image, focal=(float(fx), float(fy)), params=params,
                              compute_seconds=time.perf_counter() - t0)

    @staticmethod
    def _subject(img, u, v, sx, sy, c, rng, dark_base):
        """A lit disc with a ring and a shadow: reads as an object at the focal point."""
        r = rng.uniform(0.17, 0.24)
        body = c["secondary"] if dark_base else c["primary"]
        rim = c["accent"] if rng.random() < 0.5 else c["light"]
        shadow = np.sqrt(((u - sx - 0.04) / 1.0) ** 2 + ((v - sy - 0.06) / 1.0) ** 2)
        img = _mix(img, c["primary"] * 0.35, (1 - _smoothstep(r * 0.8, r * 1.35, shadow)) * 0.45)
        d = np.sqrt((u - sx) ** 2 + (v - sy) ** 2)
        disc = 1 - _smoothstep(r - 0.006, r + 0.006, d)
        light = np.clip(1 - np.sqrt((u - sx + r * 0.4) ** 2 + (v - sy + r * 0.4) ** 2) / (r * 1.8), 0, 1)
        img = _mix(img, body, disc)
        img = _mix(img, c["light"], disc * light * 0.35)
        ring = (1 - _smoothstep(0.0, 0.012, np.abs(d - r * 0.68))) * disc
        img = _mix(img, rim, ring * 0.9)
        inner = (1 - _smoothstep(r * 0.6 - 0.006, r * 0.6 + 0.006, d))
        img = _mix(img, c["primary"] * 0.55 + c["accent"] * 0.2, inner * 0.85)
        return img

    @staticmethod
    def _blend_init(img, req, c, size):
        """The reference image, graded to the palette (dark → primary, light → background)."""
        from ..files import load_image
        from ..imaging import cover_crop

        ref = load_image(req.init_image, "RGB")  # re-checked now: a regular file still, as validated
        fitted, _, _ = cover_crop(ref, size, req.focal or (0.5, 0.5))
        lum = np.asarray(fitted.convert("L"), dtype=np.float32)[..., None] / 255.0
        graded = c["primary"][None, None, :] * (1 - lum) + c["background"][None, None, :] * lum
        return img * 0.4 + graded * 0.6

    @staticmethod
    def _paste_product(image: Image.Image, req: GenerationRequest, focal) -> tuple[Image.Image, tuple]:
        """The packshot placed as every backend places it (:func:`~.base.place_product`); returns
        the image and the product's box (its opaque pixels) in image pixels."""
        assert req.product_image is not None
        placed = place_product(req.product_image, image.width, image.height, focal)
        out = image.convert("RGBA")
        out.alpha_composite(placed.image, placed.box[:2])
        return out.convert("RGB"), placed.opaque_box
