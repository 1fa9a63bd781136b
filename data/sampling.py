"""Epoch order, per-sample seeds and resumable iteration for the DatasetLoader.

Everything random about an epoch's data is a pure function of (seed, epoch, sample index): the shuffle order comes
from a generator seeded with (seed, epoch), and each sample is loaded with python, numpy and torch seeded from
(seed, epoch, index). So the batches do not depend on --num_threads, on which worker loaded what, or on whether the
run was interrupted: a resumed epoch skips its finished batches without loading them and carries on identically.
"""

from __future__ import annotations

import itertools
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler, default_collate, get_worker_info

from data.image_folder import BadImageError
from util.reproducibility import mix, seed_cpu_generators, seeded


class EpochOrder(Sampler[int]):
    """Indices 0..size-1 in file order, or shuffled by a permutation that depends only on (seed, epoch)."""

    def __init__(self, size: int, shuffle: bool, seed: int) -> None:
        self.size, self.shuffle, self.seed, self.epoch = size, shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.size))
        generator = torch.Generator().manual_seed(mix(self.seed, self.epoch))
        return iter(torch.randperm(self.size, generator=generator).tolist())


class ResumableSampler(Sampler[tuple[int, int]]):
    """Wraps an epoch-aware index order (EpochOrder, or a DistributedSampler per process): yields (index, sample
    seed) pairs and can start `start` samples into the epoch.
    """

    def __init__(self, order: Sampler[int], seed: int) -> None:
        self.order, self.epoch, self.start = order, 0, 0
        self.seed = seed

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, seed: int) -> None:
        """Set the base seed here and in the wrapped order (EpochOrder and DistributedSampler both have one)."""
        self._seed = seed
        if hasattr(self.order, "seed"):
            self.order.seed = seed

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Begin `epoch` at its sample number `start` (0 unless resuming part-way through it)."""
        self.epoch, self.start = epoch, start
        if hasattr(self.order, "set_epoch"):
            self.order.set_epoch(epoch)

    def __len__(self) -> int:
        return max(0, len(self.order) - self.start)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in itertools.islice(iter(self.order), self.start, None):
            yield index, mix(self.seed, self.epoch, index)


@dataclass(frozen=True)
class BadImage:
    """Stands in for a sample whose image could not be read (with --skip_bad_images)."""

    path: str
    reason: str


class SeededSamples(Dataset):
    """Loads sample `index` of `dataset` under its own seed; unreadable images become BadImage when skipped."""

    def __init__(self, dataset: Dataset, skip_bad_images: bool) -> None:
        self.dataset, self.skip_bad_images = dataset, skip_bad_images

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any] | BadImage:
        index, seed = key
        if get_worker_info() is not None:  # a worker's generators serve nothing else: no need to restore them
            seed_cpu_generators(seed)
            return self.load(index)
        with seeded(seed):  # the main process: the model's generators must not notice
            return self.load(index)

    def load(self, index: int) -> dict[str, Any] | BadImage:
        try:
            return self.dataset[index]
        except BadImageError as err:
            if not self.skip_bad_images:
                raise
            return BadImage(err.path, str(err.__cause__ or err))


def collate(samples: list[dict[str, Any] | BadImage]) -> tuple[dict[str, Any] | None, list[BadImage]]:
    """Batch the readable samples (None when there are none) and pass the unreadable ones on for reporting."""
    good = [s for s in samples if not isinstance(s, BadImage)]
    bad = [s for s in samples if isinstance(s, BadImage)]
    return (default_collate(good) if good else None), bad


def ignore_stop_signals(worker_id: int) -> None:
    """Data workers leave Ctrl-C and SIGTERM to the main process, which finishes its step and saves first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
