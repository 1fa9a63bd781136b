"""A model with a part built from the first batch (as CUT's feature projector is), for the lifecycle-hook tests.

Installed into models/ by the `installed_model` fixture; not a model of the framework.
"""

from __future__ import annotations

import argparse
from typing import Any

from torch import nn

from models import networks
from models.base_model import BaseModel


class HookedModel(BaseModel):
    """G regresses B from A (L1); P, whose width comes from the first batch, learns to refine G's output."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(dataset_mode="aligned", norm="instance", netG="resnet_6blocks", no_dropout=True)
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.loss_names = ["G", "P"]
        self.visual_names = ["real_A", "fake_B", "real_B"]
        self.model_names = ["G"]
        self.netG = self.to_device(networks.define_G(opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.norm,
                                                     not opt.no_dropout, opt.init_type, opt.init_gain))
        if self.isTrain:
            self.criterion = nn.L1Loss()
            self.optimizer_G = self.adam(self.netG.parameters())
            self.optimizers = [self.optimizer_G]

    def data_dependent_initialize(self, batch: dict[str, Any]) -> None:
        if not self.isTrain:
            return
        width = batch["B"].shape[1]
        self.netP = self.to_device(networks.init_net(nn.Conv2d(width, width, 3, padding=1), "normal", 0.02))
        self.model_names.append("P")
        self.optimizer_P = self.adam(self.netP.parameters())
        self.optimizers.append(self.optimizer_P)

    def set_input(self, input: dict[str, Any]) -> None:
        self.real_A, self.real_B = self.paired_input(input)

    def forward(self) -> None:
        with self.autocast():
            self.fake_B = self.netG(self.real_A)

    def optimize_parameters(self) -> None:
        self.forward()
        self.loss_G = self.criterion(self.fake_B.float(), self.real_B.float())
        self.optimizer_step(self.optimizer_G, self.loss_G)
        with self.autocast():
            refined = self.fake_B.detach() + self.netP(self.fake_B.detach())
        self.loss_P = self.criterion(refined.float(), self.real_B.float())
        self.optimizer_step(self.optimizer_P, self.loss_P)
