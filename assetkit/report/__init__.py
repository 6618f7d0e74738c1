"""The savings report for management, in one package.

``build`` reads the ledger (only through :mod:`assetkit.ledger.rollups`) into the figures of
``model``; ``view`` turns them into the localised strings (``i18n``) and ``charts`` that
``html``, ``pdf`` and ``tabular`` (Markdown, CSV, JSON) print. Renderers format, they never
compute, so every format prints the same figures.
"""
from .build import CAUSES, FORMATS, build_and_render, build_report, cause_of, iter_entry_lines, render

__all__ = ["CAUSES", "FORMATS", "build_and_render", "build_report", "cause_of", "iter_entry_lines", "render"]
