"""CUT and FastCUT (Park, Efros, Zhang, Zhu, ECCV 2020): one-sided unpaired translation with a patchwise
contrastive loss (PatchNCE) instead of a second generator and cycle consistency.

Options, defaults, presets, losses, visuals and checkpoint files are those of the CUT release
(taesungp/contrastive-unpaired-translation), so its command lines run here and its published weights load.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from models import losses, networks
from models.base_model import BaseModel
from models.discriminators import patchgan_min_side
from models.generators import check_layer_indices
from util import messages
from util.errors import UserError
from util.option_types import Range, add_bool_option

CUT_MODES = ("CUT", "cut", "FastCUT", "fastcut")
# What --CUT_mode sets (as defaults: options given on the command line win).
PRESETS: dict[str, dict[str, Any]] = {
    "cut": {"nce_idt": True, "lambda_NCE": 1.0},
    "fastcut": {"nce_idt": False, "lambda_NCE": 10.0, "flip_equivariance": True},
}
PRESET_SCHEDULES: dict[str, dict[str, int]] = {"cut": {}, "fastcut": {"n_epochs": 150, "n_epochs_decay": 50}}
PER_IMAGE_NORMS = ("instance", "none")  # norms under which an image's result does not depend on its batch


def parse_nce_layers(text: str) -> list[int]:
    """'0,4,8,12,16' -> [0, 4, 8, 12, 16]; a UserError for anything else."""
    try:
        layers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        layers = []
    if not layers:
        raise UserError(f"--nce_layers must be comma-separated generator layer indices such as 0,4,8,12,16, "
                        f"got '{text}'")
    return layers


class CUTModel(BaseModel):
    """Learns G: A -> B from unpaired images with one generator G, one discriminator D and a feature projector F.

    Losses (the CUT release's names):
      G_GAN           lambda_GAN * LSGAN loss of D(G(A)) against "real"
      NCE             lambda_NCE * PatchNCE between patches of A and the same patches of G(A), averaged over the
                      generator layers --nce_layers: each patch of G(A), projected by F, must pick its own
                      patch of A out of the others (--num_patches per layer, temperature --nce_T)
      NCE_Y           the same for B and G(B) (identity NCE, --nce_idt), which keeps G from changing B images
      G               G_GAN + NCE, or G_GAN + (NCE + NCE_Y) / 2 with --nce_idt
      D_real, D_fake  D's LSGAN terms on real B and on G(A); D is trained on their mean
    --CUT_mode CUT: nce_idt on, lambda_NCE 1. FastCUT: nce_idt off, lambda_NCE 10, --flip_equivariance (half of
    the steps translate mirrored images and compare their features mirrored back), 150 + 50 epochs.

    Exact shortcuts (same losses and gradients as the release's separate passes): under a per-image norm without
    dropout, the features of the real images come from the generator's translation pass instead of a second
    pass (they are keys of the loss, which takes no gradient through them), and G(A) and G(B) go through the
    encoder together.

    Metrics judge G: its fake_B against the real B images of the split, as two sets (FID, KID).
    """

    evaluation_unpaired_reason = ("--model cut learns from unpaired images: the real_B of a batch is an unrelated "
                                  "image of domain B, not the target of its fake_B")

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        p = parser
        p.add_argument("--CUT_mode", type=str, default="CUT", choices=CUT_MODES,
                       help="preset: CUT (nce_idt, lambda_NCE 1) or FastCUT (no nce_idt, lambda_NCE 10, "
                            "flip_equivariance, 150 + 50 epochs); options you give override it")
        p.add_argument("--normG", type=str, default="instance", choices=networks.NORM_LAYERS,
                       help="generator normalization (default: --norm's value)")
        p.add_argument("--normD", type=str, default="instance", choices=networks.NORM_LAYERS,
                       help="discriminator normalization (default: --norm's value)")
        p.add_argument("--no_antialias", action="store_true",
                       help="stride-2 convolutions instead of anti-aliased (blur-pool) downsampling in G and D")
        p.add_argument("--no_antialias_up", action="store_true",
                       help="transposed convolutions instead of anti-aliased (blur) upsampling in G")
        p.add_argument("--lambda_GAN", type=Range(float, min=0), default=1.0,
                       help="weight of the adversarial loss G_GAN")
        p.add_argument("--lambda_NCE", type=Range(float, min=0), default=1.0,
                       help="weight of the PatchNCE losses (0 = off)")
        add_bool_option(p, "--nce_idt", True, "identity PatchNCE on B images (NCE_Y)")
        p.add_argument("--nce_layers", type=str, default="0,4,8,12,16",
                       help="generator layers (indices into its top-level layers) whose features PatchNCE compares")
        add_bool_option(p, "--nce_includes_all_negatives_from_minibatch", False,
                        "negatives from every image of the minibatch, not only from the same image")
        p.add_argument("--netF", type=str, default="mlp_sample", choices=networks.PROJECTOR_NAMES,
                       help="feature projector: sampled patches through a 2-layer MLP, sampled patches as they are, "
                            "or a 4x4 grid of pooled features")
        p.add_argument("--netF_nc", type=Range(int, min=1), default=256, help="width of the projector's MLP")
        p.add_argument("--nce_T", type=Range(float, above=0), default=0.07, help="temperature of the PatchNCE loss")
        p.add_argument("--num_patches", type=Range(int, min=0), default=256,
                       help="patch locations sampled per layer (0 = all)")
        add_bool_option(p, "--flip_equivariance", False,
                        "translate mirrored images in half of the steps and mirror their features back (FastCUT)")
        p.set_defaults(init_type="xavier", no_dropout=True)
        if is_train:
            p.add_argument("--beta2", type=Range(float, min=0, below=1), default=0.999, help="Adam beta2")
            p.set_defaults(pool_size=0, gan_mode="lsgan", n_epochs=200, n_epochs_decay=200)
        given = parser.options_so_far()
        mode = given.CUT_mode.lower()
        p.set_defaults(normG=given.norm, normD=given.norm, **PRESETS[mode])
        if is_train:
            p.set_defaults(**PRESET_SCHEDULES[mode])
        return p

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        self.nce_idt = self.isTrain and opt.nce_idt
        self.loss_names = ["G_GAN", "D_real", "D_fake", "G", "NCE"] + (["NCE_Y"] if self.nce_idt else [])
        self.visual_names = ["real_A", "fake_B", "real_B"] + (["idt_B"] if self.nce_idt else [])
        self.model_names = ["G", "F", "D"] if self.isTrain else ["G"]
        self.netG = self.to_device(networks.define_G(
            opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.normG, not opt.no_dropout, opt.init_type,
            opt.init_gain, antialias=not opt.no_antialias, antialias_up=not opt.no_antialias_up))
        self.flipped = False
        self.real_features: list[torch.Tensor] | None = None
        if not self.isTrain:
            return

        self.nce_layers = parse_nce_layers(opt.nce_layers)
        self.check_training_options()
        self.netF = self.to_device(networks.define_F(opt.netF, opt.netF_nc, opt.init_type, opt.init_gain))
        self.netD = self.to_device(networks.define_D(opt.output_nc, opt.ndf, opt.netD, opt.n_layers_D, opt.normD,
                                                     opt.init_type, opt.init_gain, antialias=not opt.no_antialias))
        self.criterionGAN = losses.GANLoss(opt.gan_mode).to(self.device)
        self.optimizer_G = self.adam(self.netG.parameters(), opt.beta2)
        self.optimizer_D = self.adam(self.netD.parameters(), opt.beta2)
        self.optimizers = [self.optimizer_G, self.optimizer_D]
        self.optimizer_F: torch.optim.Optimizer | None = None  # made with F's MLPs (data_dependent_initialize)

        # The exact shortcuts hold when every image is processed on its own (per-image norm, no dropout); reusing
        # the translation pass's features also needs the last NCE layer's output to stay as the encoder-only
        # pass leaves it (not rectified in place by the layer after it).
        per_image = opt.normG in PER_IMAGE_NORMS and opt.no_dropout
        after_last = max(self.nce_layers) + 1
        changed_in_place = after_last < len(self.netG.model) and getattr(self.netG.model[after_last], "inplace", False)
        self.batch_queries = per_image
        self.reuse_real_features = per_image and not changed_in_place

    def check_training_options(self) -> None:
        """Refuse option values that cannot train, each with its fix."""
        opt = self.opt
        if not hasattr(self.netG, "features"):
            raise UserError(f"--model cut compares the features of the generator's layers, which --netG {opt.netG} "
                            "does not provide; use --netG resnet_9blocks or resnet_6blocks")
        check_layer_indices(self.nce_layers, len(self.netG.model))
        if self.nce_idt and opt.lambda_NCE > 0 and opt.input_nc != opt.output_nc:
            raise UserError(f"--nce_idt feeds B images to the A -> B generator, so it needs --input_nc equal to "
                            f"--output_nc (got {opt.input_nc} and {opt.output_nc}); use --nce_idt false")

    def data_dependent_initialize(self, batch: dict[str, Any]) -> None:
        """Check that the data has both domains; build F's MLPs from the widths of the first batch's features,
        and F's optimizer (F has no parameters with --netF sample or reshape, or without the NCE loss).
        """
        missing = [key for key in ("A", "B") if key not in batch]
        if missing:
            folders = "trainA/ and trainB/" if self.isTrain else "testA/ and testB/"
            use = f"use --dataset_mode unaligned with {folders} under --dataroot"
            if not self.isTrain:
                use += ", or translate one folder with --model test --antialias --antialias_up (see README)"
            raise UserError(f"--model cut needs images of both domains, but --dataset_mode {self.opt.dataset_mode} "
                            f"gives no '{missing[0]}' images; {use}")
        if self.opt.dataset_mode == "aligned":
            messages.info("--model cut uses the A and B halves of --dataset_mode aligned as two unpaired sets "
                          "(the pairing is not used)")
        if not self.isTrain:
            return
        if self.opt.lambda_NCE > 0 and self.netF.needs_build:
            source = batch["A" if self.opt.direction == "AtoB" else "B"][:1].to(self.device)
            self.netG.eval()  # no batch-norm statistics are updated by this look at the shapes
            with torch.no_grad(), self.autocast():
                features = self.netG(source, self.nce_layers, encode_only=True)
            self.netG.train()
            self.netF.build([feature.shape[1] for feature in features], self.device)
        if any(True for _ in self.netF.parameters()):
            self.optimizer_F = self.adam(self.netF.parameters(), self.opt.beta2)
            self.optimizers.append(self.optimizer_F)

    def set_input(self, input: dict[str, Any]) -> None:
        self.real_A, self.real_B = self.paired_input(input)
        for images in (self.real_A, self.real_B):
            self.check_image_size(images)
            if self.isTrain:
                self.check_discriminator_size(images)

    def check_discriminator_size(self, images: torch.Tensor) -> None:
        """Refuse images too small for D's downsamplings, with the smallest side that fits."""
        opt = self.opt
        if opt.netD == "pixel":
            return
        n_layers = 3 if opt.netD == "basic" else opt.n_layers_D
        smallest = patchgan_min_side(n_layers)
        height, width = images.shape[-2:]
        if min(height, width) < smallest:
            raise UserError(f"--netD {opt.netD} halves the image {n_layers} times and needs sides of at least "
                            f"{smallest}, got {width}x{height}; raise --crop_size (or --load_size with "
                            "--preprocess none)")

    def forward(self) -> None:
        """G(A) (and G(B) with --nce_idt, in the same batch); with --flip_equivariance, mirrored in half of the
        training steps (never under no_grad, as in test(), so looking at the outputs draws no random numbers).
        """
        count = self.real_A.shape[0]
        real = torch.cat([self.real_A, self.real_B]) if self.nce_idt else self.real_A
        training_step = self.isTrain and torch.is_grad_enabled()  # not a look at the outputs (test, evaluation)
        self.flipped = training_step and self.opt.flip_equivariance and bool(torch.rand(()) < 0.5)
        if self.flipped:
            real = real.flip(3)
        keep_features = (training_step and self.opt.lambda_NCE > 0 and self.reuse_real_features
                         and not self.flipped)
        with self.autocast():
            if keep_features:
                self.fake, features = self.netG(real, self.nce_layers)
                self.real_features = [feature.detach() for feature in features]
            else:
                self.fake, self.real_features = self.netG(real), None
        self.fake_B = self.fake[:count]
        if self.nce_idt:
            self.idt_B = self.fake[count:]

    def discriminator_loss(self) -> torch.Tensor:
        """D on G(A) (detached) against "fake" and on real B against "real"; the mean of the two."""
        with self.autocast():
            self.loss_D_fake = self.criterionGAN(self.netD(self.fake_B.detach()), False)
            self.loss_D_real = self.criterionGAN(self.netD(self.real_B), True)
        return (self.loss_D_fake + self.loss_D_real) * 0.5

    def generator_loss(self) -> torch.Tensor:
        """G_GAN plus the PatchNCE terms (D frozen)."""
        opt = self.opt
        zero = torch.zeros((), device=self.device)
        if opt.lambda_GAN > 0:
            with self.autocast():
                self.loss_G_GAN = self.criterionGAN(self.netD(self.fake_B), True) * opt.lambda_GAN
        else:
            self.loss_G_GAN = zero
        self.loss_NCE, self.loss_NCE_Y = self.nce_losses() if opt.lambda_NCE > 0 else (zero, zero)
        nce = (self.loss_NCE + self.loss_NCE_Y) * 0.5 if self.nce_idt else self.loss_NCE
        return self.loss_G_GAN + nce

    def nce_losses(self) -> tuple[torch.Tensor, torch.Tensor]:
        """PatchNCE between A and G(A) and, with --nce_idt, between B and G(B) (else 0)."""
        count = self.real_A.shape[0]
        sources = [self.real_A, self.real_B] if self.nce_idt else [self.real_A]
        targets = [self.fake_B, self.idt_B] if self.nce_idt else [self.fake_B]

        def split(features: list[torch.Tensor] | None) -> list[list[torch.Tensor] | None]:
            if features is None:
                return [None] * len(sources)
            return [[f[i * count:(i + 1) * count] for f in features] for i in range(len(sources))]

        queries = split(self.encode(self.fake) if self.batch_queries else None)
        keys = split(self.real_features)
        values = []
        for source, target, query, key in zip(sources, targets, queries, keys, strict=True):
            # The release's order: the translated image's features, then the source's.
            query = query if query is not None else self.encode(target)
            if key is None:
                with torch.no_grad():
                    key = self.encode(source)
            if self.flipped:
                query = [feature.flip(3) for feature in query]
            values.append(self.patch_nce(key, query))
        return values[0], values[1] if self.nce_idt else torch.zeros((), device=self.device)

    def encode(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The generator's features at --nce_layers, computed up to the last of them."""
        with self.autocast():
            return self.netG(images, self.nce_layers, encode_only=True)

    def patch_nce(self, key_features: list[torch.Tensor], query_features: list[torch.Tensor]) -> torch.Tensor:
        """lambda_NCE * PatchNCE averaged over the layers: F samples the same locations of keys and queries."""
        opt = self.opt
        count = query_features[0].shape[0]
        with self.autocast():
            with torch.no_grad():  # the loss takes no gradient through the keys
                keys, patch_ids = self.netF(key_features, opt.num_patches, None)
            queries, _ = self.netF(query_features, opt.num_patches, patch_ids)
        total = torch.zeros((), device=self.device)
        for query, key in zip(queries, keys, strict=True):
            total = total + losses.patch_nce_loss(query, key, count, opt.nce_T,
                                                  opt.nce_includes_all_negatives_from_minibatch) * opt.lambda_NCE
        return total / len(queries)

    def optimize_parameters(self) -> None:
        """As the release: D first, then G and F together on the updated D (frozen)."""
        self.forward()
        self.set_requires_grad(self.netD, True)
        self.loss_D = self.discriminator_loss()
        self.optimizer_step(self.optimizer_D, self.loss_D)
        self.set_requires_grad(self.netD, False)
        self.loss_G = self.generator_loss()
        with_F = [self.optimizer_F] if self.optimizer_F is not None else []
        self.optimizer_step([self.optimizer_G, *with_F], self.loss_G)

    def evaluation_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """G's translations of the batch's A images and its real B images (G(B) of --nce_idt is not needed)."""
        with torch.inference_mode(), self.autocast():
            return self.netG(self.real_A), self.real_B

    def network_options_hint(self, name: str) -> str:
        """The options that shape network `name`, anti-aliasing included, for mismatch messages."""
        o = self.opt
        antialias = "--no_antialias" if o.no_antialias else "without --no_antialias"
        if name == "D":
            return f"--netD {o.netD} --n_layers_D {o.n_layers_D} --normD {o.normD} --ndf {o.ndf}, {antialias}"
        generator = (f"--netG {o.netG} --normG {o.normG} --ngf {o.ngf} --no_dropout {o.no_dropout} "
                     f"--input_nc {o.input_nc} --output_nc {o.output_nc}")
        if name == "F":
            return f"--netF {o.netF} --netF_nc {o.netF_nc} --nce_layers {o.nce_layers} for {generator}"
        antialias_up = "--no_antialias_up" if o.no_antialias_up else "without --no_antialias_up"
        return f"{generator}, {antialias}, {antialias_up}"
