"""Pipelines: ordered steps from YAML, validated per step, and the run that executes them."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from .brand import BrandKit
from .brief import Brief
from .errors import ConfigError, Problem
from .outroot import OutRoot
from .progress import Progress
from .steps import Step, step_class
from .threads import worker_started
from .yamlfile import YamlDoc, display_path, load_yaml, problems_from_validation

T = TypeVar("T")
R = TypeVar("R")

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
    params: Any
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
            cls = step_class(str(name))
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
            makers = sorted({n for n in ("generate", "reframe", "compose", "check", "export")
                             if set(step_class(n).outputs) & set(missing)})
            problems.append(doc.problem(("steps", i), f"step {cls.name!r} needs {', '.join(missing)}, made by "
                                        f"{' or '.join(makers)}: put that step before it", at_key=False))
        produced.update(cls.outputs)
    if declared and len(declared) == len(steps_raw) and not any(cls.name == "export" for _, cls in declared):
        problems.append(doc.problem(("steps",), "the pipeline has no 'export' step, so a run would write no "
                                    "assets and no manifest: add '- export: {}' as its last step"))
    if problems:
        raise ConfigError(problems)
    return Pipeline(name=str(data.get("name") or doc.path.stem), path=doc.path, steps=steps,
                    description=str(data.get("description") or ""))


@dataclass
class RunOptions:
    """How a run is carried out (not what it makes)."""

    out: Path = Path("out")
    jobs: int = 0  # 0 → number of CPUs
    force: bool = False
    model: str | None = None  # overrides brief/pipeline model
    generator: str | None = None  # 'draft' / 'diffusers' override
    allow_unsafe_weights: bool = False
    ledger: Path | None = None
    settings: Path | None = None
    record: bool = True  # write to the savings ledger
    stream: bool = True  # overlap later steps with generation (see runner.run_steps)
    show_checks: bool = False  # write checks/<asset>.png: what the checks measured, drawn over each asset
    locked: bool = False  # refuse to run when anything differs from OUT/CAMPAIGN/assetkit.lock


@dataclass
class RunContext:
    """Everything a step may read: the campaign's inputs, run options and the progress reporter."""

    brand: BrandKit
    brief: Brief
    pipeline: Pipeline
    options: RunOptions
    progress: Progress
    out_dir: Path  # <out>/<campaign>
    extras: dict[str, Any] = field(default_factory=dict)
    #: ``<out>/<campaign>``: every write, read and delete there goes through it (never a path)
    files: OutRoot = field(init=False)

    def __post_init__(self) -> None:
        self.files = OutRoot(self.options.out).sub(self.out_dir.name)

    @property
    def cache(self) -> OutRoot:
        """``<out>/<campaign>/.cache``: masters kept between runs."""
        return self.files.sub(".cache")

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / ".cache"

    @property
    def workers(self) -> int:
        return self.options.jobs or (os.cpu_count() or 1)

    def map(self, fn: Callable[[T], R], items: Iterable[T], label: str) -> list[R]:
        """Apply ``fn`` to ``items`` on ``--jobs`` threads (Pillow releases the GIL), with progress."""
        items = list(items)
        with self.progress.task(label, len(items)) as task:
            if self.workers <= 1 or len(items) <= 1:
                out = []
                for it in items:
                    out.append(fn(it))
                    task.advance()
                return out
            with ThreadPoolExecutor(max_workers=self.workers, initializer=worker_started) as pool:
                futures = [pool.submit(fn, it) for it in items]
                out = []
                for f in futures:
                    out.append(f.result())
                    task.advance()
                return out


def display(path: Path) -> str:
    return display_path(path)
