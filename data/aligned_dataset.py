"""Paired images stored side by side: each file holds A on the left half and B on the right half."""

from __future__ import annotations

import argparse
import os
from typing import Any

from PIL import Image

from data.base_dataset import BaseDataset, get_params, get_transform
from data.image_folder import BadImageError, load_image, make_dataset
from util import messages


class AlignedDataset(BaseDataset):
    """A|B image pairs from <dataroot>/<phase>; A and B get the same crop and flip.

    The dataset always returns the left half as 'A'; the model swaps A and B for --direction BtoA.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.dir_AB = os.path.join(opt.dataroot, opt.phase)
        hint = (
            f"the aligned dataset mode expects images with A and B side by side in {self.dir_AB}; "
            "see datasets/combine_A_and_B.py"
        )
        self.AB_paths = make_dataset(self.dir_AB, opt.max_dataset_size, hint=hint)
        btoa = opt.direction == "BtoA"
        self.input_nc = opt.output_nc if btoa else opt.input_nc
        self.output_nc = opt.input_nc if btoa else opt.output_nc

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Load pair `index`, split it into A and B and preprocess both identically."""
        path = self.AB_paths[index]
        A, B = split_pair(load_image(path), path, odd_width_ok=not getattr(self.opt, "isTrain", True))
        params = get_params(self.opt, A.size)
        A_transform = get_transform(self.opt, params, grayscale=self.input_nc == 1)
        B_transform = get_transform(self.opt, params, grayscale=self.output_nc == 1)
        return {"A": A_transform(A), "B": B_transform(B), "A_paths": path, "B_paths": path}

    def __len__(self) -> int:
        """Number of A|B images."""
        return len(self.AB_paths)


def split_pair(AB: Image.Image, path: str, odd_width_ok: bool = False) -> tuple[Image.Image, Image.Image]:
    """The left (A) and right (B) halves of an A|B image, split at column width // 2.

    Training refuses an odd width (BadImageError: the halves would differ by a column). At test time
    (`odd_width_ok`) such an image is split the same way, so B keeps the extra column, and each half keeps its size:
    test.py's outputs have the size of their input half.
    """
    w, h = AB.size
    if w % 2:
        if not odd_width_ok:
            raise BadImageError(
                f"image '{path}' has odd width {w}; an aligned image must be two equal halves (A|B) side by side", path
            )
        messages.warn(f"'{path}' has odd width {w}: A is its left {w // 2} columns, B the other {w - w // 2} "
                      "(shown once; other images may be odd too)", once="odd aligned width")
    half = w // 2
    return AB.crop((0, 0, half, h)), AB.crop((half, 0, w, h))
