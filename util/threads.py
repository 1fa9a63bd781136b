"""CPU threads on a shared machine.

PyTorch runs one compute thread per core and expects the cores to itself. When other work holds some of them, its
threads wait on each other at every operation and a run slows down several times (a CycleGAN demo took 4x longer
with 2 threads than with 1 on a busy 2-core machine). `OMP_NUM_THREADS` sets the count; train.py warns when it is
too high for the machine as it is, and the demo scripts choose it with `free_cores`.
"""

from __future__ import annotations

import os
import time


def cores() -> list[int]:
    """The CPUs this process may run on."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def busy_cores(seconds: float = 0.25) -> float | None:
    """How many of our CPUs other work keeps busy: their non-idle time over `seconds` (Linux, while this process
    waits), else the 1-minute load average; None when neither can be read.
    """
    try:
        first = _cpu_times()
        time.sleep(seconds)
        second = _cpu_times()
        return sum(1 - (second[c][0] - first[c][0]) / max(second[c][1] - first[c][1], 1) for c in cores())
    except (OSError, ValueError, IndexError, KeyError):
        pass
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _cpu_times() -> dict[int, tuple[int, int]]:
    """(idle, total) clock ticks of each CPU since boot, from /proc/stat."""
    times = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
                times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    return times


def free_cores(busy: float | None = None) -> int:
    """Our CPUs that other work leaves free (`busy` measured now unless given), rounded, at least 1."""
    busy = busy_cores() if busy is None else busy
    return max(1, len(cores()) - round(busy or 0))


def warn_if_oversubscribed(device_type: str = "cpu") -> None:
    """Warn once when PyTorch's CPU threads outnumber the cores that other work leaves free (CPU runs only)."""
    import torch  # here, so that the demo scripts can ask for free_cores without loading torch

    from util import messages

    threads = torch.get_num_threads()
    if device_type != "cpu" or threads <= 1:
        return
    busy = busy_cores()
    if busy is None or threads <= (free := free_cores(busy)):
        return
    messages.warn(f"other work keeps {busy:.1f} of this machine's {len(cores())} cores busy and PyTorch runs "
                  f"{threads} threads, which then wait on each other and slow training down several times; "
                  f"run with OMP_NUM_THREADS={free} in the environment", once="threads")
