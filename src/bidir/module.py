"""The one model contract every bidir model family follows.

A family is a :class:`BidirModule` (a ``torch.nn.Module``) whose constructor takes
``dtype``, ``device`` and, where it draws random numbers, a ``seed``; ``forward`` (input to
output) and, where it runs backward, ``backward_pass`` (output to input through the same
synapses) accept one sample or a batch and move it to the model's device; everything that
changes its behaviour lives in its ``state_dict``.

The constructor's arguments are recorded as they were bound, so :attr:`BidirModule.config`
is exactly what rebuilds the model (``type(model).from_config(model.config)``), as
JSON-able data, with the dtype the model has now; ``repr`` shows it, and
:func:`bidir.save` / :func:`bidir.load` write and read it beside the tensors.
"""

from __future__ import annotations

import functools
import inspect

import torch
from torch import nn

from .errors import InvalidInputError
from .validation import check_device, check_float_dtype, check_seed, memory_error

__all__ = ["BidirModule", "parse_dtype"]

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}
_RUNTIME = ("device", "generator")  # where and how a model was made, not what it is


def parse_dtype(value) -> torch.dtype:
    """A torch floating dtype from itself or its name ('float32', 'torch.float64')."""
    from .validation import check_choice

    if isinstance(value, torch.dtype):
        return value
    return _DTYPES[check_choice(str(value).removeprefix("torch."), "dtype", _DTYPES)]


def _bind(cls, signature, self, args, kw) -> inspect.BoundArguments:
    """The constructor's arguments bound to its parameters (defaults applied); a wrong one is a clear error."""
    try:
        bound = signature.bind(self, *args, **kw)
    except TypeError as exc:
        raise InvalidInputError(f"{cls.__name__}: {exc}") from None
    bound.apply_defaults()
    return bound


def _sized(value) -> bool:
    """Whether an argument can size a tensor (an int, or a list of them): what a memory error names."""
    if isinstance(value, list | tuple):
        return bool(value) and all(isinstance(v, int) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class BidirModule(nn.Module):
    """Base class of the model families: records its constructor arguments as :attr:`config`."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            bound = _bind(cls, signature, self, args, kw)
            if bound.arguments.get("device") is not None:  # every family: checked before anything is built
                check_device(bound.arguments["device"])
            if "dtype" in bound.arguments:
                check_float_dtype(parse_dtype(bound.arguments["dtype"]))
            if bound.arguments.get("seed") is not None:
                check_seed(bound.arguments["seed"])
            try:
                init(self, *args, **kw)
            except (MemoryError, RuntimeError, TypeError) as exc:
                shown = ", ".join(f"{k}={v!r:.40}" for k, v in list(bound.arguments.items())[1:] if _sized(v))
                error = memory_error(exc, f"{cls.__name__}({shown})")
                if error is None:
                    raise
                raise error from None
            arguments = dict(list(bound.arguments.items())[1:])
            for name, p in signature.parameters.items():
                if p.kind is p.VAR_KEYWORD:
                    arguments.update(arguments.pop(name))
            # the outermost constructor finishes last, so its arguments are the ones kept
            object.__setattr__(self, "_init_arguments", arguments)

        cls.__init__ = recording_init

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the model's tensors."""
        for t in (*self.parameters(), *self.buffers()):
            if t.is_floating_point():
                return t.dtype
        return torch.get_default_dtype()

    @property
    def device(self) -> torch.device:
        """The device of the model's tensors."""
        for t in (*self.parameters(), *self.buffers()):
            return t.device
        return torch.device("cpu")

    @property
    def config(self) -> dict:
        """The constructor arguments (JSON-able), with the current dtype: ``from_config(config)`` rebuilds the model."""
        out = {k: _plain(v) for k, v in self._init_arguments.items() if k not in _RUNTIME}
        if "dtype" in out:
            out["dtype"] = _plain(self.dtype)
        return out

    @classmethod
    def from_config(cls, config: dict, device=None):
        """A new model from :attr:`config` (its tensors freshly initialised), on ``device``."""
        config = dict(config)
        if "dtype" in config:
            config["dtype"] = parse_dtype(config["dtype"])
        if "device" in inspect.signature(cls.__init__).parameters:
            config["device"] = device
        model = cls(**config)
        return model if device is None else model.to(device)

    def extra_repr(self) -> str:
        """The config, long values abbreviated."""
        parts = []
        for k, v in self.config.items():
            text = repr(v)
            parts.append(f"{k}={text if len(text) <= 60 else text[:57] + '...'}")
        return ", ".join(parts)
