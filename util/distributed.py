"""Processes: the torchrun process group, who writes, DDP wrapping and agreement across processes.

`torchrun` starts one process per device and tells each its RANK, LOCAL_RANK and WORLD_SIZE through environment
variables. `init_process_group` joins those processes (nccl on CUDA, gloo on CPU); a plain `python train.py` has
no such variables and runs alone, without a process group.
"""

from __future__ import annotations

import datetime
import os
import sys

import torch
import torch.distributed as dist
from torch import nn


def launched_by_torchrun() -> bool:
    """True when the launcher (torchrun / torch.distributed.run) set this process's rank and world size."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_distributed() -> bool:
    """True inside an initialised torch.distributed process group."""
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    """This process's rank: from the process group, or from torchrun's RANK before the group exists."""
    if is_distributed():
        return dist.get_rank()
    return int(os.environ.get("RANK", 0)) if launched_by_torchrun() else 0


def get_world_size() -> int:
    """How many processes train together: from the process group, or from torchrun's WORLD_SIZE before it exists."""
    if is_distributed():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", 1)) if launched_by_torchrun() else 1


def get_local_rank() -> int:
    """This process's index on its machine (torchrun's LOCAL_RANK), 0 when not launched by torchrun."""
    return int(os.environ.get("LOCAL_RANK", 0)) if launched_by_torchrun() else 0


def is_main_process() -> bool:
    """Only the main process logs, displays and writes files."""
    return get_rank() == 0


def init_process_group(device: torch.device, timeout_minutes: float = 30.0) -> None:
    """Join the processes torchrun started (nccl on CUDA, gloo on CPU); does nothing without torchrun."""
    if not launched_by_torchrun() or is_distributed():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=timeout_minutes),
                            device_id=device if device.type == "cuda" else None)


def silence_other_processes() -> None:
    """Send the standard output of every process but the main one to /dev/null (errors still reach stderr)."""
    if not is_main_process():
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)


def destroy_process_group() -> None:
    """Leave the process group at the end of a run (a no-op when there is none)."""
    if is_distributed():
        dist.destroy_process_group()


def wrap_ddp(net: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel around `net` inside a process group; `net` itself otherwise.

    Rank 0's weights and buffers are copied to every rank here, and gradients are averaged across ranks in each
    backward pass.
    """
    if not is_distributed() or not any(p.requires_grad for p in net.parameters()):
        return net
    device_ids = [device] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(net, device_ids=device_ids)


def unwrap_ddp(net: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper (`net` itself when it has none).

    A forward pass through the wrapper may synchronise buffers with the other processes, so a network run by one
    process alone (evaluation on the main process) must run unwrapped.
    """
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


def barrier() -> None:
    """Wait until every process gets here (nothing to wait for outside a process group)."""
    if is_distributed():
        dist.barrier()


def mean_over_processes(value: float, device: torch.device) -> float:
    """The mean of `value` over all processes (the value itself outside a process group)."""
    if not is_distributed():
        return value
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.item() / get_world_size()


def any_process(flag: bool, device: torch.device) -> bool:
    """True when `flag` is true in any process (`flag` itself outside a process group)."""
    if not is_distributed():
        return flag
    tensor = torch.tensor([int(flag)], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def set_gradient_sync(net: nn.Module, enabled: bool) -> None:
    """Turn DDP's gradient all-reduce for `net` on or off (off while a frozen network is only evaluated).

    A DDP network that runs forward with gradient sync on expects every parameter to receive a gradient in the
    next backward pass; a discriminator frozen for the generator step receives none, so its sync is switched off.
    """
    if isinstance(net, nn.parallel.DistributedDataParallel):
        net.require_backward_grad_sync = enabled
