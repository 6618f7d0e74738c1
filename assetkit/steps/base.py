"""What a pipeline step is: typed params, declared inputs and what it provides, and hooks the
runner calls (``run``, ``finish``, ``finalize``, ``close``) — the runner asks a step, it never
checks a step's name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..config_base import StrictModel

if TYPE_CHECKING:  # pragma: no cover
    from ..context import RunContext
    from ..state import RunState


class StepParams(StrictModel):
    """Base of every step's params model: unknown keys are errors, field docstrings are help."""


class Step:
    """A pipeline step. Subclasses set ``name``, ``Params``, ``inputs``, ``provides`` and
    ``description`` and implement :meth:`run`.

    ``inputs``/``provides`` name fields of :class:`~assetkit.state.RunState`; a pipeline is
    checked before it runs so that every input is provided by an earlier step.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[StepParams]] = StepParams
    inputs: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()
    #: True when ``run`` only touches ``state.pending`` jobs whose inputs are ready: the runner
    #: may then call it once per batch of masters while the model makes the next batch.
    streamable: ClassVar[bool] = True
    #: True for a step that makes masters in batches and hands each on through
    #: ``ctx.on_masters`` (set by the runner when the later steps can stream).
    source: ClassVar[bool] = False

    def __init__(self, params: StepParams):
        self.params = params

    @classmethod
    def params_model(cls, raw: Any = None) -> type[StepParams]:
        """The model that validates this step's YAML params ``raw`` (``Params`` unless the
        params themselves decide, like the generate step's ``generator``)."""
        return cls.Params

    def fingerprint(self, ctx: RunContext) -> dict:
        """What about this step changes the outputs (its params by default)."""
        return {"step": self.name, **self.params.model_dump(mode="json")}

    def run(self, ctx: RunContext, state: RunState) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self, ctx: RunContext, state: RunState) -> None:
        """Called once after every ``run`` of the run (e.g. contact sheets over all assets)."""

    def finalize(self, ctx: RunContext, manifest: dict) -> None:
        """Called once with the run's manifest, after ``finish`` (e.g. write it to disk)."""

    def close(self, ctx: RunContext) -> None:
        """Called once at the very end of the run, whether it failed or not (free resources)."""
