"""pix2pix (Isola et al., CVPR 2017): a conditional GAN with a U-Net generator and a PatchGAN discriminator."""

from __future__ import annotations

import argparse
from typing import Any

import torch
from torch import nn

from models import losses, networks
from models.base_model import BaseModel
from util.option_types import Range


class Pix2PixModel(BaseModel):
    """Learns A -> B from aligned pairs: adversarial loss on (input, output) pairs plus lambda_L1 * L1."""

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(norm="batch", netG="unet_256", dataset_mode="aligned")
        if is_train:
            parser.set_defaults(pool_size=0, gan_mode="vanilla")
            parser.add_argument("--lambda_L1", type=Range(float, min=0), default=100.0, help="weight of the L1 loss")
            parser.add_argument("--lambda_gp", type=Range(float, min=0), default=10.0,
                                help="weight of the gradient penalty (applied with --gan_mode wgangp)")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.loss_names = ["G_GAN", "G_L1", "D_real", "D_fake"]
        self.visual_names = ["real_A", "fake_B", "real_B"]
        self.model_names = ["G", "D"] if self.isTrain else ["G"]
        self.netG = self.to_device(networks.define_G(
            opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.norm, not opt.no_dropout, opt.init_type, opt.init_gain))
        if not self.isTrain:
            return
        # The discriminator judges (input, output) pairs, so it sees input_nc + output_nc channels.
        self.netD = self.to_device(networks.define_D(
            opt.input_nc + opt.output_nc, opt.ndf, opt.netD, opt.n_layers_D, opt.norm, opt.init_type, opt.init_gain))
        self.criterionGAN = losses.GANLoss(opt.gan_mode).to(self.device)
        self.criterionL1 = nn.L1Loss()
        self.use_gradient_penalty = opt.gan_mode == "wgangp" and opt.lambda_gp > 0
        if self.use_gradient_penalty:
            self.loss_names.append("D_gp")
        self.optimizer_G = self.adam(self.netG.parameters())
        self.optimizer_D = self.adam(self.netD.parameters())
        self.optimizers = [self.optimizer_G, self.optimizer_D]

    def set_input(self, input: dict[str, Any]) -> None:
        self.real_A, self.real_B = self.paired_input(input)
        self.check_image_size(self.real_A)

    def forward(self) -> None:
        with self.autocast():
            self.fake_B = self.netG(self.real_A)

    def discriminator_loss(self) -> torch.Tensor:
        """Real pairs should score real, generated pairs fake; the sum is halved to slow D relative to G."""
        fake_AB = torch.cat((self.real_A, self.fake_B.detach()), 1)
        real_AB = torch.cat((self.real_A, self.real_B), 1)
        with self.autocast():
            self.loss_D_fake = self.criterionGAN(self.netD(fake_AB), False)
            self.loss_D_real = self.criterionGAN(self.netD(real_AB), True)
        loss = (self.loss_D_fake + self.loss_D_real) * 0.5
        if self.use_gradient_penalty:
            self.loss_D_gp = losses.gradient_penalty(self.netD, real_AB, fake_AB, lambda_gp=self.opt.lambda_gp)
            loss = loss + self.loss_D_gp
        return loss

    def generator_loss(self) -> torch.Tensor:
        """Fool the discriminator and stay close to the target in L1."""
        fake_AB = torch.cat((self.real_A, self.fake_B), 1)
        with self.autocast():
            self.loss_G_GAN = self.criterionGAN(self.netD(fake_AB), True)
        self.loss_G_L1 = self.criterionL1(self.fake_B.float(), self.real_B.float()) * self.opt.lambda_L1
        return self.loss_G_GAN + self.loss_G_L1

    def optimize_parameters(self) -> None:
        self.forward()
        self.set_requires_grad(self.netD, True)
        self.loss_D = self.discriminator_loss()
        self.optimizer_step(self.optimizer_D, self.loss_D)
        self.set_requires_grad(self.netD, False)
        self.loss_G = self.generator_loss()
        self.optimizer_step(self.optimizer_G, self.loss_G)
