"""What every metric family shares: its declaration, the evaluation settings, and the image format it receives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from util.errors import UserError

ImageBatch = torch.Tensor | np.ndarray | Sequence[np.ndarray]


@dataclass(frozen=True)
class MetricInfo:
    """Facts about one metric name: whether it compares each generated image with its own target, and its sense."""

    paired: bool
    higher_is_better: bool
    description: str


@dataclass(frozen=True)
class MetricSettings:
    """How metrics are computed; the entry points fill it from their options.

    `feature_extractor` replaces torch-fidelity's Inception for FID/KID: a callable from uint8 NCHW images to
    (N, D) features (tests use one whose output they know; None means the real Inception).
    """

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    amp: str = "off"  # 'off' or 'bf16' (or 'fp16' on CUDA): autocast for the feature networks (Inception, LPIPS)
    batch_size: int = 32  # images per forward pass of the feature networks
    weights_dir: str | None = None  # --metrics_weights_dir: searched before each library's own cache
    kid_subset_size: int = 100  # images per KID subset
    kid_subsets: int = 100  # KID subsets drawn
    kid_seed: int = 2020  # seed of the KID subset draws (torch-fidelity's default)
    feature_extractor: Callable[[torch.Tensor], torch.Tensor] | None = None


class MetricFamily:
    """Metrics that share their machinery (a feature network, pixel comparisons), in one metrics/*_metrics.py file.

    A family declares its names in `metrics`; the evaluator builds it once with the names asked for, feeds it
    batches with `add`, and reads the values with `compute`. Batches arrive as uint8 NCHW RGB tensors on the CPU;
    `real[i]` is the target of `fake[i]` whenever the family has a paired metric.
    """

    metrics: ClassVar[dict[str, MetricInfo]] = {}

    def __init__(self, names: Sequence[str], settings: MetricSettings) -> None:
        self.names = list(names)
        self.settings = settings

    @property
    def paired(self) -> bool:
        """Whether some of this family's requested metrics compare each generated image with its own target."""
        return any(self.metrics[name].paired for name in self.names)

    def add(self, fake: torch.Tensor | None, real: torch.Tensor | None) -> None:
        """Take in a batch of generated images, real images, or aligned pairs of both."""
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        """The values of the requested metrics over everything added since the last reset."""
        raise NotImplementedError

    def reset(self, keep_real: bool = False) -> None:
        """Forget the added images; with keep_real, an unpaired family keeps what it took from the real set (e.g.
        FID's reference features) and is given no real images until the next reset without keep_real."""
        raise NotImplementedError


def to_uint8(images: ImageBatch) -> torch.Tensor:
    """A batch of images as a uint8 NCHW RGB tensor on the CPU.

    Accepts float tensors in [-1, 1] (NCHW, or CHW for one image), converted as util.util.tensor2im converts them
    for saving, so metrics on in-memory images equal metrics on the saved PNGs; uint8 tensors (NCHW); and uint8
    arrays (NHWC, HWC, or a sequence of HWC of one size). One-channel images are repeated to three.
    """
    if isinstance(images, torch.Tensor):
        batch = images.detach().cpu()
        if batch.dim() == 3:
            batch = batch.unsqueeze(0)
        if batch.is_floating_point():
            batch = ((batch.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    else:
        array = np.asarray(images) if not isinstance(images, np.ndarray) else images
        if array.ndim == 3:
            array = array[None]
        if array.ndim == 4 and array.shape[-1] not in (1, 3) and array.shape[1] in (1, 3):
            raise ValueError(f"uint8 arrays must be NHWC, got shape {array.shape}")
        batch = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2)
    if batch.dtype != torch.uint8:
        raise TypeError(f"images must be float tensors in [-1, 1] or uint8, got {batch.dtype}")
    if batch.dim() != 4 or batch.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got shape {tuple(batch.shape)}")
    return batch.expand(-1, 3, -1, -1).contiguous() if batch.shape[1] == 1 else batch.contiguous()


def check_same_size(fake: torch.Tensor, real: torch.Tensor) -> None:
    """Paired metrics compare pixel by pixel: refuse a generated batch whose size differs from its targets'."""
    if len(fake) != len(real):
        raise ValueError(f"paired metrics need as many real images as generated ones ({len(real)} vs {len(fake)})")
    if fake.shape[2:] != real.shape[2:]:
        raise UserError(f"generated images are {fake.shape[3]}x{fake.shape[2]} but their targets are "
                        f"{real.shape[3]}x{real.shape[2]}; paired metrics compare pixel by pixel, so save both "
                        "at one size")


def chunks(batch: torch.Tensor, size: int) -> list[torch.Tensor]:
    """`batch` cut into pieces of at most `size` images."""
    return list(batch.split(max(1, size)))
