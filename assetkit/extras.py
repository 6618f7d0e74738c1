"""Optional parts of assetkit and the pip extra that installs each.

The core install (``pip install assetkit``) makes draft proofs, keeps the ledger and writes the
report. A diffusion model needs ``pip install 'assetkit[diffusion]'``; asking for one without it
is a one-line error naming that extra (exit code 2), never an ImportError. Modules are looked up
without importing them, so asking costs nothing.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from .errors import AssetkitError

#: extra → the top-level modules it provides that assetkit needs
EXTRAS: dict[str, tuple[str, ...]] = {
    "diffusion": ("torch", "diffusers", "transformers", "huggingface_hub", "safetensors"),
    "ray": ("ray",),
    "review": ("starlette", "uvicorn"),
}


class MissingExtraError(AssetkitError):
    """A feature was asked for whose optional dependencies are not installed."""

    exit_code = 2


def missing(extra: str, modules: Sequence[str] | None = None) -> list[str]:
    """The modules of ``extra`` (or just ``modules`` of it) that cannot be imported here."""
    gone = []
    for name in modules or EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            gone.append(name)
    return gone


def require(extra: str, what: str, modules: Sequence[str] | None = None) -> None:
    """Raise :class:`MissingExtraError` (one line: what, which extra, the pip command) unless
    every module ``what`` needs from ``extra`` is installed."""
    gone = missing(extra, modules)
    if gone:
        raise MissingExtraError(f"{what} needs the [{extra}] extra, which is not installed (no {', '.join(gone)}); "
                                f"install it with: pip install 'assetkit[{extra}]'")
