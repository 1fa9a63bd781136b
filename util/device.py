"""Which device this process computes on: CUDA when present (one GPU per process), CPU otherwise."""

from __future__ import annotations

import torch

from util import messages
from util.distributed import get_local_rank, launched_by_torchrun
from util.errors import UserError


def select_device(gpu_ids: str) -> torch.device:
    """Pick the device once: CUDA when present, CPU when not or when gpu_ids is '-1'.

    `gpu_ids` is the original release's older option: '' (auto), '-1' (CPU) or a list like '0,1', of which only
    the first id is used in one process (several GPUs come from torchrun, which gives each process
    cuda:<LOCAL_RANK>).
    """
    try:
        ids = [int(i) for i in gpu_ids.split(",") if i.strip()]
    except ValueError:
        raise UserError(f"--gpu_ids '{gpu_ids}' is not a comma-separated list of numbers; use e.g. 0 or -1") from None
    if ids and ids[0] < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if ids:
            messages.warn(f"--gpu_ids {gpu_ids} asks for a GPU but CUDA is not available; running on CPU")
        return torch.device("cpu")
    if launched_by_torchrun():
        return torch.device(f"cuda:{get_local_rank()}")
    if len(ids) > 1:
        messages.warn(f"--gpu_ids {gpu_ids}: one process uses one GPU (cuda:{ids[0]}); "
                      "start several with torchrun to use them all")
    return torch.device(f"cuda:{ids[0] if ids else 0}")
