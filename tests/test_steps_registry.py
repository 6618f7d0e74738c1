"""The step registry is the single list of step names; steps from elsewhere register into it."""
from __future__ import annotations

from typing import ClassVar

import pytest

from assetkit import steps
from assetkit.steps import Step, StepParams, get_step, register_step, step_names


class StampParams(StepParams):
    label: str = "proof"
    """Text the step records in the manifest."""


class StampStep(Step):
    """A step from "another package": records every composed asset's key, and the manifest size."""

    name: ClassVar[str] = "stamp"
    description: ClassVar[str] = "record the composed assets"
    Params = StampParams
    inputs = ("composed",)
    seen: ClassVar[list] = []

    def run(self, ctx, state):
        StampStep.seen.extend(j.key for j in state.pending if j.key in state.composed)

    def finalize(self, ctx, manifest):
        StampStep.seen.append(("manifest", len(manifest["assets"])))


@pytest.fixture
def stamp(monkeypatch):
    monkeypatch.setattr(steps, "REGISTRY", steps.REGISTRY.copy())
    StampStep.seen = []
    register_step("stamp", StampStep)
    return StampStep


def test_builtin_steps_in_pipeline_order():
    assert step_names()[:5] == ["generate", "reframe", "compose", "check", "export"]
    assert all(get_step(n).name == n for n in step_names())


def test_registered_step_is_listed_and_resolved(stamp):
    assert step_names()[-1] == "stamp" and get_step("stamp") is StampStep
    register_step("stamp", StampStep)  # the same target again: a no-op


def test_a_name_is_registered_once(stamp):
    with pytest.raises(ValueError, match="'stamp' is already registered"):
        register_step("stamp", "elsewhere.module:Stamp")
    with pytest.raises(ValueError, match="calls itself 'stamp'"):
        register_step("other", StampStep)
    with pytest.raises(TypeError, match="not a subclass"):
        register_step("thing", dict)  # type: ignore[arg-type]


def test_a_plugin_step_runs_in_a_pipeline(stamp, tmp_path):
    from assetkit.pipeline import load_pipeline

    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"
                 "  - stamp: {label: x}\n  - export: {}\n")
    pipe = load_pipeline(p)
    assert [s.name for s in pipe.steps] == ["generate", "reframe", "compose", "stamp", "export"]
    assert pipe.step("stamp").params == StampParams(label="x")
    p.write_text("version: 1\nsteps:\n  - stamp: {}\n")
    from assetkit.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_pipeline(p)
    assert "needs composed, made by compose: put that step before it" in str(info.value)


@pytest.mark.parametrize("stream", [True, False])
def test_the_runner_asks_steps_not_names(stamp, workdir, stream):
    """A plugin step between compose and export streams with them and gets the manifest."""
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    brief = workdir / "examples" / "spring-launch" / "brief.yaml"
    text = brief.read_text().replace("variants: 2", "variants: 1")
    brief.write_text(text.replace("  - meta-portrait\n  - meta-story\n  - meta-landscape\n", ""))
    (workdir / "p.yaml").write_text("version: 1\nsteps:\n  - generate: {}\n  - reframe: {}\n  - compose: {}\n"
                                    "  - stamp: {}\n  - export: {contact_sheet: false}\n")
    result = run_brief(brief, RunOptions(out=workdir / "out", record=False, stream=stream), pipeline="p.yaml")
    keys = [a["key"] for a in result.manifest["assets"]]
    assert result.manifest["streamed"] is stream and len(keys) == 20
    assert sorted(StampStep.seen[:-1]) == sorted(keys) and StampStep.seen[-1] == ("manifest", 20)
    assert "stamp" in result.manifest["timings"]


def test_pipeline_file_is_validated_by_its_model_every_problem_at_once(tmp_path):
    from assetkit.errors import ConfigError
    from assetkit.pipeline import load_pipeline

    p = tmp_path / "p.yaml"
    p.write_text("version: 2\nnmae: x\nsteps:\n  - generate: {}\n  - [reframe]\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline(p)
    assert sorted(str(x).split("p.yaml:")[1] for x in info.value.problems) == [
        "1:10: version: unsupported version 2; expected 1",
        "2:1: nmae: unknown key 'nmae'; did you mean 'name'?",
        "5:5: steps[1]: each step is one key, the step's name, with its params: '- compose: {cta: true}'"]
    p.write_text("name: x\nsteps: []\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline(p)
    assert [x.message for x in info.value.problems] == [
        "missing required key 'version'", "expected a non-empty list of steps like '- generate: {}'"]


def test_steps_json_lists_every_parameter_with_its_description():
    import json

    from click.testing import CliRunner

    from assetkit.cli import cli

    result = CliRunner().invoke(cli, ["steps", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [s["name"] for s in data] == step_names()
    params = {s["name"]: {p["name"]: p for p in s["params"]} for s in data}
    assert params["compose"]["align"] == {"name": "align", "type": "Literal['left', 'center']", "required": False,
                                          "default": "left", "description": "Text alignment (full and tower layouts)."}
    assert [(s, p) for s, ps in params.items() for p, v in ps.items() if not v["description"]] == []
    text = CliRunner().invoke(cli, ["steps"]).output
    assert "    panel = 0.38  Image panel share of a strip's width" in text
