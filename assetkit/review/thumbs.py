"""Thumbnails and previews of campaign files: JPEG bytes made on demand, never written to disk."""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import ReviewAsset
    from .service import ReviewService

THUMB_PX = 360  # a tile's pixels (2× its CSS size for sharp thumbnails on HiDPI screens)


def jpeg_thumbnail(data: bytes, px: int = THUMB_PX, quality: int = 82) -> bytes:
    """The image ``data`` (PNG/JPEG/WebP bytes) fitted into ``px``×``px``, as JPEG bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as src:
        src.draft("RGB", (px, px))
        im = src.convert("RGB")
    im.thumbnail((px, px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class ThumbCache:
    """Thumbnails made on first request, kept in memory by (asset id, sha256): nothing is written."""

    def __init__(self, limit: int = 2048):
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, service: ReviewService, asset: ReviewAsset, sha: str) -> bytes | None:
        key = (asset.id, sha)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        source = service.catalog.read_bytes(asset)
        if source is None:
            return None
        data = jpeg_thumbnail(source)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return data

    def warm(self, service: ReviewService, stop: threading.Event | None = None) -> int:
        """Make every asset's thumbnail in gallery order (run on a background thread by the server,
        so the gallery's tiles are ready when the browser asks); returns how many were made."""
        made = 0
        cat = service.catalog
        for asset in cat.assets.values():
            if stop is not None and stop.is_set():
                break
            sha = cat.current_sha256(asset)
            if sha is not None and self.get(service, asset, sha) is not None:
                made += 1
        return made
