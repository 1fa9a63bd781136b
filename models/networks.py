"""Network factories: generators, discriminators, CUT's feature projector, normalization, weight init and
learning-rate schedules.

The building blocks live in generators.py, discriminators.py, antialias.py, patch_projector.py, norms.py and
schedulers.py; this module is the public face the models and options use. Networks keep the original release's
state-dict layout (the CUT release's for its anti-aliased variants and F), so published weights load with
strict=True.
"""

from __future__ import annotations

from functools import partial

from torch import nn
from torch.nn import init

from models.antialias import BlurDownsample, BlurUpsample
from models.discriminators import NLayerDiscriminator, PixelDiscriminator
from models.generators import ResnetBlock, ResnetGenerator, UnetBlock, UnetGenerator
from models.norms import NORM_NAMES, SyncBatchNorm, get_norm_layer
from models.patch_projector import PROJECTOR_NAMES, PatchProjector
from models.schedulers import LR_POLICIES, get_scheduler, step_scheduler
from util.errors import unknown_name

__all__ = [
    "DISCRIMINATOR_NAMES", "GENERATOR_NAMES", "INIT_TYPES", "LR_POLICIES", "NORM_NAMES", "PROJECTOR_NAMES",
    "BlurDownsample", "BlurUpsample", "NLayerDiscriminator", "PatchProjector", "PixelDiscriminator", "ResnetBlock",
    "ResnetGenerator", "SyncBatchNorm", "UnetBlock", "UnetGenerator",
    "define_D", "define_F", "define_G", "get_norm_layer", "get_scheduler", "init_net", "init_weights",
    "input_size_multiple", "step_scheduler",
]

GENERATOR_NAMES = ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks")
DISCRIMINATOR_NAMES = ("basic", "n_layers", "pixel")
INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> None:
    """Re-initialise `net` in place.

    Convolution and linear weights: normal N(0, gain), xavier-normal (gain), kaiming-normal (fan_in) or
    orthogonal (gain); their biases 0. Batch-norm scales ~ N(1, gain), shifts 0.
    """
    if init_type not in INIT_TYPES:
        raise unknown_name("--init_type", init_type, INIT_TYPES)
    for m in net.modules():
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
            if init_type == "normal":
                init.normal_(m.weight, 0.0, init_gain)
            elif init_type == "xavier":
                init.xavier_normal_(m.weight, gain=init_gain)
            elif init_type == "kaiming":
                init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                init.orthogonal_(m.weight, gain=init_gain)
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
    """Build and initialise the generator named `netG` (one of GENERATOR_NAMES).

    `antialias` / `antialias_up` give the ResNet generators the CUT release's blur-pool down- / upsampling (CUT
    turns both on unless --no_antialias / --no_antialias_up); the U-Nets have no such variant and ignore them.
    """
    if netG in ("resnet_9blocks", "resnet_6blocks"):
        n_blocks = 9 if netG == "resnet_9blocks" else 6
        net: nn.Module = ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, n_blocks, antialias,
                                         antialias_up)
    elif netG == "unet_256":
        net = UnetGenerator(input_nc, output_nc, 8, ngf, norm, use_dropout)
    elif netG == "unet_128":
        net = UnetGenerator(input_nc, output_nc, 7, ngf, norm, use_dropout)
    else:
        raise unknown_name("--netG", netG, GENERATOR_NAMES)
    return init_net(net, init_type, init_gain)


def define_D(input_nc: int, ndf: int, netD: str, n_layers_D: int = 3, norm: str = "batch",
             init_type: str = "normal", init_gain: float = 0.02, antialias: bool = False) -> nn.Module:
    """Build and initialise the discriminator named `netD` (one of DISCRIMINATOR_NAMES).

    'basic' is the 70x70 PatchGAN (n_layers 3), 'n_layers' the PatchGAN with `n_layers_D`, 'pixel' the 1x1 one.
    `antialias` gives the PatchGANs the CUT release's blur-pool downsampling; 'pixel' does not downsample and
    ignores it.
    """
    if netD == "basic":
        net: nn.Module = NLayerDiscriminator(input_nc, ndf, n_layers=3, norm=norm, antialias=antialias)
    elif netD == "n_layers":
        net = NLayerDiscriminator(input_nc, ndf, n_layers=n_layers_D, norm=norm, antialias=antialias)
    elif netD == "pixel":
        net = PixelDiscriminator(input_nc, ndf, norm=norm)
    else:
        raise unknown_name("--netD", netD, DISCRIMINATOR_NAMES)
    return init_net(net, init_type, init_gain)


def define_F(netF: str = "mlp_sample", netF_nc: int = 256, init_type: str = "normal",
             init_gain: float = 0.02) -> PatchProjector:
    """Build CUT's feature projector F named `netF` (one of PROJECTOR_NAMES).

    Its MLPs ('mlp_sample') are created from the first feature maps it projects, and initialised then with
    `init_type` / `init_gain` like every other network; build it before making its optimizer.
    """
    if init_type not in INIT_TYPES:
        raise unknown_name("--init_type", init_type, INIT_TYPES)
    return PatchProjector(netF, netF_nc, init=partial(init_weights, init_type=init_type, init_gain=init_gain))


def input_size_multiple(netG: str) -> int:
    """The multiple that image sides must be for generator `netG` (a U-Net needs the full 2**num_downs side)."""
    multiples = {"unet_256": 256, "unet_128": 128, "resnet_9blocks": 4, "resnet_6blocks": 4}
    if netG not in multiples:
        raise unknown_name("--netG", netG, GENERATOR_NAMES)
    return multiples[netG]
