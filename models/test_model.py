"""One-direction inference with a single generator, e.g. a published CycleGAN weight file (test.py only)."""

from __future__ import annotations

import argparse
from typing import Any

from models import networks
from models.base_model import BaseModel
from util.errors import UserError


class TestModel(BaseModel):
    """Runs netG on the images of a `single` dataset and shows (real, fake); no discriminator, no losses.

    The generator loads from <epoch>_net_G<model_suffix>.pth, so `--model_suffix _A` picks G_A of a CycleGAN run;
    `--antialias --antialias_up` build the anti-aliased ResNet generator of CUT weights (--model cut).
    It has no real images of the output domain, so test.py --metrics cannot judge it.
    """

    evaluation_pair = None

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        if is_train:
            raise UserError("--model test only runs inference (test.py); to train, use --model cycle_gan or pix2pix")
        parser.set_defaults(dataset_mode="single")
        parser.add_argument("--model_suffix", type=str, default="",
                            help="load <epoch>_net_G<model_suffix>.pth, e.g. _A for G_A of a CycleGAN run")
        parser.add_argument("--antialias", action="store_true",
                            help="anti-aliased (blur-pool) downsampling in the ResNet generator, as in CUT weights")
        parser.add_argument("--antialias_up", action="store_true",
                            help="anti-aliased (blur) upsampling in the ResNet generator, as in CUT weights")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.visual_names = ["real", "fake"]
        self.generator_name = "G" + opt.model_suffix
        self.model_names = [self.generator_name]
        self.netG = self.to_device(networks.define_G(
            opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.norm, not opt.no_dropout, opt.init_type, opt.init_gain,
            antialias=opt.antialias, antialias_up=opt.antialias_up))

    def networks(self) -> dict[str, Any]:
        """The one generator, under the name its checkpoint file carries (G, G_A, ...)."""
        return {self.generator_name: self.netG}

    def network_options_hint(self, name: str) -> str:
        """The generator's options, anti-aliasing included (CUT weights need --antialias --antialias_up)."""
        flags = [flag if on else f"without {flag}" for flag, on in (("--antialias", self.opt.antialias),
                                                                    ("--antialias_up", self.opt.antialias_up))]
        return f"{super().network_options_hint(name)}, {', '.join(flags)}"

    def set_input(self, input: dict[str, Any]) -> None:
        self.real = input["A"].to(self.device, non_blocking=True)
        self.image_paths = input["A_paths"]
        self.check_image_size(self.real)

    def forward(self) -> None:
        with self.autocast():
            self.fake = self.netG(self.real)

    def optimize_parameters(self) -> None:
        raise UserError("--model test cannot be trained; use --model cycle_gan or pix2pix")
