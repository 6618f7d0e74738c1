"""Exceptions. The library raises these; the CLI maps them to messages and exit codes once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AssetkitError(Exception):
    """Base of every error assetkit reports to a user (never shown as a traceback)."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One problem in a file: where it is and what is wrong."""

    file: str
    line: int | None  # 1-based
    col: int | None  # 1-based
    loc: str  # field path like ``concepts[2].prompt`` ('' for the whole file)
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.loc}: {self.message}" if self.loc else f"{where}: {self.message}"


class FieldError(ValueError):
    """A cross-field check's error about one field: raised in a model validator, it is reported
    at ``loc`` (relative to the model being validated) rather than at the model's own position.

    ``FieldError(("concepts", 2, "id"), "concept ids must be unique; repeated: a")``"""

    def __init__(self, loc: tuple[str | int, ...], message: str):
        self.loc = tuple(loc)
        super().__init__(message)


class ConfigError(AssetkitError):
    """A user's file (brand kit, brief, pipeline, settings, quote) is invalid.

    Carries every problem found in the file, so a user fixes them all in one go.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, message: str, loc: str = "", line: int | None = None,
               col: int | None = None) -> ConfigError:
        return cls([Problem(str(file), line, col, loc, message)])


class UsageError(AssetkitError):
    """A command was called with arguments that cannot work (bad --out, unknown name...)."""

    exit_code = 2


class ModelError(AssetkitError):
    """A model cannot be found, loaded or run (with a hint on what to do)."""

    exit_code = 2


class StepError(AssetkitError):
    """A pipeline step failed on valid input (e.g. a check found off-brand output)."""

    exit_code = 1
