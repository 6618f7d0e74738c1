"""A small finished campaign for the review tests: 2 concepts × 1 variant × 3 formats × 2 locales
(12 assets, draft generator), made once per test process and copied for every test."""
from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["iab-medium-rectangle", "iab-leaderboard", "400x400"]


def write_brief(folder: Path, headline_de: str | None = None) -> Path:
    """The example brief cut down to 12 small assets (brand kit copied beside it)."""
    if not (folder / "brand" / "nordlicht").exists():
        shutil.copytree(ROOT / "brand" / "nordlicht", folder / "brand" / "nordlicht")
    yaml = YAML()
    brief = yaml.load((ROOT / "examples" / "spring-launch" / "brief.yaml").read_text())
    brief["brand"] = "brand/nordlicht"
    brief["variants"] = 1
    brief["formats"] = list(FORMATS)
    if headline_de:
        brief["copy"]["de-DE"]["headline"] = headline_de
    path = folder / "brief.yaml"
    with open(path, "w") as fh:
        yaml.dump(brief, fh)
    return path


def make_campaign(folder: Path, headline_de: str | None = None) -> Path:
    """Run the small brief into ``folder/out``; returns the campaign folder."""
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    brief = write_brief(folder, headline_de)
    result = run_brief(brief, RunOptions(out=folder / "out", record=False, jobs=1))
    return Path(result.out_dir)
