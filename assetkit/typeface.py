"""Font files and scripts: is a file a real font, which characters can it draw, which font draws
which run of a text.

A font is always read from the kit's own file (fontTools parses it, FreeType opens that path);
never looked up by name on the system. ``fonts.scripts`` in a brand kit names extra fonts for
runs of one script (``Jpan: fonts/NotoSansCJKjp-Regular.otf``): :class:`FontStack` is a role's
main font plus those, and :func:`assign` says which of them draws each character.
"""
from __future__ import annotations

import bisect
import os
import stat
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import AssetkitError

#: ISO 15924 codes a kit may give a font for, with what they are
SCRIPT_NAMES: dict[str, str] = {
    "Latn": "Latin", "Grek": "Greek", "Cyrl": "Cyrillic", "Armn": "Armenian", "Hebr": "Hebrew",
    "Arab": "Arabic", "Deva": "Devanagari", "Beng": "Bengali", "Guru": "Gurmukhi", "Gujr": "Gujarati",
    "Orya": "Oriya", "Taml": "Tamil", "Telu": "Telugu", "Knda": "Kannada", "Mlym": "Malayalam",
    "Sinh": "Sinhala", "Thai": "Thai", "Laoo": "Lao", "Tibt": "Tibetan", "Mymr": "Myanmar",
    "Geor": "Georgian", "Ethi": "Ethiopic", "Khmr": "Khmer", "Hang": "Hangul", "Hira": "Hiragana",
    "Kana": "Katakana", "Hani": "Han (CJK ideographs)", "Jpan": "Japanese (Han + Hiragana + Katakana)",
    "Kore": "Korean (Hangul + Han)", "Hans": "Simplified Chinese (Han)", "Hant": "Traditional Chinese (Han)",
    "Zsye": "Emoji",
}
#: the base scripts a kit key covers (Jpan is drawn with one font for kana and kanji)
COVERS: dict[str, tuple[str, ...]] = {
    "Jpan": ("Hira", "Kana", "Hani"), "Kore": ("Hang", "Hani"), "Hans": ("Hani",), "Hant": ("Hani",),
}
RTL = {"Arab", "Hebr"}

_RANGES: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x00D6, "Latn"), (0x00D8, 0x00F6, "Latn"),
    (0x00F8, 0x024F, "Latn"), (0x1E00, 0x1EFF, "Latn"), (0x2C60, 0x2C7F, "Latn"), (0xA720, 0xA7FF, "Latn"),
    (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"),
    (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"), (0x2DE0, 0x2DFF, "Cyrl"), (0xA640, 0xA69F, "Cyrl"),
    (0x0531, 0x058F, "Armn"), (0x0591, 0x05FF, "Hebr"), (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"), (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"), (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"), (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x0D80, 0x0DFF, "Sinh"), (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"), (0x1000, 0x109F, "Mymr"), (0x10A0, 0x10FF, "Geor"), (0x1200, 0x139F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"),
    (0x1100, 0x11FF, "Hang"), (0x3130, 0x318F, "Hang"), (0xAC00, 0xD7AF, "Hang"),
    (0x3041, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"), (0xFF66, 0xFF9F, "Kana"),
    (0x2E80, 0x2FDF, "Hani"), (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"), (0xF900, 0xFAFF, "Hani"),
    (0x20000, 0x3FFFF, "Hani"),
    (0x2600, 0x27BF, "Zsye"), (0x1F000, 0x1FAFF, "Zsye"),
])
_STARTS = [r[0] for r in _RANGES]


def script_of(ch: str) -> str | None:
    """The ISO 15924 script of a character, or None for common ones (digits, punctuation,
    spaces, combining marks) that take the script of the text around them."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and _RANGES[i][0] <= cp <= _RANGES[i][1]:
        if unicodedata.category(ch) in ("Mn", "Me"):
            return None
        return _RANGES[i][2]
    return None


def check_name(value: str, known, what: str, listing: str) -> str:
    """``value`` if it is one of ``known``, else ValueError: ``unknown <what> 'x'; did you mean 'y'?
    <listing>: a, b, c``."""
    if value not in known:
        import difflib

        close = difflib.get_close_matches(value, list(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown {what} {value!r}; {hint}{listing}: {', '.join(known)}")
    return value


def check_script_code(code: str) -> str:
    return check_name(code, SCRIPT_NAMES, "script code", "use an ISO 15924 code")


def is_drawn(ch: str) -> bool:
    """False for characters that are not drawn as glyphs (spaces, controls, format marks)."""
    return unicodedata.category(ch) not in ("Zs", "Zl", "Zp", "Cc", "Cf")


def text_direction(text: str) -> str:
    """``rtl`` when the first strong character is Arabic or Hebrew, else ``ltr``."""
    for ch in text:
        s = script_of(ch)
        if s is not None:
            return "rtl" if s in RTL else "ltr"
    return "ltr"


RTL_LANGUAGES = {"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"}


def paragraph_direction(text: str, locale: str | None = None) -> str:
    """The direction a block of copy is set in: ``rtl`` for a right-to-left language (Arabic,
    Hebrew, Persian, Urdu...) whatever its first word, else from its first strong character."""
    if locale and locale.split("-")[0].lower() in RTL_LANGUAGES:
        return "rtl"
    return text_direction(text)


def bidi_levels(text: str, direction: str) -> list[int]:
    """Embedding levels of ``text``'s characters in a paragraph of ``direction`` (the Unicode
    bidi algorithm without explicit embeddings: strong types W1–W7, neutrals N1–N2, levels I1–I2):
    even levels run left to right, odd right to left."""
    base = 1 if direction == "rtl" else 0
    classes = [unicodedata.bidirectional(ch) for ch in text]
    n = len(classes)
    for i in range(1, n - 1):  # W4: one separator between two numbers joins them
        if classes[i] in ("ES", "CS") and classes[i - 1] == classes[i + 1] == "EN":
            classes[i] = "EN"
        elif classes[i] == "CS" and classes[i - 1] == classes[i + 1] == "AN":
            classes[i] = "AN"
    for i in range(n):  # W5: terminators (%, currency signs) next to a number belong to it
        if classes[i] == "ET":
            j = i
            while j < n and classes[j] == "ET":
                j += 1
            if (i > 0 and classes[i - 1] == "EN") or (j < n and classes[j] == "EN"):
                for m in range(i, j):
                    classes[m] = "EN"
    kinds: list[str] = []
    last_strong = "R" if base else "L"
    for b in classes:
        if b == "L":
            k = last_strong = "L"
        elif b in ("R", "AL"):
            k = last_strong = "R"
        elif b in ("EN", "AN"):
            k = "L" if (b == "EN" and last_strong == "L") else "N#"  # W7; otherwise a number
        elif b == "NSM" and kinds:
            k = kinds[-1]
        else:
            k = "N"
        kinds.append(k)
    # neutrals: the direction of the strong types on both sides when they agree (numbers count as R)
    resolved = list(kinds)
    i = 0
    while i < len(kinds):
        if kinds[i] != "N":
            i += 1
            continue
        j = i
        while j < len(kinds) and kinds[j] == "N":
            j += 1
        before = ("R" if kinds[i - 1] == "N#" else kinds[i - 1]) if i > 0 else ("R" if base else "L")
        after = ("R" if kinds[j] == "N#" else kinds[j]) if j < len(kinds) else ("R" if base else "L")
        fill = before if before == after else ("R" if base else "L")
        for m in range(i, j):
            resolved[m] = fill
        i = j
    out = []
    for k in resolved:
        if base == 0:
            out.append(0 if k == "L" else 1 if k == "R" else 2)
        else:
            out.append(1 if k == "R" else 2)
    return out


def visual_runs(runs: Sequence[tuple[str, str]], direction: str) -> list[tuple[str, str, str]]:
    """``(font, text, direction)`` segments of a line in the order they are drawn, left to right:
    ``runs`` (font, text in logical order) are cut where the bidi level changes and reordered by
    rule L2; each segment is shaped by raqm in its own direction."""
    text = "".join(t for _, t in runs)
    levels = bidi_levels(text, direction)
    segs: list[tuple[str, str, int]] = []
    i = 0
    for font, run in runs:
        for ch in run:
            lv = levels[i]
            i += 1
            if segs and segs[-1][0] == font and segs[-1][2] == lv:
                segs[-1] = (font, segs[-1][1] + ch, lv)
            else:
                segs.append((font, ch, lv))
    if segs:
        top = max(s[2] for s in segs)
        low = min(s[2] for s in segs if s[2] % 2 == 1) if any(s[2] % 2 for s in segs) else top + 1
        for k in range(top, low - 1, -1):  # L2: reverse every maximal sequence at level ≥ k
            out: list[tuple[str, str, int]] = []
            j = 0
            while j < len(segs):
                if segs[j][2] >= k:
                    m = j
                    while m < len(segs) and segs[m][2] >= k:
                        m += 1
                    out.extend(reversed(segs[j:m]))
                    j = m
                else:
                    out.append(segs[j])
                    j += 1
            segs = out
    return [(f, s, "rtl" if lv % 2 else "ltr") for f, s, lv in segs]


# -- font files ------------------------------------------------------------------------------
class FontFileError(AssetkitError, ValueError):
    """A file named as a font is not a usable TrueType/OpenType font (a ValueError in validators;
    at run time, a font changed since validation: exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class FontFile:
    """A parsed font: its path and the code points its cmap maps to glyphs."""

    path: str
    family: str
    cmap: frozenset[int]

    def has(self, ch: str) -> bool:
        return ord(ch) in self.cmap


_cache: dict[tuple[str, int, int], FontFile] = {}
_lock = threading.Lock()


def regular_file(path: Path, what: str) -> os.stat_result:
    """``lstat`` of ``path``; FontFileError unless it is a regular file (not a link, folder, device)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise FontFileError(f"file not found: {what} (looked for {path})") from None
    except OSError as exc:
        raise FontFileError(f"cannot read {what} ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise FontFileError(f"{what} is a symbolic link; give the font file itself (a regular file)")
    if not stat.S_ISREG(st.st_mode):
        raise FontFileError(f"{what} is not a regular file")
    return st


def read_font(path: str | Path, what: str | None = None) -> FontFile:
    """Parse ``path`` as a TrueType/OpenType font (or collection: its first font) with fontTools
    and open it with FreeType from that very path. Cached by path, size and mtime."""
    path = Path(path)
    what = what or str(path)
    st = regular_file(path, what)
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    if st.st_size < 12:
        raise FontFileError(f"{what} is not a TrueType/OpenType font (only {st.st_size} bytes)")
    from fontTools.ttLib import TTFont

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        font = TTFont(str(path), lazy=True, fontNumber=0 if head == b"ttcf" else -1)
        try:
            missing = [t for t in ("cmap", "head", "hhea", "hmtx", "maxp") if t not in font]
            if missing:
                raise FontFileError(f"{what} is not a usable font: it has no {', '.join(missing)} table")
            if "glyf" not in font and "CFF " not in font and "CFF2" not in font:
                raise FontFileError(f"{what} is not a usable font: it has no outlines (glyf/CFF)")
            cmap = font.getBestCmap() or {}
            name = font["name"].getBestFamilyName() if "name" in font else None
        finally:
            font.close()
    except FontFileError:
        raise
    except Exception as exc:  # fontTools raises many kinds on garbage (TTLibError, struct.error, ...)
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise FontFileError(f"{what} is not a TrueType/OpenType font ({detail})") from None
    if not cmap:
        raise FontFileError(f"{what} is not a usable font: its cmap maps no characters")
    from PIL import ImageFont

    try:  # the FreeTypeFont constructor opens exactly this file (truetype() would search the system)
        ImageFont.FreeTypeFont(str(path), 12)
    except OSError as exc:
        raise FontFileError(f"{what} cannot be opened by FreeType ({exc})") from None
    info = FontFile(str(path), str(name or path.stem), frozenset(cmap))
    with _lock:
        _cache[key] = info
    return info


# -- stacks: a role's font plus per-script fonts ---------------------------------------------
@dataclass(frozen=True)
class FontStack:
    """The main font of a role and the kit's per-script fonts, in the kit's order. Hashable, so
    it keys font caches like a path does."""

    primary: str
    scripts: tuple[tuple[str, str], ...] = ()
    locale: str | None = None

    def __str__(self) -> str:  # what a message shows
        return self.primary

    def paths(self) -> list[str]:
        return [self.primary] + [p for _, p in self.scripts]

    def font_for(self, script: str | None) -> str | None:
        """The script font that draws ``script`` (None when the main font does)."""
        if script is None:
            return None
        claimants = [(k, p) for k, p in self.scripts if k == script or script in COVERS.get(k, ())]
        if not claimants:
            return None
        if len(claimants) > 1 and script == "Hani" and self.locale:
            pref = _han_preference(self.locale)
            for k, p in claimants:
                if k == pref:
                    return p
        return claimants[0][1]


def _han_preference(locale: str) -> str:
    lang = locale.split("-")[0]
    if lang == "ja":
        return "Jpan"
    if lang == "ko":
        return "Kore"
    if lang == "zh":
        return "Hant" if any(t in locale for t in ("Hant", "TW", "HK", "MO")) else "Hans"
    return "Hani"


def assign(text: str, stack: FontStack | str) -> list[tuple[str, str]]:
    """Split ``text`` into runs ``(font path, run text)``: characters of a script the kit has a
    font for go to that font; common characters (spaces, digits, punctuation) stay with the run
    they are in when its font has them, else go to the main font."""
    if isinstance(stack, str) or not stack.scripts:
        return [(str(stack), text)] if text else []
    keys: list[str] = []
    for ch in text:
        s = script_of(ch)
        keys.append("" if s is None else (stack.font_for(s) or stack.primary))
    # common characters: the previous run's font (the next one's at the start) if it has them
    prev: str = next((k for k in keys if k), stack.primary)
    for i, ch in enumerate(text):
        if keys[i] == "":
            if prev != stack.primary and is_drawn(ch) and not _has(prev, ch) and _has(stack.primary, ch):
                keys[i] = stack.primary
            else:
                keys[i] = prev
        else:
            prev = keys[i] or prev
    runs: list[tuple[str, str]] = []
    for k, ch in zip(keys, text):
        assert k is not None
        if runs and runs[-1][0] == k:
            runs[-1] = (k, runs[-1][1] + ch)
        else:
            runs.append((k, ch))
    return runs


def _has(path: str, ch: str) -> bool:
    try:
        return read_font(path).has(ch)
    except FontFileError:
        return False


def missing_glyphs(text: str, stack: FontStack | str) -> dict[str, list[str]]:
    """Characters of ``text`` that the font drawing them lacks: ``{font path: [chars]}``."""
    out: dict[str, list[str]] = {}
    for path, run in assign(text, stack):
        font = read_font(path)
        for ch in run:
            if is_drawn(ch) and not font.has(ch) and ch not in out.get(path, []):
                out.setdefault(path, []).append(ch)
    return out


def scripts_in(text: str) -> list[str]:
    """The scripts of ``text``'s characters, in order of first appearance."""
    seen: list[str] = []
    for ch in text:
        s = script_of(ch)
        if s is not None and s not in seen:
            seen.append(s)
    return seen


def suggest_script_key(scripts: Iterable[str]) -> str | None:
    """The ``fonts.scripts`` key to suggest for text in ``scripts``."""
    s = list(scripts)
    if any(x in ("Hira", "Kana") for x in s):
        return "Jpan"
    if "Hang" in s:
        return "Kore"
    return next((x for x in s if x != "Latn"), None)


def describe_chars(chars: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")
