"""Unpaired images of two domains: <dataroot>/<phase>A and <dataroot>/<phase>B (e.g. trainA, trainB)."""

from __future__ import annotations

import argparse
import os
import random
from typing import Any

from data.base_dataset import BaseDataset, get_transform
from data.image_folder import load_image, make_dataset


class UnalignedDataset(BaseDataset):
    """Images of domain A and domain B that do not correspond to each other.

    Item i holds A image i (modulo |A|) and a B image drawn at random, or B image i modulo |B| with
    --serial_batches. An epoch has max(|A|, |B|) items. A and B are cropped and flipped independently.
    The dataset always returns the <phase>A image as 'A'; the model swaps A and B for --direction BtoA.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.dir_A = os.path.join(opt.dataroot, opt.phase + "A")
        self.dir_B = os.path.join(opt.dataroot, opt.phase + "B")
        hint = (f"the unaligned dataset mode expects images of one domain in {self.dir_A} and of the other in "
                f"{self.dir_B}")
        self.A_paths = make_dataset(self.dir_A, opt.max_dataset_size, hint=hint)
        self.B_paths = make_dataset(self.dir_B, opt.max_dataset_size, hint=hint)
        btoa = opt.direction == "BtoA"
        input_nc = opt.output_nc if btoa else opt.input_nc
        output_nc = opt.input_nc if btoa else opt.output_nc
        self.transform_A = get_transform(opt, grayscale=input_nc == 1)
        self.transform_B = get_transform(opt, grayscale=output_nc == 1)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """A image `index` and a B image (random, or by index with --serial_batches), each preprocessed."""
        A_path = self.A_paths[index % len(self.A_paths)]
        if self.opt.serial_batches:
            B_path = self.B_paths[index % len(self.B_paths)]
        else:
            B_path = self.B_paths[random.randrange(len(self.B_paths))]
        A = self.transform_A(load_image(A_path))
        B = self.transform_B(load_image(B_path))
        return {"A": A, "B": B, "A_paths": A_path, "B_paths": B_path}

    def __len__(self) -> int:
        """The larger of the two domains."""
        return max(len(self.A_paths), len(self.B_paths))
