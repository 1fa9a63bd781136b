"""Options for test.py."""

from __future__ import annotations

import argparse

import metrics
from options.base_options import BaseOptions
from util.errors import UserError


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
        p.add_argument("--metrics", type=str, default="",
                       help="comma-separated metrics computed on the written results, shown on the results page "
                            f"and saved as metrics.json (from: {', '.join(metrics.metric_names())})")
        p.set_defaults(model="test", serial_batches=True, no_flip=True)  # results follow the input order, unflipped
        p.set_defaults(load_size=p.get_default("crop_size"))
        return p

    def validate(self, opt: argparse.Namespace) -> None:
        super().validate(opt)
        if opt.num_test < 1:
            raise UserError(f"--num_test must be at least 1, got {opt.num_test}")
        if opt.metrics:
            opt.metrics = self.validate_metrics(opt, "--metrics", opt.metrics, opt.num_test)
