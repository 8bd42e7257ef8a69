"""The one conversion between frozen config dataclasses and plain dicts (JSON files, checkpoints).

``to_dict(config)`` gives nested dicts of plain values (tuples stay tuples; JSON writes them as
lists). ``from_dict(cls, d)`` undoes it whether ``d`` came through JSON or not: a field typed as
a dataclass is built from its dict, lists become tuples at any depth, a missing key takes the
field's default. Unknown keys are ignored: files written by older or newer code (a field added
or retired) still load, and files that carry more than the config (prep_config.json's ``photos``)
read as the config. Compare configs as dataclasses (``==``), not as JSON text.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def to_dict(config) -> dict:
    """A config dataclass (nested ones included) as a dict of plain values."""
    return dataclasses.asdict(config)


def from_dict(cls: type[T], d: Mapping[str, Any]) -> T:
    """Build the frozen config dataclass ``cls`` from ``d`` (see the module docstring). Raises
    TypeError when ``d`` is not a dict, or a value does not fit (the dataclass's own check)."""
    if not isinstance(d, Mapping):
        raise TypeError(f"{cls.__name__}: expected a dict, got {type(d).__name__}")
    hints = typing.get_type_hints(cls)  # resolves `from __future__ import annotations` strings
    return cls(**{f.name: _value(hints[f.name], d[f.name])
                  for f in dataclasses.fields(cls) if f.init and f.name in d})


def _value(tp, v):
    """``v`` as the field type ``tp`` wants it."""
    if v is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):  # e.g. `X | None`: the arm v's shape fits
        arm = next((a for a in args if _fits(a, v)), None)
        return _plain(v) if arm is None else _value(arm, v)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, v)  # raises unless v is a dict
    if origin is tuple and isinstance(v, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], x) for x in v)
        if len(args) == len(v):
            return tuple(_value(a, x) for a, x in zip(args, v, strict=True))
    return _plain(v)


def _fits(tp, v) -> bool:
    if dataclasses.is_dataclass(tp):
        return isinstance(v, Mapping)
    return typing.get_origin(tp) is tuple and isinstance(v, list | tuple)


def _plain(v):
    """Lists -> tuples at any depth (inside dicts too): a frozen config holds nothing mutable."""
    if isinstance(v, list | tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    return v
