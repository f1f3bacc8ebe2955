"""torchrun / DDP set-up: which process this is, and joining the process group."""

from __future__ import annotations

import atexit
import os

import torch
import torch.distributed as dist

__all__ = ["world", "is_main_process", "init_distributed"]


def world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) unless launched by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def is_main_process() -> bool:
    """Whether this is rank 0, the process that writes files."""
    return world()[0] == 0


def _leave() -> None:
    """Destroy the process group before the interpreter exits: a rank that exits with the group still up can abort
    in its gloo threads ("terminate called without an active exception") and fail the whole torchrun launch. No
    barrier: a rank leaving on an error must not wait for ranks that are still training."""
    if dist.is_initialized():
        dist.destroy_process_group()


def init_distributed(device: torch.device) -> torch.device:
    """Join the torchrun process group if there is one (gloo on CPU, nccl on CUDA); returns this rank's device."""
    rank, size = world()
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(_leave)
    if device.type == "cuda" and size > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device
