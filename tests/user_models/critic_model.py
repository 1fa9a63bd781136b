"""A model with no generator: a discriminator that scores how real images look (for the export error test).

Installed into models/ by the `installed_model` fixture; not a model of the framework.
"""

from __future__ import annotations

import argparse
from typing import Any

from models import networks
from models.base_model import BaseModel


class CriticModel(BaseModel):
    """netD scores images; it has no generator, so there is nothing to translate or export."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(dataset_mode="single")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.model_names = ["D"]
        self.visual_names = ["real"]
        self.netD = self.to_device(networks.define_D(opt.input_nc, opt.ndf, opt.netD, opt.n_layers_D, opt.norm))

    def set_input(self, input: dict[str, Any]) -> None:
        self.real = input["A"].to(self.device)

    def forward(self) -> None:
        self.score = self.netD(self.real)

    def optimize_parameters(self) -> None:
        self.forward()
