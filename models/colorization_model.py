"""Colorization as pix2pix: predict the ab colour channels of CIE Lab from the lightness L."""

from __future__ import annotations

import argparse

from models.pix2pix_model import Pix2PixModel
from util.color import AB_to_rgb
from util.errors import UserError


class ColorizationModel(Pix2PixModel):
    """pix2pix from L (1 channel, the `colorization` dataset's A) to ab (2 channels, its B).

    The pages show the gray input and the real and generated colour images, converted back to RGB; the metrics
    compare those two RGB images.
    """

    evaluation_pair = ("fake_B_rgb", "real_B_rgb")

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        Pix2PixModel.modify_commandline_options(parser, is_train)
        parser.set_defaults(dataset_mode="colorization")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        if (opt.input_nc, opt.output_nc) != (1, 2):
            raise UserError(f"--model colorization maps lightness to colour: it needs --input_nc 1 --output_nc 2, "
                            f"got --input_nc {opt.input_nc} --output_nc {opt.output_nc}")
        super().__init__(opt)
        self.visual_names = ["real_A", "real_B_rgb", "fake_B_rgb"]

    def compute_visuals(self) -> None:
        """The real and generated colour images in RGB, scaled to [-1, 1] like every visual."""
        self.real_B_rgb = AB_to_rgb(self.real_A, self.real_B) * 2 - 1
        self.fake_B_rgb = AB_to_rgb(self.real_A, self.fake_B.detach()) * 2 - 1
