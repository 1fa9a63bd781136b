"""Images of one domain, for one-direction inference: every image under --dataroot, searched recursively."""

from __future__ import annotations

import argparse
from typing import Any

from data.base_dataset import BaseDataset, get_transform
from data.image_folder import load_image, make_dataset


class SingleDataset(BaseDataset):
    """Every image under --dataroot (in sorted order) as 'A' with its path as 'A_paths'."""

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        hint = "the single dataset mode reads every image under --dataroot (e.g. datasets/horse2zebra/testA)"
        self.A_paths = make_dataset(opt.dataroot, opt.max_dataset_size, hint=hint)
        input_nc = opt.output_nc if opt.direction == "BtoA" else opt.input_nc
        self.transform = get_transform(opt, grayscale=input_nc == 1)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.A_paths[index]
        return {"A": self.transform(load_image(path)), "A_paths": path}

    def __len__(self) -> int:
        return len(self.A_paths)
