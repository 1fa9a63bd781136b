"""Network factories: the tables of generators and discriminators, weight initialisation, and learning-rate schedules.

Each table maps an option value to what it builds (and facts about it, such as the generator's size multiple); the
same tables give the options their `choices`, so a name is checked once, where it is parsed. The building blocks
live in generators.py, discriminators.py, norms.py and schedulers.py. Networks keep the original release's
state-dict layout, so its published weights load with strict=True.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torch.nn import init

from models.discriminators import NLayerDiscriminator, PixelDiscriminator
from models.generators import ResnetBlock, ResnetGenerator, UnetBlock, UnetGenerator
from models.norms import NORM_LAYERS, SyncBatchNorm, get_norm_layer
from models.schedulers import LR_POLICIES, advance_scheduler, get_scheduler, schedule_options, step_scheduler
from util.errors import choose

__all__ = [
    "DISCRIMINATORS", "GENERATORS", "INIT_TYPES", "LR_POLICIES", "NORM_LAYERS",
    "NLayerDiscriminator", "PixelDiscriminator", "ResnetBlock", "ResnetGenerator", "SyncBatchNorm", "UnetBlock",
    "UnetGenerator",
    "define_D", "define_G", "get_norm_layer", "get_scheduler", "init_net", "init_weights", "input_size_multiple",
    "advance_scheduler", "schedule_options", "step_scheduler",
]


@dataclass(frozen=True)
class Generator:
    """A `--netG` choice: how to build it from (input_nc, output_nc, ngf, norm, use_dropout), and the multiple its
    input sides must be (a U-Net halves the image down to 1x1, a ResNet generator downsamples twice).
    """

    build: Callable[[int, int, int, str, bool], nn.Module]
    size_multiple: int


GENERATORS: dict[str, Generator] = {
    "unet_256": Generator(lambda i, o, ngf, norm, drop: UnetGenerator(i, o, 8, ngf, norm, drop), 256),
    "unet_128": Generator(lambda i, o, ngf, norm, drop: UnetGenerator(i, o, 7, ngf, norm, drop), 128),
    "resnet_9blocks": Generator(lambda i, o, ngf, norm, drop: ResnetGenerator(i, o, ngf, norm, drop, n_blocks=9), 4),
    "resnet_6blocks": Generator(lambda i, o, ngf, norm, drop: ResnetGenerator(i, o, ngf, norm, drop, n_blocks=6), 4),
}

# `--netD` choices, built from (input_nc, ndf, n_layers_D, norm): 'basic' is the 70x70 PatchGAN (3 layers),
# 'n_layers' the PatchGAN with --n_layers_D layers, 'pixel' the 1x1 PixelGAN.
DISCRIMINATORS: dict[str, Callable[[int, int, int, str], nn.Module]] = {
    "basic": lambda input_nc, ndf, n_layers, norm: NLayerDiscriminator(input_nc, ndf, n_layers=3, norm=norm),
    "n_layers": lambda input_nc, ndf, n_layers, norm: NLayerDiscriminator(input_nc, ndf, n_layers=n_layers, norm=norm),
    "pixel": lambda input_nc, ndf, n_layers, norm: PixelDiscriminator(input_nc, ndf, norm=norm),
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
             init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Build and initialise the generator named `netG` (a key of GENERATORS)."""
    net = choose("--netG", netG, GENERATORS).build(input_nc, output_nc, ngf, norm, use_dropout)
    return init_net(net, init_type, init_gain)


def define_D(input_nc: int, ndf: int, netD: str, n_layers_D: int = 3, norm: str = "batch",
             init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Build and initialise the discriminator named `netD` (a key of DISCRIMINATORS)."""
    net = choose("--netD", netD, DISCRIMINATORS)(input_nc, ndf, n_layers_D, norm)
    return init_net(net, init_type, init_gain)


def input_size_multiple(netG: str) -> int:
    """The multiple that image sides must be for generator `netG`."""
    return choose("--netG", netG, GENERATORS).size_multiple
