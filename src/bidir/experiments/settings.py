"""Experiment settings: each field's constraint is declared next to it, and checked when the config is built.

An experiment's ``Config`` is a :func:`settings` class (a pydantic dataclass, strict: no
silent conversions, no NaN or infinity) whose fields use the types below, so the check, the
error message and the documentation of a setting come from one line::

    @settings
    class Config:
        lr: Positive = 1e-4
        hidden: Sizes = (512,) * 7
        optimizer: Literal["sgd", "adam"] = "adam"

A constraint between settings is a ``@model_validator(mode="after")`` of the class that raises
``ValueError("bins (20) must be at most test_size (10): ...")``: its message names the settings.

:func:`build` fills it from the defaults, the quick overrides and the user's ``--set KEY=VALUE``
strings, before any data is loaded or any file is written; a bad value is one line that names
the setting as the user typed it (``--set lr=-1: must be greater than 0``).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Annotated, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from ..errors import InvalidInputError

__all__ = [
    "settings",
    "build",
    "Positive",
    "NonNegative",
    "Fraction",
    "PositiveInt",
    "NonNegativeInt",
    "Sizes",
    "NonEmpty",
    "Fractions",
    "Positives",
]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Sizes = Annotated[tuple[PositiveInt, ...], Field(min_length=1)]
NonEmpty = Field(min_length=1)  # a list of names that must name one at least: Annotated[tuple[Name, ...], NonEmpty]
Fractions = Annotated[tuple[Fraction, ...], Field(min_length=1)]
Positives = Annotated[tuple[Positive, ...], Field(min_length=1)]

_CONFIG = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid")


def settings(cls=None, /, **kwargs):
    """Make ``cls`` a checked settings class (a strict pydantic dataclass that ``dataclasses`` also knows)."""

    def wrap(c):
        return pydantic_dataclass(c, config=_CONFIG, **kwargs)

    return wrap if cls is None else wrap(cls)


def _is_text(annotation) -> bool:
    """Whether a field takes text (str or a Literal of strings): its ``--set`` value is used as typed."""
    if annotation is str:
        return True
    return typing.get_origin(annotation) is Literal and all(isinstance(a, str) for a in typing.get_args(annotation))


def parse(text: str, annotation):
    """A ``--set`` value as Python data: text fields keep it; others read JSON (``[1e-5, 2]``, ``["mnist"]``), else
    YAML's flow style as people type lists on a command line (``[mnist, cifar10]``, ``{a: 1}``; PyYAML's safe
    loader, which builds plain data only); lists become tuples. The field's strict type check comes after."""
    if _is_text(annotation):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        low = text.strip().lower()
        if low in _WORDS:
            return _WORDS[low]
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            return text  # not data: the type check names what the setting must be
        if not isinstance(value, list | dict):
            return text  # a YAML scalar would read "1e-5" as text and "0x10" as 16: keep what was typed
    return _tuples(value)


_WORDS = {"true": True, "false": False, "yes": True, "no": False}


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_PLAIN = {
    "tuple_type": "must be a list, e.g. [1, 2] or [mnist, cifar10]",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be text",
    "finite_number": "must be a finite number",
}


def _message(error: dict) -> str:
    if error["type"] in _PLAIN:
        return _PLAIN[error["type"]]
    if error["type"] == "too_short":
        return f"must hold at least {error['ctx']['min_length']} item(s)"
    msg = error["msg"]
    if error["type"] == "value_error":  # a validator's own sentence
        return msg.removeprefix("Value error, ")
    msg = msg.removeprefix("Input should be ")
    return msg if msg.startswith(("must", "cannot", "is ")) else f"must be {msg}"


def build(config_cls: type, name: str, quick: dict, overrides: dict | None = None):
    """The config of experiment ``name``: defaults, then ``quick``, then the user's overrides (``--set`` strings,
    read by each field's type, or Python values, used as given)."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls, include_extras=True)
    values, typed = dict(quick), {}
    for key, text in (overrides or {}).items():
        if key not in fields:
            raise InvalidInputError(f"--set {key}=...: {name} has no setting {key!r}; settings: {', '.join(fields)}")
        if isinstance(text, str):  # from the command line: read it by the field's type
            typed[key] = f"--set {key}={text}"
            values[key] = parse(text, typing.get_args(hints[key])[0] if _annotated(hints[key]) else hints[key])
        else:  # from Python: used as given (lists as tuples)
            shown = json.dumps(text) if isinstance(text, list | tuple | int | float | bool) else repr(text)
            typed[key] = f"{key}={shown}"
            values[key] = _tuples(list(text)) if isinstance(text, list | tuple) else text
    try:
        return config_cls(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        if key:
            where = typed.get(key, f"{name} setting {key}")
        else:  # a constraint between settings (a model validator): name every setting the user gave
            where = ", ".join(typed.values()) or f"{name}'s settings"
        index = "".join(f"[{i}]" for i in error["loc"][1:])
        raise InvalidInputError(f"{where}: {'item ' + index + ' ' if index else ''}{_message(error)}") from None


def _annotated(hint) -> bool:
    return typing.get_origin(hint) is Annotated
