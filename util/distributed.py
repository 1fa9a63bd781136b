"""Processes and devices: which device this process uses, and whether it is the main process."""

from __future__ import annotations

import warnings

import torch
import torch.distributed as dist

from util.errors import UserError


def is_distributed() -> bool:
    """True inside an initialised torch.distributed process group."""
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Only the main process logs, displays and writes files."""
    return get_rank() == 0


def select_device(gpu_ids: str) -> torch.device:
    """Pick the device once: CUDA when present, CPU when not or when gpu_ids is '-1'.

    `gpu_ids` is the original release's older option: '' (auto), '-1' (CPU) or a list like '0,1', of which only
    the first id is used in one process (several GPUs come from torchrun).
    """
    try:
        ids = [int(i) for i in gpu_ids.split(",") if i.strip()]
    except ValueError:
        raise UserError(f"--gpu_ids '{gpu_ids}' is not a comma-separated list of numbers; use e.g. 0 or -1") from None
    if ids and ids[0] < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if ids:
            warnings.warn(f"--gpu_ids {gpu_ids} asks for a GPU but CUDA is not available; running on CPU",
                          stacklevel=2)
        return torch.device("cpu")
    if len(ids) > 1:
        warnings.warn(f"--gpu_ids {gpu_ids}: one process uses one GPU (cuda:{ids[0]}); "
                      "start several with torchrun to use them all", stacklevel=2)
    return torch.device(f"cuda:{ids[0] if ids else 0}")
