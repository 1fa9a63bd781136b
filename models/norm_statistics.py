"""Control where a generator's normalisation statistics come from during tiled inference.

A normalisation layer that computes its mean and variance from its input (instance norm; batch norm in training
mode, which is how test.py runs without --eval) sees only one tile at a time when an image is processed in tiles,
so each tile is normalised differently and the tiles' colours drift apart. Two remedies, both applied by swapping
such layers for a `StatisticsNorm` inside a `with` block and putting the originals back afterwards (the
generator's modules, parameters and buffers are unchanged when the block ends):

- `shared_statistics(net, thumbnail)`: every layer records its per-channel statistics once on a downscaled copy of
  the whole image and normalises every tile with them (the thumbnail pass);
- `per_sample_statistics(net)`: every layer normalises each tile of a batch with that tile's own statistics, so
  results do not depend on how many tiles share a batch and batch norm's running averages are not updated.

Layers that normalise with stored running statistics (batch norm in eval mode) are left alone: they do not depend
on the input, so tiles need nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm


def uses_input_statistics(module: nn.Module) -> bool:
    """Whether `module` normalises with statistics of its current input (in its current train/eval mode)."""
    if isinstance(module, _InstanceNorm | _BatchNorm):
        return module.training or not module.track_running_stats
    return False


def input_statistics_layers(net: nn.Module) -> list[tuple[nn.Module, str, nn.Module]]:
    """(parent, attribute name, layer) for every layer of `net` that normalises with its input's statistics."""
    found = []
    for parent in net.modules():
        for name, child in parent.named_children():
            if uses_input_statistics(child):
                found.append((parent, name, child))
    return found


class StatisticsNorm(nn.Module):
    """Stand-in for a normalisation layer: per-channel (x - mean) / sqrt(var + eps), then the layer's affine map.

    Mode 'per_sample' uses each sample's own statistics over its height and width (instance norm); 'record' does
    the same on one image and keeps its statistics; 'fixed' normalises every sample with the kept statistics.
    """

    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.eps = norm.eps
        self.weight = norm.weight if norm.affine else None
        self.bias = norm.bias if norm.affine else None
        self.mode = "per_sample"
        self.scale: torch.Tensor | None = None  # (1, C, 1, 1): the kept statistics folded with the affine map
        self.shift: torch.Tensor | None = None

    def keep(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        """Normalise with this per-channel mean and variance from now on (folded with the affine map)."""
        scale = torch.rsqrt(var.float().view(1, -1, 1, 1) + self.eps)
        shift = -mean.float().view(1, -1, 1, 1) * scale
        if self.weight is not None:
            weight, bias = self.weight.float().view(1, -1, 1, 1), self.bias.float().view(1, -1, 1, 1)
            scale, shift = scale * weight, shift * weight + bias
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "fixed":
            if self.scale is None or self.shift is None:
                raise RuntimeError("StatisticsNorm in mode 'fixed' has no recorded statistics")
            return torch.addcmul(self.shift.to(x.dtype), x, self.scale.to(x.dtype))
        if self.mode == "record":
            if x.shape[0] != 1:
                raise ValueError(f"record statistics on one image, got a batch of {x.shape[0]}")
            var, mean = torch.var_mean(x.float(), dim=(2, 3), correction=0)
            self.keep(mean, var)
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


@contextmanager
def _swapped(net: nn.Module) -> Iterator[list[StatisticsNorm]]:
    """Replace every input-statistics layer of `net` by a StatisticsNorm for the block; restore them after."""
    layers = input_statistics_layers(net)
    stand_ins = [StatisticsNorm(layer) for _, _, layer in layers]
    try:
        for (parent, name, _), stand_in in zip(layers, stand_ins, strict=True):
            parent._modules[name] = stand_in
        yield stand_ins
    finally:
        for parent, name, layer in layers:
            parent._modules[name] = layer


@contextmanager
def per_sample_statistics(net: nn.Module) -> Iterator[None]:
    """Within the block, input-statistics layers normalise each sample (tile) of a batch by itself."""
    with _swapped(net):
        yield


@contextmanager
def shared_statistics(net: nn.Module, thumbnail: torch.Tensor) -> Iterator[None]:
    """Within the block, input-statistics layers normalise every input with the statistics of `thumbnail`.

    `thumbnail` (1, C, h, w) is run through `net` once on entry (sides the generator accepts) to record them.
    """
    with _swapped(net) as stand_ins:
        for stand_in in stand_ins:
            stand_in.mode = "record"
        net(thumbnail)
        for stand_in in stand_ins:
            stand_in.mode = "fixed"
        yield
