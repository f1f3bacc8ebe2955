"""Seeds: every random stream of a run derived from its one seed by name, never by magic offsets.

``derive_seed(seed, "search")`` and ``derive_seed(seed, "batches", epoch)`` are independent
streams of the same run; the same (seed, names) always give the same stream, on any machine
(a cryptographic hash, not Python's per-process ``hash``).
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch

__all__ = ["derive_seed", "generator", "seed_everything"]


def derive_seed(seed: int, *names) -> int:
    """A 63-bit seed for the stream ``names`` (strings or ints) of run ``seed``."""
    key = ":".join(str(part) for part in (seed, *names)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1


def generator(seed: int, *names, device=None) -> torch.Generator:
    """A fresh torch generator for stream ``names`` of run ``seed`` (no names: the seed itself)."""
    return torch.Generator(device=device or "cpu").manual_seed(derive_seed(seed, *names) if names else seed)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
