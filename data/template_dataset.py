"""A template for a new dataset: copy this file to data/<name>_dataset.py and rename the class to <Name>Dataset.

`--dataset_mode <name>` then finds it (file data/<name>_dataset.py, class <Name>Dataset without underscores, any
letter case). As written it is a working dataset for a toy super-resolution task: B is an image of
<dataroot>/<phase> and A the same image shrunk by --new_dataset_option and scaled back up (a blurred copy).
Train the template model on it with `--model template --dataset_mode template`.

What to fill in when you adapt it:
  modify_commandline_options  your options and new defaults for existing ones
  __init__                    find your files (data/image_folder.py: make_dataset) and check your options
  __getitem__                 return one sample as a dict of tensors in [-1, 1] and paths; the keys are what
                              your model's set_input reads (A, B, A_paths, B_paths are the common ones)
  __len__                     the number of samples
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from PIL import Image

from data.base_dataset import BaseDataset, get_params, get_transform
from data.image_folder import load_image, make_dataset
from util.errors import UserError


class TemplateDataset(BaseDataset):
    """Each image of <dataroot>/<phase> as target 'B' and its blurred copy as input 'A'."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        """Add options and rewrite defaults; they apply whenever --dataset_mode selects this dataset."""
        parser.add_argument("--new_dataset_option", type=float, default=2.0,
                            help="example option: how much A is shrunk before being scaled back to B's size")
        parser.set_defaults(max_dataset_size=10)  # a small default, as an example of rewriting one
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)  # keeps opt and sets self.root = opt.dataroot
        if opt.new_dataset_option < 1:
            raise UserError(f"--new_dataset_option must be at least 1, got {opt.new_dataset_option}")
        folder = os.path.join(opt.dataroot, opt.phase)
        self.paths = make_dataset(folder, opt.max_dataset_size, hint="the template dataset reads any images")

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Sample `index`: the image as B and its blurred copy as A, cropped and flipped alike."""
        path = self.paths[index]
        B = load_image(path)
        w, h = B.size
        shrink = self.opt.new_dataset_option
        small = B.resize((max(1, round(w / shrink)), max(1, round(h / shrink))), Image.Resampling.BICUBIC)
        A = small.resize((w, h), Image.Resampling.BICUBIC)
        # Draw one crop position and flip, so A and B stay aligned; unpaired data would call get_transform(opt).
        transform = get_transform(self.opt, get_params(self.opt, B.size))
        return {"A": transform(A), "B": transform(B), "A_paths": path, "B_paths": path}

    def __len__(self) -> int:
        return len(self.paths)
