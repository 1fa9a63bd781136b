"""Checks of the data against the options before training: channel counts (first batch) and every sample
(`--check_data`), so that bad data is reported up front instead of when the loader reaches it mid-epoch.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from data.image_folder import BadImageError
from data.sampling import ignore_stop_signals
from util.errors import UserError
from util.reproducibility import seeded


def check_channels(opt: argparse.Namespace, batch: dict[str, Any]) -> None:
    """Refuse --input_nc / --output_nc that do not match the channels of the images in `batch` (A is the input
    side with --direction AtoB, B with BtoA).
    """
    a_to_b = opt.direction == "AtoB"
    expected = {"A": ("--input_nc", opt.input_nc) if a_to_b else ("--output_nc", opt.output_nc),
                "B": ("--output_nc", opt.output_nc) if a_to_b else ("--input_nc", opt.input_nc)}
    for side, (option, channels) in expected.items():
        images = batch.get(side)
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] == channels:
            continue
        paths = batch.get(f"{side}_paths") or ["?"]
        raise UserError(f"{option} {channels} does not match the images: side {side} of --dataset_mode "
                        f"{opt.dataset_mode} comes with {images.shape[1]} channel(s) (e.g. '{paths[0]}'); set "
                        f"{option} {images.shape[1]} (images are read as RGB for 3 channels, grayscale for 1)")


@dataclass(frozen=True)
class Problem:
    """Why a file cannot be used; `skippable` ones (unreadable files) are what --skip_bad_images skips."""

    path: str
    reason: str
    skippable: bool


class _Inspected(Dataset):
    """Sample i of `dataset` reduced to (problems while loading it, {image key: (height, width, path)})."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[list[Problem], dict[str, tuple[int, int, str]]]:
        try:
            sample = self.dataset[index]
        except BadImageError as err:
            return [Problem(err.path or f"sample {index}", str(err.__cause__ or err), True)], {}
        except UserError as err:
            return [Problem(f"sample {index}", str(err), False)], {}
        sizes = {}
        for key, value in sample.items():
            if isinstance(value, torch.Tensor) and value.dim() == 3:
                path = sample.get(f"{key}_paths", f"sample {index}")
                sizes[key] = (int(value.shape[1]), int(value.shape[2]), str(path))
        return [], sizes


def find_unusable_images(dataset: Dataset, size_multiple: int, same_size: bool, num_workers: int = 0
                         ) -> list[Problem]:
    """Load every sample of `dataset` as training would and return every problem found: files that cannot be
    read or used, image sides that are not multiples of `size_multiple` after preprocessing and, with
    `same_size` (batches of several images), sizes that differ from the most common one.

    Random generators of this process are left as they were; the samples' own crops and flips do not matter here.
    """
    loader = DataLoader(_Inspected(dataset), batch_size=8, num_workers=num_workers, collate_fn=list,
                        worker_init_fn=ignore_stop_signals)
    problems: list[Problem] = []
    sizes: dict[str, list[tuple[int, int, str]]] = {}
    with seeded(0):
        for batch in loader:
            for found, sample_sizes in batch:
                problems += found
                for key, size in sample_sizes.items():
                    sizes.setdefault(key, []).append(size)
    for key, entries in sizes.items():
        common = Counter((h, w) for h, w, _ in entries).most_common(1)[0][0]
        for h, w, path in entries:
            if h % size_multiple or w % size_multiple:
                problems.append(Problem(path, f"{key} is {w}x{h} after preprocessing; the generator needs sides "
                                              f"that are multiples of {size_multiple}", False))
            elif same_size and (h, w) != common:
                problems.append(Problem(path, f"{key} is {w}x{h} after preprocessing, most images are "
                                              f"{common[1]}x{common[0]}; a batch needs images of one size", False))
    return merge_by_path(problems)


def merge_by_path(problems: list[Problem]) -> list[Problem]:
    """One entry per file, in order of first appearance, its reasons joined (e.g. the A and B halves of a pair)."""
    merged: dict[str, Problem] = {}
    for problem in problems:
        if problem.path in merged:
            first = merged[problem.path]
            problem = Problem(first.path, f"{first.reason}; {problem.reason}", first.skippable and problem.skippable)
        merged[problem.path] = problem
    return list(merged.values())
