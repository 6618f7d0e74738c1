"""The code's shape: steps never import each other, and the campaign imports no step."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "assetkit"
STEP_MODULES = {p.stem for p in (PKG / "steps").glob("*.py")} - {"__init__", "base"}


def imported_modules(path: Path) -> set[str]:
    """Absolute dotted names of every module ``path`` imports (relative imports resolved)."""
    package = ["assetkit", *path.relative_to(PKG).parent.parts]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_steps_do_not_import_each_other():
    for name in STEP_MODULES:
        others = {f"assetkit.steps.{o}" for o in STEP_MODULES - {name}}
        assert not imported_modules(PKG / "steps" / f"{name}.py") & others, name


def test_campaign_imports_no_step():
    steps = {f"assetkit.steps.{o}" for o in STEP_MODULES}
    assert not imported_modules(PKG / "campaign.py") & steps
