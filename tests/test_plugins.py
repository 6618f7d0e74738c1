"""Plugins: a step and a generator from another package, found through entry points.

The plugin package is written at test time with its ``*.dist-info/entry_points.txt`` (what
``pip install`` writes) into a folder put on ``sys.path``; importlib.metadata then finds it as
an installed distribution. A pipeline YAML names the plugin step and a brief's pipeline uses the
plugin generator, end to end through ``assetkit run``.
"""
from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from assetkit import generators, steps
from assetkit.cli import cli
from assetkit.plugins import GENERATORS, STEPS, load_entry_points

PLUGIN = '''
"""A tiny assetkit plugin: a frame step and a solid-colour generator."""
from PIL import Image, ImageDraw

from assetkit.generators.base import GeneratedImage, Generator, GeneratorConfig
from assetkit.steps.base import Step, StepParams


class FrameParams(StepParams):
    colour: str = "#FF00FF"
    """The frame's colour."""
    width: int = 6
    """The frame's width in pixels."""


class FrameStep(Step):
    name = "frame"
    description = "draw a coloured frame round every composed asset"
    Params = FrameParams
    inputs = ("composed",)

    def run(self, ctx, state):
        for composed in state.composed.values():
            w, h = composed.image.size
            ImageDraw.Draw(composed.image).rectangle((0, 0, w - 1, h - 1), outline=self.params.colour,
                                                     width=self.params.width)


class SolidConfig(GeneratorConfig):
    colour: str = "#00C000"
    """The colour of every master."""


class SolidGenerator(Generator):
    name = "solid"
    Config = Options = SolidConfig

    def fingerprint(self):
        return {"generator": "solid", "colour": self.config.colour}

    def generate(self, requests, progress=None):
        return [GeneratedImage(Image.new("RGB", (r.width, r.height), self.config.colour),
                               params={"generator": "solid"}) for r in requests]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """``acme_plugin`` installed as a distribution (entry points included) for this test only."""
    site = tmp_path / "site"
    (site / "acme_plugin").mkdir(parents=True)
    (site / "acme_plugin" / "__init__.py").write_text(PLUGIN)
    info = site / "acme_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{STEPS}]
        frame = acme_plugin:FrameStep

        [{GENERATORS}]
        solid = acme_plugin:SolidGenerator
        """))
    monkeypatch.syspath_prepend(str(site))
    # the registries read entry points once per process: look again with the plugin installed
    for registry in (steps.REGISTRY, generators.REGISTRY):
        monkeypatch.setattr(registry, "_targets", dict(registry._targets))
        monkeypatch.setattr(registry, "_plugins_loaded", False)
    yield site
    sys.modules.pop("acme_plugin", None)


def test_entry_points_are_read_without_importing(plugin):
    assert load_entry_points(STEPS) == {"frame": "acme_plugin:FrameStep"}
    assert load_entry_points(GENERATORS) == {"solid": "acme_plugin:SolidGenerator"}
    assert "acme_plugin" not in sys.modules
    assert "frame" in steps.step_names() and "solid" in generators.generator_names()
    assert "acme_plugin" not in sys.modules  # listing names imports no plugin
    assert steps.get_step("frame").__module__ == "acme_plugin"


def _pipeline(workdir, name, generate, extra=""):
    path = workdir / "examples" / "spring-launch" / f"{name}.yaml"
    path.write_text(f"version: 1\nname: {name}\nsteps:\n  - generate: {generate}\n  - reframe: {{}}\n"
                    f"  - compose: {{}}\n{extra}  - check: {{}}\n  - export: {{}}\n")
    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text().replace("pipeline: social-campaign", f"pipeline: {name}.yaml")
    text = text.replace("variants: 2", "variants: 1").replace(  # a small run: one variant, three formats
        "  - meta-portrait\n  - meta-story\n  - meta-landscape\n  - iab-medium-rectangle\n", "")
    brief.write_text(text.replace("  - iab-half-page\n  - iab-wide-skyscraper\n", ""))
    return brief


def _assets(out):
    return sorted(p for p in out.rglob("*.png") if "contact-sheet" not in p.name and ".cache" not in p.parts)


def test_a_pipeline_names_the_plugin_step(workdir, plugin):
    brief = _pipeline(workdir, "framed", "{}", "  - frame: {colour: '#FF00FF', width: 5}\n")
    result = CliRunner().invoke(cli, ["run", str(brief), "--no-ledger", "--out", "out", "--json"])
    assert result.exit_code == 0, result.output
    assets = _assets(workdir / "out")
    assert assets
    for path in assets:
        px = np.asarray(Image.open(path).convert("RGB"))
        assert (px[0, :] == (255, 0, 255)).all() and (px[:, -1] == (255, 0, 255)).all(), path


def test_a_brief_uses_the_plugin_generator(workdir, plugin):
    brief = _pipeline(workdir, "solid", "{generator: solid, colour: '#00C000'}")
    result = CliRunner().invoke(cli, ["run", str(brief), "--no-ledger", "--out", "out", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(next((workdir / "out").rglob("manifest.json")).read_text())
    assert manifest["generator"]["name"] == "solid"
    squares = [p for p in _assets(workdir / "out") if p.parent.name == "meta-square"]  # a full-bleed layout
    assert squares
    for path in squares:
        px = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
        colours, counts = np.unique(px, axis=0, return_counts=True)
        assert tuple(colours[counts.argmax()]) == (0, 192, 0), path  # the master shows round the copy


def test_an_unknown_generator_option_is_an_error(workdir, plugin):
    brief = _pipeline(workdir, "solid", "{generator: solid, colour: '#00C000', grain: 3}")
    result = CliRunner().invoke(cli, ["validate", str(brief)])
    assert result.exit_code == 2 and "grain" in result.output
