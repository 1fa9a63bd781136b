"""Network factories: the tables of generators and discriminators, CUT's feature projector, weight initialisation,
and learning-rate schedules.

Each table maps an option value to what it builds (and facts about it, such as the generator's size multiple); the
same tables give the options their `choices`, so a name is checked once, where it is parsed. The building blocks
live in generators.py, discriminators.py, antialias.py, patch_projector.py, norms.py and schedulers.py. Networks
keep the original release's state-dict layout (the CUT release's for its anti-aliased variants and F), so published
weights load with strict=True.

Code written for the original release imports its names from here; the end of this module keeps the ones that moved
(README: "Porting code written for the original release").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.nn import init

from models import losses
from models.antialias import BlurDownsample, BlurUpsample
from models.discriminators import NLayerDiscriminator, PixelDiscriminator
from models.generators import ResnetBlock, ResnetGenerator, UnetBlock, UnetGenerator, unet_level_layers
from models.norms import NORM_LAYERS, NormSpec, SyncBatchNorm, get_norm_layer
from models.patch_projector import PROJECTOR_NAMES, PatchProjector
from models.schedulers import LR_POLICIES, advance_scheduler, get_scheduler, schedule_options, step_scheduler
from util import messages
from util.errors import choose

__all__ = [
    "DISCRIMINATORS", "GENERATORS", "INIT_TYPES", "LR_POLICIES", "NORM_LAYERS", "PROJECTOR_NAMES",
    "BlurDownsample", "BlurUpsample", "NLayerDiscriminator", "PatchProjector", "PixelDiscriminator", "ResnetBlock",
    "ResnetGenerator", "SyncBatchNorm", "UnetBlock", "UnetGenerator", "UnetSkipConnectionBlock",
    "cal_gradient_penalty", "define_D", "define_F", "define_G", "get_norm_layer", "get_scheduler", "init_net",
    "init_weights", "input_size_multiple", "advance_scheduler", "schedule_options", "step_scheduler",
]


@dataclass(frozen=True)
class Generator:
    """A `--netG` choice: how to build it from (input_nc, output_nc, ngf, norm, use_dropout, antialias,
    antialias_up), and the multiple its input sides must be (a U-Net halves the image down to 1x1, a ResNet
    generator downsamples twice). Only the ResNet generators have the CUT release's anti-aliased variant.
    """

    build: Callable[[int, int, int, str, bool, bool, bool], nn.Module]
    size_multiple: int


def _unet(num_downs: int) -> Callable[..., nn.Module]:
    return lambda i, o, ngf, norm, drop, antialias, antialias_up: UnetGenerator(i, o, num_downs, ngf, norm, drop)


def _resnet(n_blocks: int) -> Callable[..., nn.Module]:
    return lambda i, o, ngf, norm, drop, antialias, antialias_up: ResnetGenerator(
        i, o, ngf, norm, drop, n_blocks, antialias=antialias, antialias_up=antialias_up)


GENERATORS: dict[str, Generator] = {
    "unet_256": Generator(_unet(8), 256),
    "unet_128": Generator(_unet(7), 128),
    "resnet_9blocks": Generator(_resnet(9), 4),
    "resnet_6blocks": Generator(_resnet(6), 4),
}

# `--netD` choices, built from (input_nc, ndf, n_layers_D, norm, antialias): 'basic' is the 70x70 PatchGAN (3
# layers), 'n_layers' the PatchGAN with --n_layers_D layers, 'pixel' the 1x1 PixelGAN (it does not downsample, so
# it has no anti-aliased variant).
DISCRIMINATORS: dict[str, Callable[[int, int, int, str, bool], nn.Module]] = {
    "basic": lambda input_nc, ndf, n_layers, norm, antialias: NLayerDiscriminator(input_nc, ndf, 3, norm, antialias),
    "n_layers": lambda input_nc, ndf, n_layers, norm, antialias: NLayerDiscriminator(input_nc, ndf, n_layers, norm,
                                                                                     antialias),
    "pixel": lambda input_nc, ndf, n_layers, norm, antialias: PixelDiscriminator(input_nc, ndf, norm),
}

# `--init_type` choices: how a convolution or linear weight is drawn, given --init_gain.
INIT_TYPES: dict[str, Callable[[nn.Parameter, float], object]] = {
    "normal": lambda weight, gain: init.normal_(weight, 0.0, gain),
    "xavier": lambda weight, gain: init.xavier_normal_(weight, gain=gain),
    "kaiming": lambda weight, gain: init.kaiming_normal_(weight, a=0, mode="fan_in"),
    "orthogonal": lambda weight, gain: init.orthogonal_(weight, gain=gain),
}


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> None:
    """Re-initialise `net` in place.

    Convolution and linear weights: normal N(0, gain), xavier-normal (gain), kaiming-normal (fan_in) or
    orthogonal (gain); their biases 0. Batch-norm scales ~ N(1, gain), shifts 0.
    """
    draw = choose("--init_type", init_type, INIT_TYPES)
    for m in net.modules():
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
            draw(m.weight, init_gain)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            init.normal_(m.weight, 1.0, init_gain)
            init.zeros_(m.bias)


def init_net(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02,
             gpu_ids: Sequence[int] = ()) -> nn.Module:
    """Initialise `net`'s weights and return it.

    Moving it to a device is the caller's job (a model's `to_device`, or `setup`, which moves every network to the
    model's device). `gpu_ids` is the original release's argument, kept for code written for it: a non-empty list
    moves the network to cuda:<first id> (BaseModel.gpu_ids names the model's GPU); there is no DataParallel, as
    several GPUs come from torchrun.
    """
    init_weights(net, init_type, init_gain)
    if len(gpu_ids) > 0:
        net.to(torch.device("cuda", gpu_ids[0]))
    return net


def define_G(input_nc: int, output_nc: int, ngf: int, netG: str, norm: str = "batch", use_dropout: bool = False,
             init_type: str = "normal", init_gain: float = 0.02, gpu_ids: Sequence[int] = (), antialias: bool = False,
             antialias_up: bool = False) -> nn.Module:
    """Build and initialise the generator named `netG` (a key of GENERATORS); `gpu_ids` as in init_net.

    `antialias` / `antialias_up` give the ResNet generators the CUT release's blur-pool down- / upsampling (CUT
    turns both on unless --no_antialias / --no_antialias_up); the U-Nets have no such variant and ignore them.
    """
    net = choose("--netG", netG, GENERATORS).build(input_nc, output_nc, ngf, norm, use_dropout, antialias,
                                                   antialias_up)
    return init_net(net, init_type, init_gain, gpu_ids)


def define_D(input_nc: int, ndf: int, netD: str, n_layers_D: int = 3, norm: str = "batch",
             init_type: str = "normal", init_gain: float = 0.02, gpu_ids: Sequence[int] = (),
             antialias: bool = False) -> nn.Module:
    """Build and initialise the discriminator named `netD` (a key of DISCRIMINATORS); `gpu_ids` as in init_net;
    `antialias` gives the PatchGANs the CUT release's blur-pool downsampling.
    """
    net = choose("--netD", netD, DISCRIMINATORS)(input_nc, ndf, n_layers_D, norm, antialias)
    return init_net(net, init_type, init_gain, gpu_ids)


def define_F(netF: str = "mlp_sample", netF_nc: int = 256, init_type: str = "normal",
             init_gain: float = 0.02) -> PatchProjector:
    """Build CUT's feature projector F named `netF` (one of PROJECTOR_NAMES).

    Its MLPs ('mlp_sample') are created from the first feature maps it projects, and initialised then with
    `init_type` / `init_gain` like every other network; build it before making its optimizer.
    """
    choose("--init_type", init_type, INIT_TYPES)
    return PatchProjector(netF, netF_nc, init=partial(init_weights, init_type=init_type, init_gain=init_gain))


def input_size_multiple(netG: str) -> int:
    """The multiple that image sides must be for generator `netG`."""
    return choose("--netG", netG, GENERATORS).size_multiple


# The original release's names that moved -------------------------------------------------------------------------
# Thin adapters over the code above, for model files written for the original release (README: "Porting code written
# for the original release"). New code uses the names the warnings point at.

class UnetSkipConnectionBlock(UnetBlock):
    """The original release's U-Net level, with its signature: a UnetBlock whose layers come from
    `generators.unet_level_layers` (the same state-dict layout), so a U-Net assembled from these blocks loads the
    original's weights.
    """

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: int | None = None, submodule: nn.Module | None = None,
                 outermost: bool = False, innermost: bool = False, norm_layer: NormSpec = nn.BatchNorm2d,
                 use_dropout: bool = False) -> None:
        super().__init__(unet_level_layers(outer_nc, inner_nc, input_nc, submodule, outermost, innermost, norm_layer,
                                           use_dropout), skip=not outermost)
        self.outermost = outermost


def cal_gradient_penalty(netD: nn.Module, real_data: torch.Tensor, fake_data: torch.Tensor, device: Any = None,
                         type: str = "mixed", constant: float = 1.0, lambda_gp: float = 10.0
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The original release's WGAN-GP helper: (penalty, per-sample gradients); `device` is not needed (the inputs'
    device is used). Deprecated: use models.losses.gradient_penalty.
    """
    messages.deprecated("models.networks.cal_gradient_penalty", "models.losses.gradient_penalty")
    return losses.gradient_penalty_and_gradients(netD, real_data, fake_data, type, constant, lambda_gp)


# Classes the original release defined here that now live elsewhere: the same objects, with a warning once.
_MOVED: dict[str, tuple[str, object]] = {
    "GANLoss": ("models.losses.GANLoss", losses.GANLoss),
    "Identity": ("torch.nn.Identity", nn.Identity),
}


def __getattr__(name: str) -> object:
    """Resolve the original release's moved names (module attribute hook, PEP 562)."""
    if name in _MOVED:
        new_name, value = _MOVED[name]
        messages.deprecated(f"models.networks.{name}", new_name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
