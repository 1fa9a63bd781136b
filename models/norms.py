"""Normalization layers by name, and the bias rule that goes with them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
from torch import nn

from util.errors import choose


class SyncBatchNorm(nn.BatchNorm2d):
    """Batch norm whose training statistics cover the whole batch of all processes in a process group.

    Outside a multi-process group, and in eval mode, it is exactly BatchNorm2d (same state-dict keys, so
    checkpoints move freely between the two). Inside one it sums per-channel counts, sums and sums of squares
    across processes with an autograd-aware all-reduce, so gradients flow through the shared statistics too. This
    works with gloo on CPU as well as with nccl on GPUs (PyTorch's nn.SyncBatchNorm refuses CPU tensors).
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        return self.synchronized_forward(input)

    def synchronized_forward(self, input: torch.Tensor) -> torch.Tensor:
        """Normalise with the mean and variance of the batch across all processes, and update the running stats."""
        self._check_input_dim(input)
        channels = input.shape[1]
        x = input.float()
        count = torch.full((1,), x.numel() // channels, dtype=torch.float32, device=x.device)
        local = torch.cat([x.sum((0, 2, 3)), x.square().sum((0, 2, 3)), count])
        total = dist_nn.all_reduce(local)
        n = total[-1]
        mean = total[:channels] / n
        var = (total[channels:2 * channels] / n - mean.square()).clamp(min=0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp(min=1), momentum)
        shape = (1, channels, 1, 1)
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(input.dtype)


# `--norm` choices: a factory `channels -> normalization module` for each.
NORM_LAYERS: dict[str, Callable[[int], nn.Module]] = {
    "batch": partial(nn.BatchNorm2d, affine=True, track_running_stats=True),
    "instance": partial(nn.InstanceNorm2d, affine=False, track_running_stats=False),
    "syncbatch": partial(SyncBatchNorm, affine=True, track_running_stats=True),
    "none": lambda channels: nn.Identity(),
}


# What the networks accept as their norm: a key of NORM_LAYERS, or (as in the original release) a layer factory
# `channels -> module` such as nn.BatchNorm2d or get_norm_layer("instance").
NormSpec = str | Callable[[int], nn.Module]


def get_norm_layer(norm_type: str = "instance") -> Callable[[int], nn.Module]:
    """The factory `channels -> normalization module` for a key of NORM_LAYERS."""
    return choose("--norm", norm_type, NORM_LAYERS)


def conv_bias(norm_type: str) -> bool:
    """Whether a convolution followed by this norm gets a bias: not when a batch norm's shift makes it redundant.

    The original release also drops the bias for norm 'none'; here such convolutions keep one.
    """
    return norm_type not in ("batch", "syncbatch")


def norm_layer_and_bias(norm: NormSpec) -> tuple[Callable[[int], nn.Module], bool]:
    """The layer factory for `norm` and whether the convolutions before it get a bias.

    A name, or a factory of NORM_LAYERS (what get_norm_layer returns), follows `conv_bias`. Any other factory follows
    the original release's rule, so networks built with one keep the original's state-dict layout: a bias only
    before an InstanceNorm (a class, or a functools.partial of one).
    """
    if isinstance(norm, str):
        return get_norm_layer(norm), conv_bias(norm)
    for name, factory in NORM_LAYERS.items():
        if norm is factory:
            return factory, conv_bias(name)
    built = norm.func if isinstance(norm, partial) else norm
    return norm, isinstance(built, type) and issubclass(built, nn.modules.instancenorm._InstanceNorm)
