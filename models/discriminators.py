"""Discriminators: the PatchGAN (one real/fake score per image patch) and the per-pixel PixelGAN."""

from __future__ import annotations

import torch
from torch import nn

from models.antialias import BlurDownsample
from models.norms import NormSpec, norm_layer_and_bias


class NLayerDiscriminator(nn.Module):
    """PatchGAN: `n_layers` stride-2 4x4 convolutions, one stride-1 convolution, then a 1-channel score map.

    Widths double from ndf up to 8*ndf. With n_layers=3 ('basic') each output cell sees a 70x70 input patch and a
    256x256 input gives a 30x30 map. Outputs are logits. `norm_layer` is a --norm name or a layer factory. With
    `antialias` (the CUT release's default) each stride-2 convolution becomes a stride-1 convolution followed (after
    its norm and LeakyReLU) by a blur-pool (BlurDownsample); a 256x256 input still gives a 30x30 map.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm_layer: NormSpec = "batch",
                 antialias: bool = False) -> None:
        super().__init__()
        norm, bias = norm_layer_and_bias(norm_layer)
        stride = 1 if antialias else 2
        layers: list[nn.Module] = [
            nn.Conv2d(input_nc, ndf, kernel_size=4, stride=stride, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        if antialias:
            layers.append(BlurDownsample(ndf))
        width = ndf
        for n in range(1, n_layers + 1):
            downsamples = n < n_layers
            next_width = ndf * min(2**n, 8)
            layers += [
                nn.Conv2d(width, next_width, kernel_size=4, stride=stride if downsamples else 1, padding=1, bias=bias),
                norm(next_width),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            if antialias and downsamples:
                layers.append(BlurDownsample(next_width))
            width = next_width
        layers.append(nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def patchgan_min_side(n_layers: int) -> int:
    """The smallest input side an NLayerDiscriminator with `n_layers` downsamplings can score: its last two 4x4
    convolutions (stride 1, padding 1) need 3 pixels, and each downsampling, a stride-2 convolution or (anti-aliased)
    a stride-1 convolution and a blur-pool, needs twice the side it leaves.
    """
    return 3 * 2**n_layers


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: scores every pixel on its own (widths ndf, 2*ndf, 1); the output has the input's size.

    `norm_layer` is a --norm name or a layer factory.
    """

    def __init__(self, input_nc: int, ndf: int = 64, norm_layer: NormSpec = "batch") -> None:
        super().__init__()
        norm, bias = norm_layer_and_bias(norm_layer)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias),
            norm(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
