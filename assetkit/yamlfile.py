"""YAML 1.2 files → pydantic models, with every problem reported as ``file:line:col: loc: msg``.

ruamel.yaml keeps the line and column of every node; pydantic reports a ``loc`` path for each
error. Walking the ``loc`` through the loaded tree gives the position to print.
"""
from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, FieldError, Problem

M = TypeVar("M", bound=BaseModel)


def display_path(path: str | Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    if rel == ".." or rel.startswith(".." + os.sep):  # outside the working directory: say where
        return str(path.absolute()) if path.is_absolute() else os.path.normpath(path.absolute())
    return rel


def format_loc(loc: tuple | list) -> str:
    """``('concepts', 2, 'prompt')`` → ``concepts[2].prompt``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class YamlDoc:
    """A loaded YAML file: its path, parsed tree (ruamel round-trip nodes) and positions."""

    def __init__(self, path: Path, data: Any):
        self.path = Path(path)
        self.data = data

    @property
    def name(self) -> str:
        return display_path(self.path)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def position(self, loc: tuple | list) -> tuple[int | None, int | None, tuple]:
        """1-based (line, col) of the node at ``loc`` (or its nearest existing parent).

        Also returns the part of ``loc`` that exists in the file, so messages name real keys.
        """
        node = self.data
        line, col = (1, 1) if node is not None else (None, None)
        found: list = []
        loc = list(loc)
        for i, part in enumerate(loc):
            last = i == len(loc) - 1
            if isinstance(node, dict) and not isinstance(part, int) and part in node:
                lc = getattr(node, "lc", None)
                if lc is not None:
                    try:
                        l0, c0 = lc.key(part) if last and _key_position_wanted(node[part]) else lc.value(part)
                    except (KeyError, TypeError):
                        l0, c0 = lc.key(part)
                    line, col = l0 + 1, c0 + 1
                node = node[part]
                found.append(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                lc = getattr(node, "lc", None)
                if lc is not None:
                    l0, c0 = lc.item(part)
                    line, col = l0 + 1, c0 + 1
                node = node[part]
                found.append(part)
            elif isinstance(node, dict) and isinstance(part, str) and not last:
                # pydantic inserts union/tag names into loc; skip what the file does not have
                continue
            else:
                found.append(part)
                break
        return line, col, tuple(found)

    def problem(self, loc: tuple | list, message: str, at_key: bool = False) -> Problem:
        """A Problem pointing at ``loc``; ``at_key`` points at the key rather than its value."""
        loc = tuple(loc)
        if at_key and loc:
            line, col = self._key_pos(loc)
        else:
            line, col, _ = self.position(loc)
        return Problem(self.name, line, col, format_loc(loc), message)

    def _key_pos(self, loc: tuple) -> tuple[int | None, int | None]:
        line, col, found = self.position(loc[:-1])
        parent = self.data
        for part in found:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return line, col
        lc = getattr(parent, "lc", None)
        if isinstance(parent, dict) and lc is not None and loc[-1] in parent:
            l0, c0 = lc.key(loc[-1])
            return l0 + 1, c0 + 1
        return line, col


def _key_position_wanted(value: Any) -> bool:
    # A mapping/sequence value sits on the next line: point at its key instead.
    return isinstance(value, (dict, list)) or value is None


#: Limits checked while a YAML file is read (before anything is built from it).
MAX_DEPTH = 64  # nested mappings/lists
MAX_ALIAS_NODES = 10_000  # nodes that aliases (``*name``) would add when expanded
MAX_INT_DIGITS = 100  # longer integers are refused (Python refuses 4,300 digits with a traceback)
MAX_YAML_BYTES = 1024 * 1024  # ~7 s of ruamel round-trip loading; our files are a few kB


def _check_limits(yaml: Any, text: str, name: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or whose aliases expand past
    MAX_ALIAS_NODES, from the parser's events (nothing is built, so a bomb costs microseconds
    per event), with the position of the node that crosses the limit."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

    sizes: dict[str, int] = {}  # anchor → nodes its value stands for, aliases expanded
    stack: list[list] = []  # open collections: [anchor, nodes so far]
    from_aliases = 0
    for event in yaml.parse(text):
        if isinstance(event, CollectionEndEvent):
            anchor, count = stack.pop()
            if anchor:
                sizes[anchor] = count
            if stack:
                stack[-1][1] += count
            continue
        if not isinstance(event, NodeEvent):
            continue
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            n = sizes.get(event.anchor, 1)
            from_aliases += n
            if from_aliases > MAX_ALIAS_NODES:
                raise ConfigError([Problem(name, mark.line + 1, mark.column + 1, "",
                                           f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (*{event.anchor} "
                                           "here); write the values out or use fewer nested aliases")])
            if stack:
                stack[-1][1] += n
            continue
        if isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise ConfigError([Problem(name, mark.line + 1, mark.column + 1, "",
                                           f"nested more than {MAX_DEPTH} levels deep")])
            stack.append([event.anchor, 1])
            continue
        if event.anchor:  # an anchored scalar
            sizes[event.anchor] = 1
        if stack:
            stack[-1][1] += 1


def _strict_yaml():
    """A round-trip YAML loader whose ints, floats and timestamps fail with a position."""
    import math

    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor

    class StrictConstructor(RoundTripConstructor):
        """Records each refused value (all of a file's, at once) and builds None in its place."""

        found: list

        def refuse(self, node, message: str) -> None:
            self.__dict__.setdefault("found", []).append((node.start_mark, message))

        def construct_yaml_int(self, node):
            digits = sum(c.isdigit() for c in str(node.value))
            if digits > MAX_INT_DIGITS:
                return self.refuse(node, f"a whole number of {digits:,} digits is too large "
                                         f"(at most {MAX_INT_DIGITS} digits)")
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node):
            value = super().construct_yaml_float(node)
            if not math.isfinite(value):
                return self.refuse(node, f"{str(node.value)!r} is not a finite number (.nan and .inf are not accepted)")
            return value

        def construct_yaml_timestamp(self, node, values=None):
            try:
                return super().construct_yaml_timestamp(node, values)
            except (ValueError, OverflowError) as exc:
                return self.refuse(node, f"{str(node.value)!r} is not a valid date or time ({exc})")

    for tag, fn in (("int", StrictConstructor.construct_yaml_int), ("float", StrictConstructor.construct_yaml_float),
                    ("timestamp", StrictConstructor.construct_yaml_timestamp)):
        StrictConstructor.add_constructor(f"tag:yaml.org,2002:{tag}", fn)
    yaml = YAML(typ="rt")
    yaml.Constructor = StrictConstructor
    yaml.allow_duplicate_keys = False
    return yaml


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_yaml(path: str | Path) -> YamlDoc:
    """Parse a YAML 1.2 file; syntax errors and duplicate keys become a ConfigError.

    The file must be a regular file of at most MAX_YAML_BYTES; nesting deeper than MAX_DEPTH,
    aliases expanding past MAX_ALIAS_NODES, integers over MAX_INT_DIGITS digits, .nan/.inf and
    impossible dates are refused with their ``file:line:col`` before anything is built.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    from .files import InputFileError, read_input

    path = Path(path)
    name = display_path(path)
    try:
        raw = read_input(path, MAX_YAML_BYTES, name)
    except InputFileError as exc:
        short = "is a folder, expected a YAML file" if exc.short == "is a folder, expected a file" else exc.short
        raise ConfigError.single(name, short) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
        raise ConfigError([Problem(name, line, col, "",
                                   f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    yaml = _strict_yaml()
    try:
        _check_limits(YAML(typ="rt"), text, name)
        data = yaml.load(text)
    except ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        what = "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"
        raise ConfigError([Problem(name, line, col, "", f"{what} is not allowed in YAML text")]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in msg or type(exc).__name__ == "DuplicateKeyError":
            key = _duplicate_key_name(exc)
            msg = f"duplicate key {key!r}" if key else "duplicate key"
        at_line = mark.line + 1 if mark else None
        at_col = mark.column + 1 if mark else None
        raise ConfigError([Problem(name, at_line, at_col, "", f"YAML syntax error: {msg}")]) from None
    except YAMLError as exc:
        raise ConfigError.single(name, f"YAML syntax error: {exc}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps the composer far from the limit
        raise ConfigError.single(name, f"nested more than {MAX_DEPTH} levels deep") from None
    refused = yaml.constructor.__dict__.get("found", [])
    if refused:
        raise ConfigError([Problem(name, m.line + 1, m.column + 1, format_loc(_path_at(data, m.line, m.column)), msg)
                           for m, msg in refused])
    if data is None:
        data = {}
    return YamlDoc(path, data)


def _path_at(node: Any, line: int, col: int, path: tuple = ()) -> tuple:
    """The key path of the value that starts at 0-based ``line``:``col`` (() when none does)."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return ()
    if isinstance(node, dict):
        items = [(k, v, lc.value(k)) for k, v in node.items()]
    elif isinstance(node, list):
        items = [(i, v, lc.item(i)) for i, v in enumerate(node)]
    else:
        return ()
    for key, value, at in items:
        try:
            if tuple(at) == (line, col):
                return path + (key,)
        except TypeError:
            pass
        if isinstance(value, (dict, list)):
            found = _path_at(value, line, col, path + (key,))
            if found:
                return found
    return ()


def _duplicate_key_name(exc: Exception) -> str | None:
    import re

    m = re.search(r'found duplicate key "([^"]*)"', str(exc))
    return m.group(1) if m else None


def to_plain(node: Any) -> Any:
    """ruamel round-trip nodes → plain dicts/lists/scalars (pydantic validates plain data)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if hasattr(node, "__class__") and node.__class__.__module__.startswith("ruamel"):
        for base in (bool, int, float, str):
            if isinstance(node, base):
                return base(node)
    return node


def validate(doc: YamlDoc, model: type[M], context: dict | None = None, data: Any = None) -> M:
    """Validate ``doc`` (or ``data`` located in it) against ``model``; all problems at once."""
    ctx = {"base_dir": doc.base_dir, "doc": doc}
    ctx.update(context or {})
    raw = to_plain(doc.data if data is None else data)
    try:
        return model.model_validate(raw, context=ctx)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(doc, exc, model)) from None


def problems_from_validation(doc: YamlDoc, exc: ValidationError, model: type[BaseModel],
                             prefix: tuple = ()) -> list[Problem]:
    problems: list[Problem] = []
    seen: set = set()
    for err in exc.errors(include_url=False):
        loc = prefix + error_loc(err)
        _, _, found = doc.position(loc)
        clean = _clean_loc(doc, loc)
        etype = err["type"]
        msg = _message(err)
        if clean and clean[-1] == "[key]":  # a dict key failed its validation: point at the key
            problem = doc.problem(clean[:-1], msg, at_key=True)
        elif etype == "extra_forbidden":
            problem = doc.problem(clean, _unknown_key_message(model, clean[len(prefix):], clean[-1]), at_key=True)
        elif etype == "missing":
            problem = doc.problem(clean[:-1], f"missing required key {clean[-1]!r}")
            problem = Problem(problem.file, problem.line, problem.col, format_loc(clean), problem.message)
        else:
            problem = doc.problem(clean, msg)
        key = (problem.line, problem.col, problem.loc, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


def error_loc(err: Mapping[str, Any]) -> tuple:
    """Where a pydantic error is: its ``loc``, and for a cross-field check's
    :class:`~assetkit.errors.FieldError` the field it names (not the model it ran on)."""
    raised = (err.get("ctx") or {}).get("error")
    return tuple(err["loc"]) + (raised.loc if isinstance(raised, FieldError) else ())


def _clean_loc(doc: YamlDoc, loc: tuple) -> tuple:
    """Drop pydantic's union-member and validator names that are not keys of the file."""
    out: list = []
    node = doc.data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
                continue
            wrapper = isinstance(part, str) and (
                "[" in part or "-" in part and part.startswith(("function", "tagged", "literal")))
            if wrapper and not last:
                continue
            out.append(part)
            node = None
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(part, str) and "[" in part and not last:
            continue
        else:
            out.append(part)
            node = None
    return tuple(out)


def _message(err: Mapping[str, Any]) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    etype = err["type"]
    inp = err.get("input")
    if etype in {"int_parsing", "int_type", "float_parsing", "float_type", "bool_parsing", "bool_type",
                 "string_type", "dict_type", "list_type", "model_type", "model_attributes_type"}:
        kind = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
                "dict": "a mapping (key: value)", "list": "a list",
                "model": "a mapping (key: value)"}[etype.split("_")[0]]
        if etype == "string_type" and isinstance(inp, (int, float)) and not isinstance(inp, bool):
            return (f"expected text, got the number {_show(inp)} (YAML reads an unquoted 0x100, 1e3 or 0777 as a "
                    "number: put the text in quotes)")
        return f"expected {kind}, got {_show(inp)}"
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if etype in bounds:
        words, key = bounds[etype]
        return f"must be {words} {err.get('ctx', {}).get(key)}, got {_show(inp)}"
    if etype == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{_show(inp)} is not one of {expected}"
    if etype == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{_show(inp)} is not one of {expected}"
    return msg


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


#: keys that only a person at the command line may set: a shared file must not switch them on
COMMAND_LINE_ONLY = {
    "allow_unsafe_weights": "--allow-unsafe-weights",
}


def _unknown_key_message(model: type[BaseModel], loc: tuple, key: Any) -> str:
    if key in COMMAND_LINE_ONLY:
        return (f"{key!r} is accepted only on the command line ({COMMAND_LINE_ONLY[key]}), never from a file: "
                "pickle weights can run code, and a shared file must not switch that refusal off")
    valid = _valid_keys(model, loc[:-1])
    msg = f"unknown key {key!r}"
    if valid:
        close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
        if close:
            return f"{msg}; did you mean {close[0]!r}?"
        return f"{msg}; valid keys: {', '.join(sorted(valid))}"
    return msg


def _valid_keys(model: Any, loc: tuple) -> list[str]:
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if isinstance(part, str) and part in current.model_fields:
                current = current.model_fields[part].annotation
                continue
            field = next((f for n, f in current.model_fields.items() if f.alias == part), None)
            if field is None:
                return []
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (list, tuple) and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    """Optional[X] / Annotated[X, ...] / X | None → X (first model member of a union)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else members[0]
            continue
        return tp


def load_model(path: str | Path, model: type[M], context: dict | None = None) -> tuple[M, YamlDoc]:
    """Load and validate a YAML file in one call."""
    doc = load_yaml(path)
    return validate(doc, model, context), doc
