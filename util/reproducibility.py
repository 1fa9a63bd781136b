"""Seeds and random-number-generator states: repeatable runs and exact resume.

Three generators drive a run: python `random` (crops, flips, image pools), numpy and torch (weight init, dropout;
one generator per CUDA device). `seed_everything` seeds them all, `rng_state`/`set_rng_state` capture and restore
them as plain values that load with weights_only=True, and `seeded` runs one data sample under its own seed without
touching the generators the model uses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from util import distributed


def seed_everything(seed: int | None) -> None:
    """Seed python, numpy and torch (all devices); on CUDA also ask cuDNN for deterministic kernels.

    `None` leaves everything as it is (a different run each time).
    """
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def choose_cudnn_kernels(device: torch.device, seed: int | None, fixed_input_size: bool) -> None:
    """On CUDA, let cuDNN time its kernels once and keep the fastest when every input has the same size (not under
    --seed: its choice varies from run to run).
    """
    if device.type == "cuda" and seed is None:
        torch.backends.cudnn.benchmark = fixed_input_size


def shared_seed(seed: int | None) -> int:
    """`seed`, or when None one drawn from torch's generator; inside a process group, rank 0's for every rank."""
    if seed is None:
        seed = int(torch.randint(2**62, ()).item())
    if distributed.is_distributed():
        box = [seed]
        torch.distributed.broadcast_object_list(box, src=0)
        seed = box[0]
    return seed


def mix(*numbers: int) -> int:
    """A 63-bit seed that is a pure function of `numbers` (e.g. base seed, epoch, sample index)."""
    return int(np.random.SeedSequence([n % 2**63 for n in numbers]).generate_state(1, np.uint64)[0] % 2**63)


def rng_state() -> dict[str, Any]:
    """The state of every generator, as tensors, ints and tuples (CUDA only once this process has used it)."""
    np_state = np.random.get_state(legacy=False)
    return {
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
                  "pos": int(np_state["state"]["pos"]),
                  "has_gauss": int(np_state["has_gauss"]),
                  "gauss": float(np_state["gauss"])},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what rng_state() returned (CUDA states only when the device count matches)."""
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    saved = state["numpy"]
    np.random.set_state({"bit_generator": "MT19937",
                         "state": {"key": saved["key"].numpy().astype(np.uint32), "pos": saved["pos"]},
                         "has_gauss": saved["has_gauss"], "gauss": saved["gauss"]})
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run the body, then put every generator (python, numpy, torch, CUDA) back as it was: whatever the body draws,
    the code after it draws as if the body had not run.
    """
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def seed_cpu_generators(seed: int) -> None:
    """Seed python, numpy and torch's CPU generator (cheaper than seed_everything: no device generators)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.default_generator.manual_seed(seed)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the body with python, numpy and torch (CPU) seeded from `seed`, then put their old states back."""
    python_state, numpy_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    seed_cpu_generators(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
