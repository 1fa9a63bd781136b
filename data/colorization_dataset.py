"""Colour photos as (lightness, colour) pairs for learning to colorize: A = L channel, B = ab channels of CIE Lab."""

from __future__ import annotations

import argparse
import os
from typing import Any

import torch
from torchvision.transforms.v2 import functional as F

from data.base_dataset import BaseDataset, get_transform
from data.image_folder import BadImageError, load_image, make_dataset
from util.color import rgb_to_AB
from util.errors import UserError


class ColorizationDataset(BaseDataset):
    """Every colour image under <dataroot>/<phase>, split into lightness 'A' (1 channel) and colour 'B' (2).

    Grayscale images carry no colour to learn from and are rejected by name (--skip_bad_images skips them).
    """

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(input_nc=1, output_nc=2, direction="AtoB")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        if (opt.input_nc, opt.output_nc, opt.direction) != (1, 2, "AtoB"):
            raise UserError(f"the colorization dataset maps lightness (1 channel) to colour (2 channels): it needs "
                            f"--input_nc 1 --output_nc 2 --direction AtoB, got --input_nc {opt.input_nc} "
                            f"--output_nc {opt.output_nc} --direction {opt.direction}")
        self.dir = os.path.join(opt.dataroot, opt.phase)
        hint = f"the colorization dataset mode expects colour photos in {self.dir}"
        self.paths = make_dataset(self.dir, opt.max_dataset_size, hint=hint)
        self.transform = get_transform(opt, convert=False)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        image = load_image(path)
        # Judge the whole image: a crop of a colour photo may happen to be gray.
        rgb = F.pil_to_tensor(image)
        if torch.equal(rgb[0], rgb[1]) and torch.equal(rgb[1], rgb[2]):
            raise BadImageError(f"image '{path}' is grayscale and has no colour to learn from; "
                                "remove it from the colorization dataset", path)
        rgb = F.to_dtype(F.pil_to_tensor(self.transform(image)), torch.float32, scale=True)
        A, B = rgb_to_AB(rgb)
        return {"A": A, "B": B, "A_paths": path, "B_paths": path}

    def __len__(self) -> int:
        return len(self.paths)
