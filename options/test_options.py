"""Options for test.py."""

from __future__ import annotations

import argparse

import metrics
from options.base_options import BaseOptions
from options.inference_options import add_tile_options, check_tile_options
from util.option_types import Range
from util.results_page import results_dir


class TestOptions(BaseOptions):
    """Base options plus where results go and how many images to run."""

    is_train = False
    folder_option = "--results_dir"

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = super().initialize(parser)
        p.add_argument("--results_dir", type=str, default="./results/", help="where result pages go")
        p.add_argument("--aspect_ratio", type=Range(float, above=0), default=1.0,
                       help="width/height ratio of saved result images")
        p.add_argument("--phase", type=str, default="test", help="data split folder")
        p.add_argument("--eval", action="store_true",
                       help="eval mode at test time (off keeps dropout and batch statistics, as in the pix2pix paper)")
        p.add_argument("--num_test", type=Range(int, min=1), default=50, help="how many test images to run")
        p.add_argument("--metrics", type=str, default="",
                       help="comma-separated metrics computed on the written results, shown on the results page "
                            f"and saved as metrics.json (from: {', '.join(metrics.metric_names())})")
        add_tile_options(p)
        p.set_defaults(model="test", serial_batches=True, no_flip=True)  # results follow the input order, unflipped
        p.set_defaults(load_size=p.get_default("crop_size"))
        return p

    def validate(self, opt: argparse.Namespace) -> None:
        super().validate(opt)
        check_tile_options(opt, opt.netG)
        if opt.metrics:
            opt.metrics = self.validate_metrics(opt, "--metrics", opt.metrics, opt.num_test)

    def options_folder(self, opt: argparse.Namespace) -> str:
        """Next to the results (<results_dir>/<name>/<phase>_<epoch>), so a read-only checkpoint folder is fine."""
        return results_dir(opt)
