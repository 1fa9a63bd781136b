"""A template for a new model: copy this file to models/<name>_model.py and rename the class to <Name>Model.

`--model <name>` then finds it (file models/<name>_model.py, class <Name>Model without underscores, any letter
case). As written it is a working model: a generator learns to map A to B by L1 regression
(min_G lambda_regression * |G(A) - B|_1), trained and tested through train.py and test.py like every model.

What to fill in when you adapt it:
  modify_commandline_options  your options and new defaults for existing ones
  __init__                    declare loss_names, visual_names, model_names; build networks, losses, optimizers
  set_input                   unpack a batch from your dataset (see data/template_dataset.py)
  forward                     compute outputs; used by training and by test.py
  optimize_parameters         losses, backward passes and optimizer steps for one batch
  data_dependent_initialize   (optional) build parts whose size depends on the data from the first batch
  compute_visuals             (optional) derive extra images to show after forward
  evaluation_pair             (optional) the generated and real visuals the metrics compare
"""

from __future__ import annotations

import argparse
from typing import Any

from torch import nn

from models import networks
from models.base_model import BaseModel
from util.option_types import Range


class TemplateModel(BaseModel):
    """Regress B from A with one generator and an L1 loss."""

    # What --metrics and --eval_freq compare: generated visual, real visual. For a model trained on unpaired data,
    # also set evaluation_unpaired_reason (see BaseModel) so that paired metrics are refused.
    evaluation_pair = ("output", "data_B")

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        """Add options and rewrite defaults; `is_train` tells train.py (True) from test.py (False)."""
        parser.set_defaults(dataset_mode="aligned")  # the paired A|B layout; data/template_dataset.py also works
        if is_train:  # options only training needs; test.py rejects them
            parser.add_argument("--lambda_regression", type=Range(float, min=0), default=1.0,
                                help="weight of the L1 loss")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        # Names the shared machinery reads:
        self.loss_names = ["G"]  # each printed and logged from attribute loss_<name>
        self.visual_names = ["data_A", "data_B", "output"]  # each shown and saved from the attribute of that name
        self.model_names = ["G"]  # each network is attribute net<name>, saved as <epoch>_net_<name>.pth
        self.netG = self.to_device(networks.define_G(
            opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.norm, not opt.no_dropout, opt.init_type, opt.init_gain))
        if self.isTrain:  # test.py builds only what inference needs
            self.criterion = nn.L1Loss()
            self.optimizer = self.adam(self.netG.parameters())  # Adam with --lr and --beta1
            self.optimizers = [self.optimizer]  # each gets a learning-rate schedule and is saved for resuming

    def set_input(self, input: dict[str, Any]) -> None:
        """Take a batch (a dict from the dataset's __getitem__, collated) and move it to the device."""
        # (source, target) following --direction; also keeps the source paths, which test.py names results after
        self.data_A, self.data_B = self.paired_input(input)
        self.check_image_size(self.data_A)

    def forward(self) -> None:
        """Run the networks; self.autocast() applies --amp when the precision options ask for it."""
        with self.autocast():
            self.output = self.netG(self.data_A)

    def optimize_parameters(self) -> None:
        """One training step: forward, loss, backward and update (optimizer_step does all three last parts)."""
        self.forward()
        self.loss_G = self.criterion(self.output.float(), self.data_B.float()) * self.opt.lambda_regression
        self.optimizer_step(self.optimizer, self.loss_G)
