"""Errors that bidir raises on purpose, and input checks used at public boundaries.

Every public function validates its arguments once, at the entry, with a message that
names the argument and what was expected; the inner code then trusts its inputs.
"""
from __future__ import annotations

import torch

__all__ = ["BidirError", "InvalidInputError", "DatasetError", "ChecksumError", "as_patterns"]

CODINGS = ("bipolar", "binary")


class BidirError(Exception):
    """Base class of every error bidir raises deliberately (the CLI prints these cleanly)."""


class InvalidInputError(BidirError, ValueError):
    """An argument has the wrong shape, type, value set or is not finite."""


class DatasetError(BidirError, OSError):
    """A dataset file is missing, truncated, malformed or cannot be fetched."""


class ChecksumError(DatasetError):
    """A dataset file's checksum differs from the published one."""


def check_coding(coding: str) -> str:
    if coding not in CODINGS:
        raise InvalidInputError(f"coding must be one of {CODINGS}, got {coding!r}")
    return coding


def off_value(coding: str) -> float:
    """The 'off' state of a threshold neuron: -1 (bipolar) or 0 (binary)."""
    return -1.0 if coding == "bipolar" else 0.0


def as_patterns(
    value,
    name: str,
    *,
    dim: int | None = None,
    coding: str | None = "bipolar",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Validate and convert patterns to a float tensor of shape (batch, dim).

    A 1-D input is one pattern and becomes a batch of one. ``coding`` checks the value set
    ({-1, 1} for bipolar, {0, 1} for binary); ``None`` only requires finite values.
    """
    try:
        t = torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array or tensor: {exc}") from None
    if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in _INT_DTYPES):
        raise InvalidInputError(f"{name} must hold numbers, got dtype {t.dtype}")
    if t.dim() == 1:
        t = t.unsqueeze(0)
    if t.dim() != 2:
        raise InvalidInputError(
            f"{name} must have shape (batch, size) or (size,), got shape {tuple(t.shape)}"
        )
    if t.numel() == 0:
        raise InvalidInputError(f"{name} is empty (shape {tuple(t.shape)}): give at least one pattern")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    if dim is not None and t.shape[-1] != dim:
        raise InvalidInputError(
            f"{name} has patterns of length {t.shape[-1]}, expected {dim} (the field size)"
        )
    if coding is not None:
        check_coding(coding)
        allowed = (-1.0, 1.0) if coding == "bipolar" else (0.0, 1.0)
        bad = (t != allowed[0]) & (t != allowed[1])
        if bad.any():
            example = t[bad].flatten()[0].item()
            raise InvalidInputError(
                f"{name} must be {coding} (values {allowed[0]:g} or {allowed[1]:g}); "
                f"found {int(bad.sum())} other value(s), e.g. {example:g}"
            )
    return t.to(dtype)


def check_finite_tensor(value, name: str, *, shape: tuple | None = None, dtype=torch.float32, device=None):
    """Convert to a float tensor, checking finiteness and (where given) the shape (None: any size)."""
    try:
        t = torch.as_tensor(value, dtype=dtype, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array or tensor: {exc}") from None
    if shape is not None and (t.dim() != len(shape) or any(s is not None and s != n for s, n in zip(shape, t.shape))):
        raise InvalidInputError(f"{name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return t


def check_positive_int(value, name: str, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidInputError(f"{name} must be at most {maximum}, got {value}")
    return value


def check_fraction(value, name: str) -> float:
    if not isinstance(value, (int, float)) or not (0.0 <= float(value) <= 1.0):
        raise InvalidInputError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)
