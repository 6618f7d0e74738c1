"""The ad format catalog: named placements with pixel sizes, safe zones and a format class."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

#: the hard ceiling of a custom format side; ``runs.max_side`` in the settings (8,000 by default)
#: is the limit a brief is checked against
MAX_SIDE = 16384
DEFAULT_MAX_SIDE = 8000


@dataclass(frozen=True)
class SafeZone:
    """Margins (fractions of width/height) that platform UI covers; keep text and logo out."""

    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    left: float = 0.0


@dataclass(frozen=True)
class AdFormat:
    """A placement: ``name`` (used in file paths), size in pixels, and where text may go."""

    name: str
    width: int
    height: int
    platform: str
    label: str
    format_class: str = "social"  # social / display / video / print
    safe_zone: SafeZone = field(default_factory=SafeZone)
    max_bytes: int | None = None  # the platform's file-weight limit (None: no limit that binds)

    @property
    def ratio(self) -> float:
        return self.width / self.height

    @property
    def aspect_group(self) -> str:
        """Which generated master suits this format best: square, portrait or landscape."""
        r = self.ratio
        if r > 1.2:
            return "landscape"
        if r < 1 / 1.2:
            return "portrait"
        return "square"

    @property
    def layout(self) -> str:
        """Layout family: ``full`` bleed image, or ``strip``/``tower`` (image panel + colour field)."""
        r = self.ratio
        if r >= 2.5:
            return "strip"
        if r <= 0.4:
            return "tower"
        return "full"

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(aspect_group=self.aspect_group, layout=self.layout)
        return d


_TIKTOK_SAFE = SafeZone(top=0.07, right=0.13, bottom=0.2, left=0.05)
_STORY_SAFE = SafeZone(top=0.14, right=0.0, bottom=0.2, left=0.0)

# File-weight limits: IAB's New Ad Portfolio caps a display ad's initial load at 150 KB; Meta takes
# images up to 30 MB, LinkedIn up to 5 MB; TikTok asks for image ads of at most 500 KB.
IAB_KB, META_MB, LINKEDIN_MB, TIKTOK_KB = 150_000, 30_000_000, 5_000_000, 500_000

CATALOG: dict[str, AdFormat] = {f.name: f for f in [
    AdFormat("meta-square", 1080, 1080, "Meta", "Feed square 1:1", max_bytes=META_MB),
    AdFormat("meta-portrait", 1080, 1350, "Meta", "Feed portrait 4:5", max_bytes=META_MB),
    AdFormat("meta-story", 1080, 1920, "Meta", "Stories / Reels 9:16", safe_zone=_STORY_SAFE, max_bytes=META_MB),
    AdFormat("meta-landscape", 1200, 628, "Meta", "Feed link 1.91:1", max_bytes=META_MB),
    AdFormat("tiktok-feed", 1080, 1920, "TikTok", "In-feed 9:16", safe_zone=_TIKTOK_SAFE, max_bytes=TIKTOK_KB),
    AdFormat("linkedin-landscape", 1200, 627, "LinkedIn", "Single image 1.91:1", max_bytes=LINKEDIN_MB),
    AdFormat("linkedin-square", 1200, 1200, "LinkedIn", "Single image 1:1", max_bytes=LINKEDIN_MB),
    AdFormat("iab-medium-rectangle", 300, 250, "IAB", "Medium rectangle", "display", max_bytes=IAB_KB),
    AdFormat("iab-leaderboard", 728, 90, "IAB", "Leaderboard", "display", max_bytes=IAB_KB),
    AdFormat("iab-wide-skyscraper", 160, 600, "IAB", "Wide skyscraper", "display", max_bytes=IAB_KB),
    AdFormat("iab-half-page", 300, 600, "IAB", "Half page", "display", max_bytes=IAB_KB),
    AdFormat("iab-billboard", 970, 250, "IAB", "Billboard", "display", max_bytes=IAB_KB),
    AdFormat("iab-mobile-banner", 320, 50, "IAB", "Mobile banner", "display", max_bytes=IAB_KB),
    AdFormat("iab-portrait", 300, 1050, "IAB", "Portrait", "display", max_bytes=IAB_KB),
]}

#: The platforms' copy-length limits (characters) for the ad's text fields that carry the brief's
#: copy: Meta's recommended headline (40) and primary text (125) before the feed truncates them,
#: TikTok's ad text (100), LinkedIn's recommended headline (70) and introductory text (150). IAB
#: banners carry no text fields; a kit that also traffics copy through Google's responsive display
#: ads sets theirs (headline 30, description 90) with ``checks.max_chars: {display: ...}``.
COPY_LIMITS: dict[str, dict[str, int]] = {
    "Meta": {"headline": 40, "subline": 125},
    "TikTok": {"headline": 100, "subline": 100},
    "LinkedIn": {"headline": 70, "subline": 150},
}
#: what each copy field is called on the platform (for messages)
COPY_FIELD_NAMES = {"Meta": {"subline": "primary text"}, "TikTok": {"headline": "ad text", "subline": "ad text"},
                    "LinkedIn": {"subline": "introductory text"}}


def copy_length(text: str) -> int:
    """Characters as the platforms count them: code points, combining marks not counted."""
    import unicodedata

    return sum(1 for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) not in ("Mn", "Me"))


_CUSTOM = re.compile(r"^(\d{2,5})x(\d{2,5})$")


def resolve_format(name: str) -> AdFormat:
    """A catalog name or a custom ``WxH`` → AdFormat; ValueError with the valid names otherwise."""
    if name in CATALOG:
        return CATALOG[name]
    m = _CUSTOM.match(name)
    if m:
        w, h = int(m.group(1)), int(m.group(2))
        if not (16 <= w <= MAX_SIDE and 16 <= h <= MAX_SIDE):
            raise ValueError(f"custom size {name!r} must be between 16 and {MAX_SIDE} pixels per side")
        cls = "display" if max(w, h) <= 1050 and min(w, h) <= 300 else "social"
        return AdFormat(name, w, h, "custom", f"Custom {w}×{h}", cls, max_bytes=IAB_KB if cls == "display" else None)
    import difflib

    close = difflib.get_close_matches(name, CATALOG, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"unknown format {name!r}; {hint}valid formats: {', '.join(CATALOG)} "
                     "or a custom WxH like 1600x900")
