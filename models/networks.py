"""Network factories: the tables of generators and discriminators, CUT's feature projector, weight initialisation,
and learning-rate schedules.

Each table maps an option value to what it builds (and facts about it, such as the generator's size multiple); the
same tables give the options their `choices`, so a name is checked once, where it is parsed. The building blocks
live in generators.py, discriminators.py, antialias.py, patch_projector.py, norms.py and schedulers.py. Networks
keep the original release's state-dict layout (the CUT release's for its anti-aliased variants and F), so published
weights load with strict=True.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn
from torch.nn import init

from models.antialias import BlurDownsample, BlurUpsample
from models.discriminators import NLayerDiscriminator, PixelDiscriminator
from models.generators import ResnetBlock, ResnetGenerator, UnetBlock, UnetGenerator
from models.norms import NORM_LAYERS, SyncBatchNorm, get_norm_layer
from models.patch_projector import PROJECTOR_NAMES, PatchProjector
from models.schedulers import LR_POLICIES, get_scheduler, step_scheduler
from util.errors import choose

__all__ = [
    "DISCRIMINATORS", "GENERATORS", "INIT_TYPES", "LR_POLICIES", "NORM_LAYERS", "PROJECTOR_NAMES",
    "BlurDownsample", "BlurUpsample", "NLayerDiscriminator", "PatchProjector", "PixelDiscriminator", "ResnetBlock",
    "ResnetGenerator", "SyncBatchNorm", "UnetBlock", "UnetGenerator",
    "define_D", "define_F", "define_G", "get_norm_layer", "get_scheduler", "init_net", "init_weights",
    "input_size_multiple", "step_scheduler",
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
    return lambda i, o, ngf, norm, drop, antialias, antialias_up: ResnetGenerator(i, o, ngf, norm, drop, n_blocks,
                                                                                   antialias, antialias_up)


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
    "pixel": lambda input_nc, ndf, n_layers, norm, antialias: PixelDiscriminator(input_nc, ndf, norm=norm),
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


def init_net(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Initialise `net`'s weights and return it (moving it to a device is the caller's job)."""
    init_weights(net, init_type, init_gain)
    return net


def define_G(input_nc: int, output_nc: int, ngf: int, netG: str, norm: str = "batch", use_dropout: bool = False,
             init_type: str = "normal", init_gain: float = 0.02, antialias: bool = False,
             antialias_up: bool = False) -> nn.Module:
    """Build and initialise the generator named `netG` (a key of GENERATORS).

    `antialias` / `antialias_up` give the ResNet generators the CUT release's blur-pool down- / upsampling (CUT
    turns both on unless --no_antialias / --no_antialias_up); the U-Nets have no such variant and ignore them.
    """
    net = choose("--netG", netG, GENERATORS).build(input_nc, output_nc, ngf, norm, use_dropout, antialias,
                                                   antialias_up)
    return init_net(net, init_type, init_gain)


def define_D(input_nc: int, ndf: int, netD: str, n_layers_D: int = 3, norm: str = "batch",
             init_type: str = "normal", init_gain: float = 0.02, antialias: bool = False) -> nn.Module:
    """Build and initialise the discriminator named `netD` (a key of DISCRIMINATORS); `antialias` gives the
    PatchGANs the CUT release's blur-pool downsampling.
    """
    net = choose("--netD", netD, DISCRIMINATORS)(input_nc, ndf, n_layers_D, norm, antialias)
    return init_net(net, init_type, init_gain)


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
