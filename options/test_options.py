"""Options for test.py."""

from __future__ import annotations

import argparse

from options.base_options import BaseOptions
from options.inference_options import add_tile_options, check_tile_options


class TestOptions(BaseOptions):
    """Base options plus where results go and how many images to run."""

    is_train = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = super().initialize(parser)
        p.add_argument("--results_dir", type=str, default="./results/", help="where result pages go")
        p.add_argument("--aspect_ratio", type=float, default=1.0, help="width/height ratio of saved result images")
        p.add_argument("--phase", type=str, default="test", help="data split folder")
        p.add_argument("--eval", action="store_true",
                       help="eval mode at test time (off keeps dropout and batch statistics, as in the pix2pix paper)")
        p.add_argument("--num_test", type=int, default=50, help="how many test images to run")
        add_tile_options(p)
        p.set_defaults(model="test", serial_batches=True, no_flip=True)  # results follow the input order, unflipped
        p.set_defaults(load_size=p.get_default("crop_size"))
        return p

    def validate(self, opt: argparse.Namespace) -> None:
        super().validate(opt)
        check_tile_options(opt, opt.netG)
