"""``assetkit validate``: check any assetkit YAML file without running anything."""
from __future__ import annotations

import importlib
from pathlib import Path

from .errors import ConfigError
from .yamlfile import load_yaml

#: extra file kinds other modules can validate: kind → ("module:function", detector keys)
EXTRA_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "quote": ("assetkit.quotes:load_quotes", ("agency", "lines")),
    "settings": ("assetkit.settings:load_settings", ("internal_hourly_rate", "human_minutes", "compute", "fx",
                                                    "review", "delivery")),
}


def detect_kind(path: Path, data) -> str:
    """brand / brief / pipeline (or a registered extra kind) from the file's keys."""
    if isinstance(data, dict):
        if "steps" in data:
            return "pipeline"
        if "palette" in data:
            return "brand"
        if "campaign" in data or "concepts" in data:
            return "brief"
        for kind, (_, keys) in EXTRA_KINDS.items():
            if any(k in data for k in keys):
                return kind
    if path.name == "brand.yaml":
        return "brand"
    raise ConfigError.single(path, "cannot tell what this file is: a brand kit has 'palette', a brief "
                             "'campaign', a pipeline 'steps', a quote 'agency' and 'lines', settings "
                             "'internal_hourly_rate'")


def validate_file(path: str | Path) -> str:
    """Validate one file; raises ConfigError with every problem; returns its kind."""
    from .brand import load_brand
    from .campaign import load_campaign
    from .pipeline import load_pipeline

    path = Path(path)
    if path.is_dir() and (path / "brand.yaml").exists():
        path = path / "brand.yaml"
    if path.suffix.lower() == ".csv":  # CSV files are quotes (rate cards)
        from .quotes import load_quotes

        load_quotes(path)
        return "quote"
    doc = load_yaml(path)
    kind = detect_kind(path, doc.data)
    if kind == "brand":
        load_brand(path)
    elif kind == "brief":
        load_campaign(path)
    elif kind == "pipeline":
        load_pipeline(path)
    else:
        target, _ = EXTRA_KINDS[kind]
        module, fn = target.split(":")
        getattr(importlib.import_module(module), fn)(path)
    return kind
