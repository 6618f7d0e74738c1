"""What a pipeline step is: typed params, declared inputs/outputs, and ``run(ctx, state)``."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..config_base import StrictModel

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import RunContext
    from ..state import RunState


class StepParams(StrictModel):
    """Base of every step's params model: unknown keys are errors."""


class Step:
    """A pipeline step. Subclasses set ``name``, ``Params``, ``inputs``, ``outputs``, ``description``.

    ``inputs``/``outputs`` name fields of :class:`RunState`; a pipeline is checked before it
    runs so that every input is produced by an earlier step.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[StepParams]] = StepParams
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()
    #: True when ``run`` only touches ``state.pending`` jobs whose inputs are ready: the runner
    #: may then call it once per batch of masters while the model makes the next batch.
    streamable: ClassVar[bool] = True

    def __init__(self, params: StepParams):
        self.params = params

    def fingerprint(self) -> dict:
        """What about this step changes the outputs (its params by default)."""
        return {"step": self.name, **self.params.model_dump(mode="json")}

    def run(self, ctx: RunContext, state: RunState) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self, ctx: RunContext, state: RunState) -> None:
        """Called once after every ``run`` of the run (e.g. contact sheets over all assets)."""
