"""Pipelines: ordered steps from YAML, validated per step, and the run that executes them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, field_validator

from .config_base import StrictModel
from .context import RunContext, RunOptions  # noqa: F401  (they lived here: old imports keep working)
from .errors import ConfigError, Problem
from .steps import Step, get_step, step_names
from .yamlfile import YamlDoc, load_yaml, problems_from_validation

#: built-in pipelines: the repository's pipelines/ folder, shipped in the package through the
#: assetkit/pipelines link (so an installed wheel has them too)
BUILTIN_PIPELINES = Path(__file__).parent / "pipelines"


def _step_entry(item: Any) -> tuple[str, Any]:
    """``- name`` or ``- name: {params}`` → ``(name, params)`` (the params are the step's own
    model's to validate)."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        name, params = next(iter(item.items()))
        return str(name), {} if params is None else params
    raise ValueError("each step is one key, the step's name, with its params: '- compose: {cta: true}'")


def _valid_entries(raw: Any) -> list[tuple[str, Any] | None]:
    """The step entries of a pipeline whose spec failed, None where an entry itself is bad."""
    out: list[tuple[str, Any] | None] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            out.append(_step_entry(item))
        except ValueError:
            out.append(None)
    return out


class PipelineSpec(StrictModel):
    """A pipeline file: what it is called and its steps in order, each validated by its own step."""

    version: Any = Field(None, validate_default=True)
    """Format version of the file: 1."""
    name: str | None = None
    """The pipeline's name (the file's name without .yaml otherwise)."""
    description: str = ""
    """One line on what the pipeline makes."""
    steps: list[Annotated[Any, AfterValidator(_step_entry)]] = Field(None, validate_default=True)
    """The steps in order: ``- generate: {}``, ``- reframe: {panel: 0.4}``, … (``assetkit steps`` lists them)."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_1(cls, v: Any) -> Any:
        if v is None:
            raise ValueError("missing required key 'version'")
        if v != 1 or isinstance(v, bool):
            raise ValueError(f"unsupported version {v!r}; expected 1")
        return v

    @field_validator("steps", mode="before")
    @classmethod
    def _non_empty(cls, v: Any) -> Any:
        if not isinstance(v, list) or not v:
            raise ValueError("expected a non-empty list of steps like '- generate: {}'")
        return v


@dataclass
class Pipeline:
    """A validated pipeline: its name, where it came from and its step instances in order."""

    name: str
    path: Path
    steps: list[Step]
    description: str = ""

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


def builtin_pipelines() -> dict[str, Path]:
    """Pipelines shipped with assetkit (``pipelines/*.yaml``)."""
    return {p.stem: p for p in sorted(BUILTIN_PIPELINES.glob("*.yaml"))}


def find_pipeline(ref: str, base_dir: Path | None = None) -> Path:
    """A pipeline by path (relative to ``base_dir``) or built-in name."""
    if ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref:
        p = Path(ref)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        return p
    builtins = builtin_pipelines()
    if ref in builtins:
        return builtins[ref]
    raise ValueError(f"unknown pipeline {ref!r}; built-in pipelines: {', '.join(builtins) or 'none'} "
                     "(or give a path to a .yaml file)")


def load_pipeline(path: str | Path) -> Pipeline:
    """Load a pipeline YAML: ``version``, ``name``, ``description`` and ``steps``.

    Every step's params are validated by that step's own model; all problems are reported.
    """
    doc = load_yaml(path)
    return pipeline_from_doc(doc)


def pipeline_from_doc(doc: YamlDoc) -> Pipeline:
    problems: list[Problem] = []
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "a pipeline is a mapping with 'version' and 'steps'")])
    try:
        spec = PipelineSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(doc, exc, PipelineSpec))
        spec = PipelineSpec.model_construct(steps=_valid_entries(doc.data.get("steps")))
    steps: list[Step] = []
    declared: list[tuple[int, type[Step]]] = []
    raw = doc.data.get("steps")
    steps_raw: list = raw if isinstance(raw, list) else []
    for i, entry in enumerate(spec.steps):
        if entry is None:  # not a step entry: reported by PipelineSpec
            continue
        name, params = entry
        item = steps_raw[i]
        try:
            cls = get_step(str(name))
        except ValueError as exc:
            problems.append(doc.problem(("steps", i, name) if isinstance(item, dict) else ("steps", i),
                                        str(exc), at_key=True))
            continue
        declared.append((i, cls))  # known steps, valid params or not: the order check needs them all
        try:
            from .yamlfile import to_plain

            raw = to_plain(params)
            model = cls.params_model(raw)
            p = model.model_validate(raw, context={"base_dir": doc.base_dir, "doc": doc})
        except ValidationError as exc:
            prefix = ("steps", i, name) if isinstance(item, dict) else ("steps", i)
            problems.extend(problems_from_validation(doc, exc, model, prefix=prefix))
            continue
        steps.append(cls(p))
    produced: set[str] = set()
    valid = {type(step) for step in steps}
    for i, cls in declared:  # a step whose params failed is not checked, but what it makes counts
        missing = [x for x in cls.inputs if x not in produced]
        if missing and cls in valid:
            makers = sorted({n for n in step_names() if set(get_step(n).provides) & set(missing)})
            problems.append(doc.problem(("steps", i), f"step {cls.name!r} needs {', '.join(missing)}, made by "
                                        f"{' or '.join(makers)}: put that step before it", at_key=False))
        produced.update(cls.provides)
    if declared and len(declared) == len(steps_raw) and not any(cls.name == "export" for _, cls in declared):
        problems.append(doc.problem(("steps",), "the pipeline has no 'export' step, so a run would write no "
                                    "assets and no manifest: add '- export: {}' as its last step"))
    if problems:
        raise ConfigError(problems)
    return Pipeline(name=spec.name or doc.path.stem, path=doc.path, steps=steps, description=spec.description)
