"""Normalization layers by name, and the bias rule that goes with them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from util.errors import unknown_name

NORM_NAMES = ("batch", "instance", "none", "syncbatch")


class SyncBatchNorm(nn.SyncBatchNorm):
    """SyncBatchNorm that also runs on CPU tensors inside a process group.

    PyTorch's SyncBatchNorm already uses plain batch norm when no process group exists, but raises for CPU inputs
    once one is initialised (e.g. torchrun with gloo). On CPU this class normalises with the local batch only; on
    accelerators it synchronises statistics across processes as usual. State-dict keys equal BatchNorm2d's.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.device.type == "cpu":
            # Skip SyncBatchNorm.forward and use the ordinary batch-norm forward of the shared base class.
            return super(nn.SyncBatchNorm, self).forward(input)
        return super().forward(input)


def get_norm_layer(norm_type: str) -> Callable[[int], nn.Module]:
    """A factory `channels -> normalization module` for a norm name in NORM_NAMES."""
    if norm_type == "batch":
        return partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm_type == "instance":
        return partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm_type == "syncbatch":
        return partial(SyncBatchNorm, affine=True, track_running_stats=True)
    if norm_type == "none":
        return lambda channels: nn.Identity()
    raise unknown_name("--norm", norm_type, NORM_NAMES)


def conv_bias(norm_type: str) -> bool:
    """Whether a convolution followed by this norm gets a bias: not when a batch norm's shift makes it redundant.

    The original release also drops the bias for norm 'none'; here such convolutions keep one.
    """
    return norm_type not in ("batch", "syncbatch")
