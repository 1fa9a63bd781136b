"""CycleGAN (Zhu et al., ICCV 2017): unpaired translation with two generators tied by cycle consistency."""

from __future__ import annotations

import argparse
import itertools
from typing import Any

import torch
from torch import nn

from models import losses, networks
from models.base_model import BaseModel
from util.errors import UserError
from util.image_pool import ImagePool
from util.option_types import Range


class CycleGANModel(BaseModel):
    """Learns G_A: A -> B and G_B: B -> A from unpaired images.

    Losses (lambda_A, lambda_B weight the cycles, lambda_identity scales the identity terms):
      G_A, G_B           adversarial: D_A judges G_A(A) against real B, D_B judges G_B(B) against real A
      cycle_A, cycle_B   lambda_A * |G_B(G_A(A)) - A|_1 and lambda_B * |G_A(G_B(B)) - B|_1
      idt_A, idt_B       lambda_B * lambda_identity * |G_A(B) - B|_1 and lambda_A * lambda_identity * |G_B(A) - A|_1
      D_A, D_B           each discriminator on real images and on fakes drawn from an image pool, halved

    Metrics judge G_A: its fake_B against the real B images of the split, as two sets (FID, KID).
    """

    evaluation_unpaired_reason = ("--model cycle_gan learns from unpaired images: the real_B of a batch is an "
                                  "unrelated image of domain B, not the target of its fake_B")

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        parser.set_defaults(no_dropout=True)
        if is_train:
            parser.add_argument("--lambda_A", type=Range(float, min=0), default=10.0,
                                help="weight of cycle loss A -> B -> A")
            parser.add_argument("--lambda_B", type=Range(float, min=0), default=10.0,
                                help="weight of cycle loss B -> A -> B")
            parser.add_argument("--lambda_identity", type=Range(float, min=0), default=0.5,
                                help="identity loss weight relative to the cycle weights (0 turns it off); "
                                     "0.1 keeps colours close to the input, as for photo <-> painting")
        return parser

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.use_identity = self.isTrain and opt.lambda_identity > 0
        if self.use_identity and opt.input_nc != opt.output_nc:
            raise UserError(f"the identity loss feeds images of one domain to the other's generator, so it needs "
                            f"--input_nc equal to --output_nc (got {opt.input_nc} and {opt.output_nc}); "
                            "use --lambda_identity 0")
        self.loss_names = ["D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B"]
        visuals_A = ["real_A", "fake_B", "rec_A"] + (["idt_B"] if self.use_identity else [])
        visuals_B = ["real_B", "fake_A", "rec_B"] + (["idt_A"] if self.use_identity else [])
        self.visual_names = visuals_A + visuals_B
        self.model_names = ["G_A", "G_B", "D_A", "D_B"] if self.isTrain else ["G_A", "G_B"]

        def generator(in_nc: int, out_nc: int) -> nn.Module:
            return self.to_device(networks.define_G(in_nc, out_nc, opt.ngf, opt.netG, opt.norm, not opt.no_dropout,
                                                    opt.init_type, opt.init_gain))

        self.netG_A = generator(opt.input_nc, opt.output_nc)
        self.netG_B = generator(opt.output_nc, opt.input_nc)
        if not self.isTrain:
            return

        def discriminator(in_nc: int) -> nn.Module:
            return self.to_device(networks.define_D(in_nc, opt.ndf, opt.netD, opt.n_layers_D, opt.norm,
                                                    opt.init_type, opt.init_gain))

        self.netD_A = discriminator(opt.output_nc)  # judges domain B
        self.netD_B = discriminator(opt.input_nc)  # judges domain A
        self.fake_A_pool = ImagePool(opt.pool_size)
        self.fake_B_pool = ImagePool(opt.pool_size)
        self.image_pools = {"fake_A": self.fake_A_pool, "fake_B": self.fake_B_pool}
        self.criterionGAN = losses.GANLoss(opt.gan_mode).to(self.device)
        self.criterionCycle = nn.L1Loss()
        self.criterionIdt = nn.L1Loss()
        self.optimizer_G = self.adam(itertools.chain(self.netG_A.parameters(), self.netG_B.parameters()))
        self.optimizer_D = self.adam(itertools.chain(self.netD_A.parameters(), self.netD_B.parameters()))
        self.optimizers = [self.optimizer_G, self.optimizer_D]

    def set_input(self, input: dict[str, Any]) -> None:
        self.real_A, self.real_B = self.paired_input(input)
        self.check_image_size(self.real_A)
        self.check_image_size(self.real_B)

    def forward(self) -> None:
        with self.autocast():
            self.fake_B = self.netG_A(self.real_A)
            self.rec_A = self.netG_B(self.fake_B)
            self.fake_A = self.netG_B(self.real_B)
            self.rec_B = self.netG_A(self.fake_A)

    def evaluation_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """G_A's translations and the batch's real B images; only G_A runs (a quarter of `test`)."""
        with torch.inference_mode(), self.autocast():
            return self.netG_A(self.real_A), self.real_B

    def generator_loss(self) -> torch.Tensor:
        """Adversarial, cycle and identity terms of both generators (the discriminators are frozen)."""
        lambda_A, lambda_B, lambda_idt = self.opt.lambda_A, self.opt.lambda_B, self.opt.lambda_identity
        with self.autocast():
            self.loss_G_A = self.criterionGAN(self.netD_A(self.fake_B), True)
            self.loss_G_B = self.criterionGAN(self.netD_B(self.fake_A), True)
            if self.use_identity:
                self.idt_A = self.netG_A(self.real_B)
                self.idt_B = self.netG_B(self.real_A)
        self.loss_cycle_A = self.criterionCycle(self.rec_A.float(), self.real_A.float()) * lambda_A
        self.loss_cycle_B = self.criterionCycle(self.rec_B.float(), self.real_B.float()) * lambda_B
        if self.use_identity:
            self.loss_idt_A = self.criterionIdt(self.idt_A.float(), self.real_B.float()) * lambda_B * lambda_idt
            self.loss_idt_B = self.criterionIdt(self.idt_B.float(), self.real_A.float()) * lambda_A * lambda_idt
        else:
            self.loss_idt_A = self.loss_idt_B = torch.zeros((), device=self.device)
        return (self.loss_G_A + self.loss_G_B + self.loss_cycle_A + self.loss_cycle_B
                + self.loss_idt_A + self.loss_idt_B)

    def discriminator_loss(self, netD: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Real images should score real, pooled fakes fake; the sum is halved to slow D relative to G."""
        with self.autocast():
            loss_real = self.criterionGAN(netD(real), True)
            loss_fake = self.criterionGAN(netD(fake.detach()), False)
        return (loss_real + loss_fake) * 0.5

    def optimize_parameters(self) -> None:
        """Generators first (discriminators frozen), then both discriminators on pooled fakes."""
        self.forward()
        self.set_requires_grad([self.netD_A, self.netD_B], False)
        self.loss_G = self.generator_loss()
        self.optimizer_step(self.optimizer_G, self.loss_G)
        self.set_requires_grad([self.netD_A, self.netD_B], True)
        self.loss_D_A = self.discriminator_loss(self.netD_A, self.real_B, self.fake_B_pool.query(self.fake_B))
        self.loss_D_B = self.discriminator_loss(self.netD_B, self.real_A, self.fake_A_pool.query(self.fake_A))
        self.optimizer_step(self.optimizer_D, self.loss_D_A + self.loss_D_B)
