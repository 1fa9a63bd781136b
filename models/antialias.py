"""Anti-aliased resampling (blur-pool) as used by the CUT release's generators and discriminators.

Downsampling by 2 blurs with the binomial filter [1, 2, 1] (outer product, sum 1) before keeping every second pixel;
upsampling by 2 inserts zeros and blurs with [1, 3, 3, 1] (outer product, sum 4). Both filters are per-channel
buffers named `filt` of shape (channels, 1, k, k), part of the state dict, so the release's checkpoints load
with strict=True.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def binomial_filter(taps: list[float], channels: int, total: float) -> torch.Tensor:
    """The 2-D filter outer(taps, taps), scaled to sum to `total`, repeated for depthwise use: (channels, 1, k, k)."""
    row = torch.tensor(taps, dtype=torch.float32)
    kernel = torch.outer(row, row)
    kernel = kernel * (total / kernel.sum())
    return kernel.expand(channels, 1, len(taps), len(taps)).clone()


class BlurDownsample(nn.Module):
    """Blur with [1, 2, 1] x [1, 2, 1] / 16 (reflection padding 1), then stride 2: a side of n becomes ceil(n / 2).

    Needs sides of at least 2 (reflection padding must be smaller than the side).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filt", binomial_filter([1.0, 2.0, 1.0], channels, total=1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(padded, self.filt.to(x.dtype), stride=2, groups=x.shape[1])

    def extra_repr(self) -> str:
        return f"channels={self.filt.shape[0]}"


class BlurUpsample(nn.Module):
    """Double the sides: zero-insertion then blur with [1, 3, 3, 1] x [1, 3, 3, 1] / 16, edges replicated.

    The input is padded by one replicated pixel on every side; a stride-2 transposed convolution with the filter
    then spreads each pixel over a 4x4 neighbourhood, and cropping 3 pixels per side leaves exactly 2n x 2m.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filt", binomial_filter([1.0, 3.0, 3.0, 1.0], channels, total=4.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Edge replication by concatenation: the same values as F.pad(mode="replicate"), whose backward
        # torch.compile (inductor, torch 2.14) gets wrong on the CPU (a stride mismatch at run time).
        padded = torch.cat([x[..., :1, :], x, x[..., -1:, :]], dim=-2)
        padded = torch.cat([padded[..., :1], padded, padded[..., -1:]], dim=-1)
        return F.conv_transpose2d(padded, self.filt.to(x.dtype), stride=2, padding=3, groups=x.shape[1])

    def extra_repr(self) -> str:
        return f"channels={self.filt.shape[0]}"
