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

import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from data.base_dataset import PREPROCESS_MODES, BaseDataset
from data.sampling import EpochOrder, ResumableSampler, SeededSamples, collate, ignore_stop_signals
from util import distributed, messages
from util.errors import UserError, unknown_name
from util.reproducibility import shared_seed

__all__ = [
    "PREPROCESS_MODES",
    "BaseDataset",
    "CustomDatasetDataLoader",
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


def create_dataset(opt: argparse.Namespace, shared: bool = True) -> DatasetLoader:
    """Build the dataset chosen by `opt.dataset_mode` wrapped in a DatasetLoader (see there for `shared`)."""
    return DatasetLoader(opt, shared)


class DatasetLoader:
    """A dataset plus its DataLoader; iterating yields batches, at most `max_dataset_size` samples per epoch.

    The data of an epoch is a pure function of (seed, epoch) (see data/sampling.py): the seed is --seed, or drawn
    from torch's generator when not given; the training state saves it. `position` counts the batches of the
    current epoch delivered so far, so a resumed run can start where it stopped (`set_epoch(epoch, start)`).

    Inside a process group the processes share each epoch (`shared`, the default). With shared=False this process
    alone reads all of it, without talking to the others (e.g. the held-out split that the main process evaluates),
    and the seed is --seed or 0: nothing is drawn from the global generators.
    """

    def __init__(self, opt: argparse.Namespace, shared: bool = True) -> None:
        self.opt = opt
        self.shared = shared
        self.dataset = find_dataset_using_name(opt.dataset_mode)(opt)
        messages.info(f"dataset [{type(self.dataset).__name__}] was created with {len(self.dataset)} images")
        workers = int(opt.num_threads)
        seed = shared_seed(opt.seed) if shared else opt.seed or 0
        order = self.distributed_sampler(seed) if shared else None
        if order is None:
            order = EpochOrder(len(self.dataset), not opt.serial_batches, seed)
        self.sampler = ResumableSampler(order, seed)
        self.position = 0
        self.skipped_images: list[str] = []
        self.reported_bad_images: set[str] = set()
        self.dataloader = DataLoader(
            SeededSamples(self.dataset, opt.skip_bad_images),
            batch_size=opt.batch_size,
            sampler=self.sampler,
            collate_fn=collate,
            num_workers=workers,
            pin_memory=opt.device.type == "cuda",
            persistent_workers=workers > 0,
            prefetch_factor=2 if workers > 0 else None,
            drop_last=False,
            worker_init_fn=ignore_stop_signals,
            generator=torch.Generator().manual_seed(seed),  # keeps the global generators untouched
        )

    def distributed_sampler(self, seed: int) -> Sampler | None:
        """Inside a process group, each rank reads its own 1/world_size share of every epoch (reshuffled by
        set_epoch from the shared seed); without one, None.
        """
        if not distributed.is_distributed():
            return None
        return DistributedSampler(self.dataset, shuffle=not self.opt.serial_batches, drop_last=False, seed=seed)

    def __len__(self) -> int:
        """Samples per epoch: the dataset size, capped at max_dataset_size."""
        return int(min(len(self.dataset), self.opt.max_dataset_size))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield batches until max_dataset_size samples were delivered."""
        try:
            # Every process reads its own batches; max_dataset_size counts the samples of all of them together.
            per_step = self.opt.batch_size * (distributed.get_world_size() if self.shared else 1)
            for batch, bad_images in self.dataloader:
                if self.position * per_step >= self.opt.max_dataset_size:
                    break
                self.position += 1
                self.report_bad_images(bad_images)
                if batch is not None:
                    yield batch
        except UserError as err:
            raise _unwrap_worker_error(err) from None
        if self.skipped_images:
            messages.warn(f"skipped {len(self.skipped_images)} unreadable image(s) this epoch")

    @property
    def seed(self) -> int:
        """The base seed of the data order and augmentations."""
        return self.sampler.seed

    @seed.setter
    def seed(self, seed: int) -> None:
        self.sampler.seed = seed

    def first_batch(self) -> dict[str, Any]:
        """The first readable batch of the current epoch's order, e.g. for a model's data_dependent_initialize.

        The position in the epoch is left where it was, so the loop still starts at its own first batch.
        """
        position = self.position
        try:
            return next(iter(self))
        finally:
            self.position = position

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Begin `epoch` at its batch number `start` (0 unless resuming part-way through it)."""
        self.sampler.set_epoch(epoch, start * self.opt.batch_size)
        self.position = start
        self.skipped_images = []

    def report_bad_images(self, bad_images: list) -> None:
        """Warn once per unreadable file (--skip_bad_images) and count them for the end of the epoch."""
        for bad in bad_images:
            self.skipped_images.append(bad.path)
            if bad.path not in self.reported_bad_images:
                self.reported_bad_images.add(bad.path)
                messages.warn(f"skipping unreadable image '{bad.path}' ({bad.reason})")


class CustomDatasetDataLoader(DatasetLoader):
    """The original release's name for the loader, with its `load_data()`; deprecated: `create_dataset(opt)` returns
    the same DatasetLoader.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        messages.deprecated("data.CustomDatasetDataLoader(opt)", "data.create_dataset(opt)")
        super().__init__(opt)

    def load_data(self) -> CustomDatasetDataLoader:
        """The loader itself (the original's create_dataset returned this)."""
        return self


def _unwrap_worker_error(err: UserError) -> UserError:
    """A UserError from a worker process comes back with the worker's traceback; keep only its one-line message.

    The re-raised error sits in a reference cycle with the DataLoader iterator; clearing its frames lets the
    workers shut down at once instead of stalling for 5 s when the garbage collector finds the cycle.
    """
    lines = str(err).strip().splitlines()
    if len(lines) <= 1:
        return err
    traceback.clear_frames(err.__traceback__)
    return UserError(lines[-1].removeprefix(f"{type(err).__module__}.{type(err).__qualname__}: "))
