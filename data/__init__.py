"""Dataset registry and loader.

`--dataset_mode foo_bar` loads data/foo_bar_dataset.py and uses its BaseDataset subclass named FooBarDataset
(case-insensitive). To add a dataset, drop such a file here; `create_dataset(opt)` does the rest.
"""

from __future__ import annotations

import argparse
import importlib
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader, DistributedSampler, Sampler

from data.base_dataset import PREPROCESS_MODES, BaseDataset
from util import distributed
from util.errors import UserError, unknown_name

__all__ = [
    "PREPROCESS_MODES",
    "BaseDataset",
    "DatasetLoader",
    "create_dataset",
    "dataset_modes",
    "find_dataset_using_name",
    "get_option_setter",
]

_DATA_DIR = Path(__file__).resolve().parent


def dataset_modes() -> list[str]:
    """Dataset modes found as data/<mode>_dataset.py files."""
    modes = (path.name.removesuffix("_dataset.py") for path in _DATA_DIR.glob("*_dataset.py"))
    return sorted(mode for mode in modes if mode != "base")


def find_dataset_using_name(name: str) -> type[BaseDataset]:
    """The dataset class for `--dataset_mode name`; an unknown name raises UserError listing the valid ones."""
    modes = dataset_modes()
    if name not in modes:
        raise unknown_name("dataset_mode", name, modes)
    module = importlib.import_module(f"data.{name}_dataset")
    target = name.replace("_", "") + "dataset"
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, BaseDataset) and obj.__name__.lower() == target:
            return obj
    raise UserError(f"data/{name}_dataset.py defines no BaseDataset subclass named '{target}' (case-insensitive)")


def get_option_setter(name: str) -> Callable[[argparse.ArgumentParser, bool], argparse.ArgumentParser]:
    """The `modify_commandline_options` of the dataset class for `name`."""
    return find_dataset_using_name(name).modify_commandline_options


def create_dataset(opt: argparse.Namespace) -> DatasetLoader:
    """Build the dataset chosen by `opt.dataset_mode` wrapped in a DatasetLoader."""
    return DatasetLoader(opt)


class DatasetLoader:
    """A dataset plus its DataLoader; iterating yields batches, at most `max_dataset_size` samples per epoch.

    Each worker process starts with python `random`, numpy and torch seeded from torch's per-worker seed (the
    DataLoader does this itself), so augmentations differ between workers and repeat under `torch.manual_seed`.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.dataset = find_dataset_using_name(opt.dataset_mode)(opt)
        print(f"dataset [{type(self.dataset).__name__}] was created with {len(self.dataset)} images")
        workers = int(opt.num_threads)
        sampler = self.distributed_sampler()
        self.dataloader = DataLoader(
            self.dataset,
            batch_size=opt.batch_size,
            shuffle=not opt.serial_batches if sampler is None else None,
            sampler=sampler,
            num_workers=workers,
            pin_memory=opt.device.type == "cuda",
            persistent_workers=workers > 0,
            prefetch_factor=2 if workers > 0 else None,
            drop_last=False,
        )

    def distributed_sampler(self) -> Sampler | None:
        """Inside a process group, each rank reads its own 1/world_size share of every epoch (reshuffled by
        set_epoch); without one, the DataLoader's own sampler is used.
        """
        if not distributed.is_distributed():
            return None
        seed = getattr(self.opt, "seed", None)
        return DistributedSampler(self.dataset, shuffle=not self.opt.serial_batches, drop_last=False,
                                  seed=0 if seed is None else seed)

    def __len__(self) -> int:
        """Samples per epoch: the dataset size, capped at max_dataset_size."""
        return int(min(len(self.dataset), self.opt.max_dataset_size))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield batches until max_dataset_size samples were delivered."""
        try:
            # Every process reads its own batches; max_dataset_size counts the samples of all of them together.
            per_step = self.opt.batch_size * distributed.get_world_size()
            for i, batch in enumerate(self.dataloader):
                if i * per_step >= self.opt.max_dataset_size:
                    break
                yield batch
        except UserError as err:
            raise _unwrap_worker_error(err) from None

    def set_epoch(self, epoch: int) -> None:
        """Tell an epoch-aware sampler (e.g. a distributed one) which epoch starts; others ignore it."""
        sampler = self.dataloader.sampler
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def _unwrap_worker_error(err: UserError) -> UserError:
    """A UserError from a worker process comes back with the worker's traceback; keep only its one-line message.

    The re-raised error sits in a reference cycle with the DataLoader iterator; clearing its frames lets the
    workers shut down at once instead of stalling for 5 s when the garbage collector finds the cycle.
    """
    lines = str(err).strip().splitlines()
    if len(lines) <= 1:
        return err
    traceback.clear_frames(err.__traceback__)
    return UserError(lines[-1].removeprefix(f"{UserError.__module__}.{UserError.__qualname__}: "))
