"""Pipelines: ordered steps from YAML, validated per step, and the run that executes them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .errors import ConfigError, Problem
from .steps import Step, get_step, step_names
from .yamlfile import YamlDoc, load_yaml, problems_from_validation

#: built-in pipelines: the repository's pipelines/ folder, shipped in the package through the
#: assetkit/pipelines link (so an installed wheel has them too)
BUILTIN_PIPELINES = Path(__file__).parent / "pipelines"


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
    data = doc.data
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ConfigError([doc.problem((), "a pipeline is a mapping with 'version' and 'steps'")])
    allowed = {"version", "name", "description", "steps"}
    for key in data:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(sorted(allowed))}"
            problems.append(doc.problem((key,), f"unknown key {key!r}{hint}", at_key=True))
    if data.get("version") != 1:
        problems.append(doc.problem(("version",), "missing required key 'version'" if "version" not in data
                                    else f"unsupported version {data.get('version')!r}; expected 1"))
    steps_raw = data.get("steps")
    steps: list[Step] = []
    declared: list[tuple[int, type[Step]]] = []
    if not isinstance(steps_raw, list) or not steps_raw:
        problems.append(doc.problem(("steps",), "expected a non-empty list of steps like '- generate: {}'"))
        steps_raw = []
    for i, item in enumerate(steps_raw):
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
            params = {} if params is None else params
        else:
            problems.append(doc.problem(("steps", i), "each step is one key, the step's name, with its params: "
                                        "'- compose: {cta: true}'"))
            continue
        try:
            cls = get_step(str(name))
        except ValueError as exc:
            problems.append(doc.problem(("steps", i, name) if isinstance(item, dict) else ("steps", i),
                                        str(exc), at_key=True))
            continue
        declared.append((i, cls))  # known steps, valid params or not: the order check needs them all
        try:
            from .yamlfile import to_plain

            p = cls.Params.model_validate(to_plain(params), context={"base_dir": doc.base_dir, "doc": doc})
        except ValidationError as exc:
            prefix = ("steps", i, name) if isinstance(item, dict) else ("steps", i)
            problems.extend(problems_from_validation(doc, exc, cls.Params, prefix=prefix))
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
    return Pipeline(name=str(data.get("name") or doc.path.stem), path=doc.path, steps=steps,
                    description=str(data.get("description") or ""))
