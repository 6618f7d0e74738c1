"""``assetkit review --static``: one self-contained HTML file (images inlined, no server, no
external URL) of the gallery and its decisions, for people who only need to look."""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from .catalog import ReviewAsset, load_catalog
from .pages import render_gallery
from .states import asset_states
from .thumbs import THUMB_PX, jpeg_thumbnail

PREVIEW_PX = 1200


def _jpeg_data_uri(data: bytes, px: int, quality: int) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg_thumbnail(data, px, quality)).decode("ascii")


def static_gallery(folder: str | Path, out: str | Path | None = None,
                   ledger: str | Path | None = None) -> tuple[Path, int]:
    """Write the gallery to ``out`` (default ``FOLDER/review.html``); returns (path, assets)."""
    from ..ledger import ledger_path
    from ..outroot import safe_output_file, write_output_file
    from .store import ReviewStore

    cat = load_catalog(folder)
    target = safe_output_file(Path(out) if out is not None else cat.folder / "review.html",
                              follow_option=None)
    decisions = []
    if ledger_path(ledger).exists():
        with ReviewStore(ledger, create=False) as store:
            decisions = store.decisions(cat.campaign)
    states = asset_states(cat, decisions)
    thumbs: dict[str, str] = {}
    fulls: dict[str, str] = {}
    for a in cat.assets.values():
        data = cat.read_bytes(a)
        if data is None:
            thumbs[a.id] = fulls[a.id] = ""
            continue
        thumbs[a.id] = _jpeg_data_uri(data, THUMB_PX, 80)
        fulls[a.id] = _jpeg_data_uri(data, PREVIEW_PX, 82)

    def href(a: ReviewAsset) -> str:
        return "#" + a.id

    html = render_gallery(cat, states, href=href, thumb=lambda a: thumbs[a.id], full=lambda a: fulls[a.id],
                          static=True, generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    write_output_file(target, html.encode("utf-8"))
    return target, len(cat.assets)
