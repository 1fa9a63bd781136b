"""Generators: the ResNet encoder/decoder (CycleGAN, and CUT with anti-aliasing) and the U-Net (pix2pix).

Module order inside each nn.Sequential is fixed by the original release's state-dict keys, so parameter-free layers
(padding, activations, dropout) keep their positions even though they hold no weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from models.antialias import BlurDownsample, BlurUpsample
from models.norms import NormSpec, norm_layer_and_bias
from util.errors import UserError, choose

# `padding_type` of the ResNet blocks: the padding layer before each 3x3 convolution ('zero' pads inside it).
PADDINGS: dict[str, type[nn.Module] | None] = {
    "reflect": nn.ReflectionPad2d,
    "replicate": nn.ReplicationPad2d,
    "zero": None,
}


class ResnetBlock(nn.Module):
    """Residual block: x + [pad, conv3x3, norm, ReLU, (dropout), pad, conv3x3, norm](x).

    `norm_layer` is a --norm name or a layer factory (models/norms.py: NormSpec); `use_bias` None follows it.
    The signature is the original release's.
    """

    def __init__(self, dim: int, padding_type: str = "reflect", norm_layer: NormSpec = "batch",
                 use_dropout: bool = False, use_bias: bool | None = None) -> None:
        super().__init__()
        factory, bias = norm_layer_and_bias(norm_layer)
        self.conv_block = self.build_conv_block(dim, padding_type, factory, use_dropout,
                                                bias if use_bias is None else use_bias)

    def build_conv_block(self, dim: int, padding_type: str, norm_layer: Callable[[int], nn.Module],
                         use_dropout: bool, use_bias: bool) -> nn.Sequential:
        """The residual branch (a subclass may override it, as in the original release)."""
        pad = choose("padding_type", padding_type, PADDINGS)

        def conv() -> list[nn.Module]:
            padding = [pad(1)] if pad else []
            return [*padding, nn.Conv2d(dim, dim, kernel_size=3, padding=0 if pad else 1, bias=use_bias)]

        layers = [*conv(), norm_layer(dim), nn.ReLU(inplace=True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [*conv(), norm_layer(dim)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """7x7 stem, two downsamplings, `n_blocks` residual blocks, two upsamplings, 7x7 head with Tanh.

    By default (the original release) the downsamplings are stride-2 convolutions and the upsamplings stride-2
    transposed convolutions. `antialias` (the CUT release's default) downsamples with a stride-1 convolution, norm,
    ReLU and a blur-pool (BlurDownsample); `antialias_up` upsamples with a blur (BlurUpsample) followed by a
    stride-1 convolution, norm and ReLU. Either way image sides must be multiples of 4 and at least 8.
    `norm_layer` is a --norm name or a layer factory; `padding_type` pads the residual blocks (the original's
    signature, with the CUT options after it).

    Called with `layers` (indices into `self.model`), it also returns the outputs of those top-level layers (the
    CUT release's NCE layers); with `encode_only` it stops after the last of them. As in the CUT release, a layer
    whose output is followed by an in-place ReLU (e.g. layer 8 without anti-aliasing) yields the rectified tensor
    when the ReLU runs before the pass stops.
    """

    def __init__(self, input_nc: int, output_nc: int, ngf: int = 64, norm_layer: NormSpec = "batch",
                 use_dropout: bool = False, n_blocks: int = 6, padding_type: str = "reflect", antialias: bool = False,
                 antialias_up: bool = False) -> None:
        super().__init__()
        norm, bias = norm_layer_and_bias(norm_layer)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, bias=bias),
            norm(ngf),
            nn.ReLU(inplace=True),
        ]
        for width in (ngf, ngf * 2):
            if antialias:
                layers += [
                    nn.Conv2d(width, width * 2, kernel_size=3, stride=1, padding=1, bias=bias),
                    norm(width * 2),
                    nn.ReLU(inplace=True),
                    BlurDownsample(width * 2),
                ]
            else:
                layers += [
                    nn.Conv2d(width, width * 2, kernel_size=3, stride=2, padding=1, bias=bias),
                    norm(width * 2),
                    nn.ReLU(inplace=True),
                ]
        layers += [ResnetBlock(ngf * 4, padding_type, norm, use_dropout, bias) for _ in range(n_blocks)]
        for width in (ngf * 4, ngf * 2):
            if antialias_up:
                layers += [
                    BlurUpsample(width),
                    nn.Conv2d(width, width // 2, kernel_size=3, stride=1, padding=1, bias=bias),
                    norm(width // 2),
                    nn.ReLU(inplace=True),
                ]
            else:
                layers += [
                    nn.ConvTranspose2d(width, width // 2, kernel_size=3, stride=2, padding=1, output_padding=1,
                                       bias=bias),
                    norm(width // 2),
                    nn.ReLU(inplace=True),
                ]
        layers += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, output_nc, kernel_size=7),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, layers: list[int] | None = None, encode_only: bool = False
                ) -> torch.Tensor | list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """The translated image (N, output_nc, H, W); with `layers`, the outputs of those layers of `self.model`.

        - no `layers`: the image
        - `layers` and `encode_only`: the features, in the order of `layers`, computed up to the last one only
        - `layers` alone: (image, features)

        TorchScript compiles the image path only (the size check and the features are skipped when scripting).
        """
        if not torch.jit.is_scripting():
            check_image_size(x)
            if layers:
                return self.features(x, layers, encode_only)
        return self.model(x)

    def features(self, x: torch.Tensor, layers: Sequence[int], encode_only: bool = False
                 ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """The outputs of the top-level layers `layers` (and the image unless `encode_only`); see forward."""
        check_layer_indices(layers, len(self.model))
        wanted = set(layers)
        last = max(layers) if encode_only else len(self.model) - 1
        found: dict[int, torch.Tensor] = {}
        for index, layer in enumerate(self.model):
            x = layer(x)
            if index in wanted:
                found[index] = x
            if index == last:
                break
        features = [found[index] for index in layers]
        return features if encode_only else (x, features)


def check_image_size(x: torch.Tensor) -> None:
    """Refuse image sides the ResNet generator cannot keep: they must be multiples of 4 and at least 8."""
    height, width = x.shape[-2:]
    if height % 4 or width % 4 or height < 8 or width < 8:
        raise UserError(f"the ResNet generator needs image sides that are multiples of 4 and at least 8, got "
                        f"{width}x{height}; set --crop_size (or --load_size with --preprocess none) to such a size")


def check_layer_indices(layers: Sequence[int], count: int) -> None:
    """Refuse feature-layer indices outside the generator's `count` top-level layers."""
    bad = [index for index in layers if not 0 <= index < count]
    if bad:
        raise UserError(f"--nce_layers index {bad[0]} is not a layer of the generator, whose layers are numbered "
                        f"0 to {count - 1}; choose indices in that range")


class UnetBlock(nn.Module):
    """One U-Net level: downsample, run the inner levels, upsample; all but the outermost add a skip connection.

    `layers` is the level's whole path (encoder layers, the inner UnetBlock, decoder layers); a skip connection
    concatenates the level's input with that path's output along the channels.
    """

    def __init__(self, layers: list[nn.Module], skip: bool) -> None:
        super().__init__()
        self.model = nn.Sequential(*layers)
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.skip:
            return self.model(x)
        return torch.cat([x, self.model(x)], dim=1)


def _down(in_nc: int, out_nc: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)


def _up(in_nc: int, out_nc: int, bias: bool) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)


def unet_level_layers(outer_nc: int, inner_nc: int, input_nc: int | None = None, submodule: nn.Module | None = None,
                      outermost: bool = False, innermost: bool = False, norm_layer: NormSpec = "batch",
                      use_dropout: bool = False) -> list[nn.Module]:
    """The layers of one U-Net level (a UnetBlock) around `submodule` (the levels below it; none for the innermost).

    The level takes `input_nc` channels (default outer_nc), convolves down to `inner_nc`, runs the submodule,
    convolves up to `outer_nc` and, except the outermost level, concatenates its input. The innermost and outermost
    levels have no norm after their down convolution; the outermost ends with Tanh; `use_dropout` adds Dropout(0.5)
    after the decoder norm of a middle level.
    """
    norm, bias = norm_layer_and_bias(norm_layer)
    input_nc = outer_nc if input_nc is None else input_nc
    # The encoder LeakyReLU is not in place because the skip connection still needs the level's input (the
    # original's in-place version alters the skip too, which the parent's decoder ReLU then makes irrelevant).
    if outermost:
        layers = [_down(input_nc, inner_nc, bias), submodule, nn.ReLU(inplace=True),
                  _up(inner_nc * 2, outer_nc, bias=True), nn.Tanh()]
    elif innermost:
        layers = [nn.LeakyReLU(0.2), _down(input_nc, inner_nc, bias), nn.ReLU(inplace=True),
                  _up(inner_nc, outer_nc, bias), norm(outer_nc)]
    else:
        layers = [nn.LeakyReLU(0.2), _down(input_nc, inner_nc, bias), norm(inner_nc), submodule,
                  nn.ReLU(inplace=True), _up(inner_nc * 2, outer_nc, bias), norm(outer_nc)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
    return layers


class UnetGenerator(nn.Module):
    """U-Net with `num_downs` stride-2 levels: a 2**num_downs input side shrinks to 1x1 at the bottleneck.

    Encoder widths are ngf, 2ngf, 4ngf, then 8ngf for every deeper level. With `use_dropout`, the 8ngf levels
    between the innermost level and the 4ngf -> 8ngf level apply Dropout(0.5). `norm_layer` is a --norm name or
    a layer factory.
    """

    def __init__(self, input_nc: int, output_nc: int, num_downs: int, ngf: int = 64, norm_layer: NormSpec = "batch",
                 use_dropout: bool = False) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"a U-Net needs num_downs >= 5, got {num_downs}")

        def width(level: int) -> int:
            """Channels after the down convolution of `level` (0 = outermost)."""
            return ngf * min(2**level, 8)

        # Built from the bottleneck outwards: each level wraps the one below it.
        innermost = num_downs - 1
        block = UnetBlock(unet_level_layers(width(innermost - 1), width(innermost), innermost=True,
                                            norm_layer=norm_layer), skip=True)
        for level in range(innermost - 1, 0, -1):
            block = UnetBlock(unet_level_layers(width(level - 1), width(level), submodule=block, norm_layer=norm_layer,
                                                use_dropout=use_dropout and level >= 4), skip=True)
        self.model = UnetBlock(unet_level_layers(output_nc, ngf, input_nc, block, outermost=True,
                                                 norm_layer=norm_layer), skip=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
