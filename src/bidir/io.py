"""Files: atomic writes, JSON, training checkpoints, and models saved with their architecture.

Every file bidir writes goes through :func:`atomic_write` (a temporary file beside the
target, fsync, rename), so a crash leaves either the old file or the new one, never half
of one. Nothing here unpickles arbitrary objects: checkpoints load with
``weights_only=True`` and models are ``config.json`` + ``model.safetensors``.

    bidir.save(model, folder)    # config.json (class + constructor arguments) + model.safetensors
    model = bidir.load(folder)   # rebuilt from the config, tensors loaded; also a run's checkpoint.pt
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .errors import BidirError
from .validation import check_device

__all__ = [
    "atomic_write",
    "copy_atomic",
    "jsonable",
    "differing",
    "write_json_atomic",
    "write_text_atomic",
    "save_atomic",
    "load_checkpoint",
    "remove_stale_temporaries",
    "architecture",
    "build_model",
    "save_model",
    "load_model",
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "CHECKPOINT_FILE",
]

CONFIG_FILE, WEIGHTS_FILE, CHECKPOINT_FILE = "config.json", "model.safetensors", "checkpoint.pt"
_TMP_SUFFIX = ".tmp"


# -- atomic files ----------------------------------------------------------------------
def atomic_write(path, write, binary: bool = False) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync, then rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def copy_atomic(stream, path) -> Path:
    """Copy a binary stream into ``path`` atomically (downloads, archive members)."""
    atomic_write(path, lambda f: shutil.copyfileobj(stream, f), binary=True)
    return Path(path)


def write_text_atomic(path, text: str) -> None:
    """Write a text file atomically."""
    atomic_write(path, lambda f: f.write(text))


def remove_stale_temporaries(folder) -> list[Path]:
    """Delete the temporary files a killed write left in ``folder`` (``.NAME.*.tmp``); returns them."""
    stale = [p for p in Path(folder).glob(f".*{_TMP_SUFFIX}") if p.is_file()]
    for p in stale:
        p.unlink()
    return stale


def brief(value, width: int = 40) -> str:
    """``value`` as one line of JSON, cut to ``width`` characters with '...'."""
    text = json.dumps(jsonable(value))
    return text if len(text) <= width else text[: width - 3] + "..."


def differing(a, b, lists: bool = True, path: str = "") -> list[tuple[str, object, object]]:
    """``(path, a's value, b's value)`` wherever two JSON values differ: dicts key by key (``path.key``) and, with
    ``lists``, lists of one length item by item (``path[i]``); other values compared whole ("" at the top)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differing(a.get(k), b.get(k), lists, f"{path}.{k}" if path else str(k))]
    if lists and isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differing(x, y, lists, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def jsonable(value):
    """``value`` with tensors, arrays, tuples, paths and dtypes as JSON types (non-finite floats as strings)."""
    if isinstance(value, torch.Tensor | np.ndarray | np.generic):
        return jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path | torch.device):
        return str(value)
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    return value


def write_json_atomic(path, data) -> None:
    """Write JSON (sorted keys, indented; see :func:`jsonable`) atomically."""

    def dump(f):
        json.dump(jsonable(data), f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")

    atomic_write(path, dump)


# -- training checkpoints --------------------------------------------------------------
def save_atomic(obj, path) -> None:
    """torch.save to a temporary file in the same folder, then rename over ``path``."""
    atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def load_checkpoint(path, device="cpu") -> dict:
    """Load a checkpoint with ``weights_only=True`` (never unpickles arbitrary objects)."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which and why
        raise BidirError(f"cannot read checkpoint {path}: {exc}") from None


# -- models with their architecture ----------------------------------------------------
def architecture(model: torch.nn.Module) -> dict:
    """What rebuilds ``model``: its class (module and name) and its ``config`` (the constructor arguments)."""
    if not hasattr(model, "config") or not hasattr(type(model), "from_config"):
        raise BidirError(f"{type(model).__name__} does not follow bidir's model contract (no config / from_config)")
    return {
        "class": f"{type(model).__module__}:{type(model).__qualname__}",
        "config": model.config,
        "bidir": __version__,
    }


def _family(arch) -> tuple[type, str]:
    """The model family an architecture record names: one of bidir's own (never another module's class)."""
    from .module import BidirModule

    if not isinstance(arch, dict) or not isinstance(arch.get("class"), str):
        raise BidirError(f"not a bidir model description: {str(arch)[:200]}")
    module_name, _, name = arch["class"].partition(":")
    if module_name != "bidir" and not module_name.startswith("bidir."):
        raise BidirError(f"refusing to build {arch['class']}: only bidir's own model classes are loaded")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        raise BidirError(f"unknown model class {arch['class']} (saved by bidir {arch.get('bidir', '?')})") from None
    if not (isinstance(cls, type) and issubclass(cls, BidirModule)) or cls is BidirModule:
        raise BidirError(f"refusing to build {arch['class']}: not one of bidir's model families")
    return cls, name


def build_model(arch: dict, device=None) -> torch.nn.Module:
    """A fresh model from :func:`architecture`'s record. Only bidir's own model families are built, and only from
    a config that fits the family's constructor: a tampered record is an error naming what is wrong."""
    cls, name = _family(arch)
    config = arch.get("config")
    if not isinstance(config, dict):
        raise BidirError(f"the config of {name} must be a mapping of its constructor's arguments, got {config!r:.80}")
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())  # passed on to a template model
    unknown = [] if takes_any else sorted(set(config) - set(parameters) - {"self"})
    if unknown:
        raise BidirError(f"the config of {name} has arguments its constructor does not take: {unknown}")
    try:
        return cls.from_config(config, device=device)
    except BidirError as exc:
        raise BidirError(f"the config of {name} is not valid: {exc}") from None
    except TypeError as exc:
        raise BidirError(f"the config of {name} does not fit its constructor: {exc}") from None


def _load_state(model: torch.nn.Module, state: dict, source) -> torch.nn.Module:
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise BidirError(f"{source} holds NaN or infinite values in {', '.join(bad[:3])}: a diverged or damaged model")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise BidirError(f"{source} does not fit {type(model).__name__}: {' '.join(first[:3])[:400]}") from None
    return model


def _digest(arch: dict) -> str:
    """The sha256 of an architecture record as written: the weights file carries it, so an edited config.json
    (another coding, say, that would read the same weights otherwise) is found on loading."""
    return hashlib.sha256(json.dumps(jsonable(arch), sort_keys=True).encode()).hexdigest()


def save_model(model: torch.nn.Module, folder) -> Path:
    """Write ``folder/config.json`` (the architecture) and ``folder/model.safetensors`` (every tensor of the state,
    with the config's sha256 in its metadata)."""
    from safetensors.torch import save

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BidirError(f"cannot save into {folder}: it is a file, not a folder")
    arch = architecture(model)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"config_sha256": _digest(arch)}
    atomic_write(folder / WEIGHTS_FILE, lambda f: f.write(save(tensors, metadata=metadata)), binary=True)
    write_json_atomic(folder / CONFIG_FILE, arch)
    return folder


def load_model(path, device=None) -> torch.nn.Module:
    """Rebuild a model saved by :func:`save_model`, or the model of a Trainer checkpoint (a run folder or its
    ``checkpoint.pt``), on ``device`` (default: the CPU). The config must be the one saved with the weights, and
    the weights finite."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    device = check_device(device) or torch.device("cpu")
    if (path / CONFIG_FILE).is_file():
        try:
            arch = json.loads((path / CONFIG_FILE).read_text())
            state = load_file(path / WEIGHTS_FILE, device=str(device))
            with safe_open(path / WEIGHTS_FILE, framework="pt") as f:
                saved = (f.metadata() or {}).get("config_sha256")
        except (OSError, json.JSONDecodeError, SafetensorError) as exc:
            raise BidirError(f"cannot read the model in {path}: {exc}") from None
        _family(arch)  # a foreign class is refused as such, before anything else
        if saved is not None and saved != _digest(arch):
            raise BidirError(f"{path / CONFIG_FILE} was changed after the model was saved (its sha256 differs)")
        return _load_state(build_model(arch, device), state, path / WEIGHTS_FILE)
    checkpoint = path / CHECKPOINT_FILE if path.is_dir() else path
    if not checkpoint.is_file():
        raise BidirError(f"{path} holds no saved model ({CONFIG_FILE} + {WEIGHTS_FILE}) and no {CHECKPOINT_FILE}")
    state = load_checkpoint(checkpoint, device)
    arch = state.get("architecture") if isinstance(state, dict) else None
    if not arch:
        raise BidirError(f"{checkpoint} records no model architecture (written by an older bidir?)")
    prefix = arch.get("prefix", "")
    weights = {k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)}
    return _load_state(build_model(arch, device), weights, checkpoint)
