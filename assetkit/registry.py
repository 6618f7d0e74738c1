"""Names → classes for the things YAML names (steps, generators): built-in ones by
``"module:Class"`` (imported only when used), others registered by plugins; an unknown name
fails listing the known ones."""
from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """The single list of ``kind`` names; each resolves to a subclass of ``base``.

    ``check(name, cls)`` vets a class when it is first resolved; ``load_plugins()`` runs once,
    before the first lookup (the call point for a plugin entry-point group)."""

    def __init__(self, kind: str, base: type, builtin: dict[str, str],
                 check: Callable[[str, type[T]], None] | None = None,
                 load_plugins: Callable[[], None] | None = None):
        self.kind, self.base = kind, base
        self._targets: dict[str, str | type[T]] = dict(builtin)
        self._check = check
        self._load_plugins = load_plugins
        self._plugins_loaded = load_plugins is None

    def register(self, name: str, target: str | type[T]) -> None:
        """Make ``target`` (a class or its ``"module:Class"``) known as ``name``; a name can be
        registered once (registering the same target again is a no-op)."""
        current = self._targets.get(name)
        if current is not None and describe(current) != describe(target):
            raise ValueError(f"{self.kind} {name!r} is already registered ({describe(current)}); "
                             f"cannot register {describe(target)} under the same name")
        if not isinstance(target, str):
            self._vet(name, target)
        self._targets[name] = target

    def names(self) -> list[str]:
        """Every registered name: the built-in ones first, then plugins'."""
        self._plugins()
        return list(self._targets)

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``; ValueError listing the known names otherwise."""
        self._plugins()
        if name not in self._targets:
            close = difflib.get_close_matches(name, self._targets, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}; {hint}known {self.kind}s: {', '.join(self._targets)}")
        target = self._targets[name]
        if isinstance(target, str):
            module, attr = target.split(":")
            target = getattr(importlib.import_module(module), attr)
            self._vet(name, target)
            self._targets[name] = target
        return target

    def _vet(self, name: str, cls: type[T]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{self.kind} {name!r}: {cls!r} is not a subclass of "
                            f"{self.base.__module__}.{self.base.__qualname__}")
        if self._check is not None:
            self._check(name, cls)

    def _plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            assert self._load_plugins is not None
            self._load_plugins()

    def copy(self) -> Registry[T]:
        """A registry with the same entries (tests register into a copy)."""
        other: Registry[T] = Registry(self.kind, self.base, {}, self._check)
        other._targets = dict(self._targets)
        return other


def describe(target: str | type) -> str:
    """``"module:Class"`` of a registered target."""
    return target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"
