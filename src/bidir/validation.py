"""Every input check bidir makes, written once.

Public functions validate their arguments at the entry, through these helpers, with a
message that names the argument as the caller wrote it and what was expected; the inner
code then trusts its inputs. Each check returns the value it accepted (converted where
that is its job), so a check and its conversion are one line at the call site.

Scalars: :func:`check_choice`, :func:`check_number`, :func:`check_positive`,
:func:`check_positive_int`, :func:`check_fraction`, :func:`check_bool`, :func:`check_seed`,
:func:`check_fits` (a count against the data). Labels: :func:`check_every_class`.
Tensors: :func:`check_finite_tensor`, :func:`as_batch` (vectors), :func:`as_patterns`
(bipolar / binary states), :func:`as_images`, :func:`as_labels`.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable

import torch

from .errors import InvalidInputError

__all__ = [
    "CODINGS",
    "check_choice",
    "check_number",
    "check_positive",
    "check_positive_int",
    "check_sizes",
    "check_image_shape",
    "check_fraction",
    "check_fits",
    "check_every_class",
    "check_bool",
    "check_seed",
    "check_device",
    "check_float_dtype",
    "check_coding",
    "check_finite_tensor",
    "check_finite_loss",
    "memory_error",
    "check_memory",
    "check_layers_memory",
    "as_batch",
    "as_patterns",
    "as_images",
    "as_labels",
]

# the value sets of threshold-neuron states: (off, on)
CODINGS = {"bipolar": (-1.0, 1.0), "binary": (0.0, 1.0)}
_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


# -- scalars ---------------------------------------------------------------------------
def check_choice(value, name: str, options: Iterable):
    """``value`` if it is one of ``options``, else a clear error listing them."""
    options = tuple(options)
    if not isinstance(value, str | int | float | bool | None) or value not in options:
        raise InvalidInputError(f"{name} must be one of {options}, got {value!r}")
    return value


def _is_real(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.cache
def memory_bytes() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(elements: int, what: str, itemsize: int = 8) -> int:
    """Refuse what would need more memory than the machine has: ``elements`` numbers of ``itemsize`` bytes for
    ``what``. Checked before allocating, since the system may grant a huge allocation and kill the process only
    once it is touched (no error to catch then)."""
    need = elements * itemsize
    if need > memory_bytes():
        raise InvalidInputError(
            f"{what} would need {need / 2**30:.3g} GiB, more than this machine's {memory_bytes() / 2**30:.3g} GiB "
            "of memory; lower the sizes"
        )
    return elements


def check_layers_memory(channels, kernel: int, widths, copies: int = 1) -> None:
    """:func:`check_memory` for a network of convolutions (``channels``, from the input's, with ``kernel``) and
    dense layers (``widths``, from the flattened features), ``copies`` times (a decoder of its own, say)."""
    convs = sum(i * o for i, o in zip(channels[:-1], channels[1:], strict=True)) * kernel * kernel
    check_memory(copies * convs, f"channels {list(channels)} with kernel {kernel}")
    check_memory(
        copies * sum(i * o for i, o in zip(widths[:-1], widths[1:], strict=True)), f"dense layers {list(widths)}"
    )


def memory_error(exc: BaseException, what: str) -> InvalidInputError | None:
    """An allocation the machine could not make, as one line saying so about ``what`` (None: another error)."""
    text = str(exc)
    is_oom = isinstance(exc, MemoryError | torch.OutOfMemoryError)
    too_big = ("can't allocate memory", "Storage size calculation overflowed", "Overflow when unpacking long")
    if not is_oom and not (isinstance(exc, RuntimeError | TypeError) and any(s in text for s in too_big)):
        return None
    asked = re.search(r"allocate ([0-9]+) bytes", text)
    size = f" ({int(asked.group(1)) / 2**30:.3g} GiB in one tensor)" if asked else ""
    return InvalidInputError(f"{what} ask for more memory than this machine has{size}; lower the sizes")


def check_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within [low, high] (either end open, either absent); returns it as float."""
    ok = _is_real(value) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return float(value)
    if low is not None and high is not None:
        what = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low == 0 and low_open:
        what = "a positive number"
    elif low is not None:
        what = f"a number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        what = f"a number {'<' if high_open else '<='} {high:g}"
    else:
        what = "a finite number"
    raise InvalidInputError(f"{name} must be {what}, got {value!r}")


def check_positive(value, name: str) -> float:
    """A finite number > 0."""
    return check_number(value, name, low=0, low_open=True)


COUNT_LIMIT = 2**62  # no count bidir takes can reach it (torch's sizes are int64): beyond it, an error, not an overflow


def check_positive_int(value, name: str, *, maximum: int | None = None) -> int:
    """An int >= 1 (bools refused), at most ``maximum`` where given (and below 2^62 in any case)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r:.60}")
    limit = COUNT_LIMIT if maximum is None else min(maximum, COUNT_LIMIT)
    if value > limit:
        raise InvalidInputError(f"{name} must be at most {limit}, got {value}")
    return value


def check_sizes(value, name: str, *, at_least: int = 1) -> tuple[int, ...]:
    """A list or tuple of at least ``at_least`` positive integers (layer sizes, channels, an image shape)."""
    need = {0: "", 1: "at least one ", 2: "at least two "}.get(at_least, f"at least {at_least} ")
    if not isinstance(value, list | tuple) or len(value) < at_least:
        raise InvalidInputError(f"{name} must be a list of {need}positive integers, got {value!r:.60}")
    for i, n in enumerate(value):
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= COUNT_LIMIT:
            raise InvalidInputError(f"{name} must be a list of {need}positive integers; item {i} is {n!r:.40}")
    return tuple(value)


def check_fits(value: int, name: str, available: int, what: str) -> int:
    """A count the data can supply: ``value`` (of ``what``) at most ``available``, else an error giving the largest
    allowed value; never silently cut to the data."""
    if value > available:
        raise InvalidInputError(f"{name}={value} is more than the {available} {what}; use at most {available}")
    return value


def check_every_class(labels: torch.Tensor, classes: int, name: str) -> torch.Tensor:
    """Labels that hold every one of ``classes`` classes (a per-class measure needs one sample of each, at least)."""
    present = torch.unique(labels).numel()
    if present < classes:
        raise InvalidInputError(
            f"{name}: its {labels.numel()} samples hold {present} of the {classes} classes, and every class is needed "
            "(a class centroid, say); raise it"
        )
    return labels


def check_image_shape(value, name: str = "image_shape") -> tuple[int, int, int]:
    """(channels, height, width): three positive integers."""
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise InvalidInputError(f"{name} must be (channels, height, width), got {value!r:.60}")
    return check_sizes(value, name)


def check_fraction(value, name: str) -> float:
    """A number in [0, 1]."""
    return check_number(value, name, low=0, high=1)


def check_bool(value, name: str) -> bool:
    """True or False, nothing that merely converts to one."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}")
    return value


SEED_LIMIT = 2**63  # torch.manual_seed's and the checkpoints' int64


def check_seed(value, name: str = "seed") -> int:
    """A seed: an int in 0 .. 2^63 - 1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise InvalidInputError(f"{name} must be an integer in 0..2^63-1, got {value!r}")
    return value


def check_device(device, name: str = "device"):
    """None (the default device) or a torch device this machine has: 'cuda' without a GPU is an error here, not a
    traceback deep inside the first tensor op."""
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(f"{name} {str(device)!r}: this machine has no CUDA GPU; use 'cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InvalidInputError(f"{name} {str(device)!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    if dev.type not in ("cpu", "cuda"):
        raise InvalidInputError(f"{name} must be 'cpu' or 'cuda', got {device!r}")
    return dev


def check_float_dtype(dtype, name: str = "dtype") -> torch.dtype:
    """A floating torch dtype (models hold real weights: an integer dtype would truncate every update)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise InvalidInputError(
            f"{name} must be a floating dtype such as torch.float32 or torch.float64, got {dtype!r}"
        )
    return dtype


def check_coding(coding) -> str:
    """'bipolar' ({-1, 1} states) or 'binary' ({0, 1})."""
    return check_choice(coding, "coding", CODINGS)


# -- tensors ---------------------------------------------------------------------------
def check_finite_loss(loss: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """A loss computed from finite inputs that came out infinite or NaN: the inputs or the weights are too large
    for the dtype. One line that says so, instead of an infinite loss that training would chase."""
    if not bool(torch.isfinite(loss).all()):
        largest = max(float(i.detach().abs().max()) for i in inputs) if inputs else float("nan")
        raise InvalidInputError(
            f"the loss became {float(loss.detach().flatten()[0])}: the inputs (largest |value| {largest:.3g}) or the "
            f"weights are too large for {loss.dtype}; rescale the inputs, or lower the learning rate"
        )
    return loss


def _as_tensor(value, name: str, dtype=None, device=None) -> torch.Tensor:
    try:
        t = torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array or tensor: {exc}") from None
    if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in _INT_DTYPES):
        raise InvalidInputError(f"{name} must hold numbers, got dtype {t.dtype}")
    return t if dtype is None else t.to(dtype)


def _check_finite(t: torch.Tensor, name: str) -> torch.Tensor:
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return t


def check_finite_tensor(value, name: str, *, shape: tuple | None = None, dtype=torch.float32, device=None):
    """A finite float tensor on ``device``; ``shape`` checks the size (None entries: any)."""
    t = _as_tensor(value, name, dtype, device)
    if shape is not None and (
        t.dim() != len(shape) or any(s is not None and s != n for s, n in zip(shape, t.shape, strict=True))
    ):
        expected = tuple("batch" if s is None else s for s in shape)
        raise InvalidInputError(f"{name} must have shape {expected}, got {tuple(t.shape)}".replace("'", ""))
    return _check_finite(t, name)


def as_batch(value, name: str, dim: int | None = None, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """A batch of vectors (batch, dim): a 1-D input is one vector and becomes a batch of one.

    The error message shows the shape that was passed, not the reshaped one.
    """
    t = _as_tensor(value, name, dtype, device)
    given = tuple(t.shape)
    if t.dim() == 1:
        t = t.unsqueeze(0)
    if t.dim() != 2 or (dim is not None and t.shape[1] != dim):
        size = "size" if dim is None else dim
        raise InvalidInputError(f"{name} must have shape (batch, {size}) or ({size},), got shape {given}")
    if t.numel() == 0:
        raise InvalidInputError(f"{name} is empty (shape {given}): give at least one")
    return _check_finite(t, name)


def as_patterns(
    value,
    name: str,
    *,
    dim: int | None = None,
    coding: str | None = "bipolar",
    dtype: torch.dtype = torch.float32,
    device=None,
) -> torch.Tensor:
    """Patterns (batch, dim) whose values lie in the ``coding``'s set; ``coding=None`` only needs finite values."""
    t = _as_tensor(value, name, device=device)
    given = tuple(t.shape)
    if t.dim() == 1:
        t = t.unsqueeze(0)
    if t.dim() != 2:
        raise InvalidInputError(f"{name} must have shape (batch, size) or (size,), got shape {given}")
    if t.numel() == 0:
        raise InvalidInputError(f"{name} is empty (shape {given}): give at least one pattern")
    _check_finite(t, name)
    if dim is not None and t.shape[-1] != dim:
        raise InvalidInputError(f"{name} has patterns of length {t.shape[-1]}, expected {dim} (the field size)")
    if coding is not None:
        off, on = CODINGS[check_coding(coding)]
        bad = (t != off) & (t != on)
        if bad.any():
            example = t[bad].flatten()[0].item()
            raise InvalidInputError(
                f"{name} must be {coding} (values {off:g} or {on:g}); "
                f"found {int(bad.sum())} other value(s), e.g. {example:g}"
            )
    return t.to(dtype)


def as_images(value, name: str, shape: tuple[int, int, int], *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Images (batch, C, H, W) from that shape, flat rows (batch, C*H*W), (batch, H, W) when C = 1, or one image."""
    t = _as_tensor(value, name, dtype, device)
    given = tuple(t.shape)
    C, H, W = shape
    if t.dim() == 1 or (t.dim() == 3 and C > 1):
        t = t.unsqueeze(0)  # one image, flat or (C, H, W)
    if t.dim() == 2 and t.shape[1] == C * H * W:
        t = t.reshape(-1, C, H, W)
    if t.dim() == 3 and C == 1:
        t = t.unsqueeze(1)  # (batch, H, W) of one channel
    if t.dim() != 4 or tuple(t.shape[1:]) != tuple(shape):
        raise InvalidInputError(f"{name} must have shape (batch, {C}, {H}, {W}) or (batch, {C * H * W}), got {given}")
    return _check_finite(t, name)


def as_labels(value, name: str, classes: int, n: int | None = None, *, device=None) -> torch.Tensor:
    """Integer class labels in 0..classes-1, 1-D (of length ``n`` where given); an error names the bad value."""
    t = _as_tensor(value, name, device=device)
    t = t.reshape(1) if t.dim() == 0 else t
    expect = f"{n} integers" if n is not None else "integers"
    if t.dim() != 1 or (n is not None and t.shape[0] != n):
        raise InvalidInputError(f"{name} must be {expect} in 0..{classes - 1}, got shape {tuple(t.shape)}")
    if t.is_floating_point():
        raise InvalidInputError(f"{name} must be {expect} in 0..{classes - 1}, got floats (dtype {t.dtype})")
    bad = (t < 0) | (t >= classes)
    if bad.any():
        raise InvalidInputError(f"{name} must be {expect} in 0..{classes - 1}, got label {int(t[bad][0])}")
    return t.long()
