"""Paired metrics: each generated image against its own target (aligned data such as pix2pix's), averaged over images.

- l1: mean absolute error in 8-bit levels (0-255).
- psnr: peak signal-to-noise ratio in dB with peak 255 (kornia); +inf for a pair of identical images.
- ssim: structural similarity on the RGB channels (kornia: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03,
  only positions where the window fits), the settings of Wang et al. 2004 and of scikit-image's
  structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255).
- lpips: learned perceptual distance (the `lpips` package, AlexNet backbone, version 0.1), lower is closer.

Both images of a pair must have the same size: they are compared pixel by pixel, and resizing one of them would
change the values (blurring the target raises SSIM and PSNR of blurry outputs), so a mismatch is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from metrics.base import MetricFamily, MetricInfo, MetricSettings, chunks
from metrics.weights import library_loading, local_weights
from util.errors import UserError
from util.precision import autocast

SSIM_WINDOW = 11
LPIPS_MIN_SIZE = 31  # the smallest side AlexNet's strided convolution and two 3x3/2 max-pools reduce to 1 pixel


def alexnet_url() -> str:
    """Where torchvision downloads the AlexNet weights that LPIPS uses as its backbone."""
    from torchvision.models import AlexNet_Weights

    return AlexNet_Weights.IMAGENET1K_V1.url


def load_lpips(settings: MetricSettings) -> nn.Module:
    """The `lpips` package's LPIPS (AlexNet, v0.1): linear layers from the package, backbone from the weights.

    Without the backbone file in --metrics_weights_dir, lpips loads it through torchvision from torch.hub's cache
    (downloading on first use). With it, lpips builds the backbone untrained and the file's AlexNet weights are
    loaded into it. A missing or unreadable file is a one-line UserError naming it and its URL.
    """
    import lpips
    from torchvision.models import alexnet

    url = alexnet_url()
    path = local_weights(url, settings.weights_dir)
    with library_loading("LPIPS needs", url, settings.weights_dir), warnings.catch_warnings():
        # lpips asks torchvision for its backbone with the old `pretrained=` argument, which warns.
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = lpips.LPIPS(net="alex", version="0.1", pnet_rand=path is not None, verbose=False)
        if path is not None:
            backbone = alexnet()
            backbone.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            # lpips's backbone holds torchvision's AlexNet.features layers in slices, under their original indices.
            for block in model.net.children():
                for index, layer in block.named_children():
                    layer.load_state_dict(backbone.features[int(index)].state_dict())
    return model.to(settings.device).eval()


def l1_levels(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute error in 8-bit levels of two uint8 batches."""
    return (fake.double() - real.double()).abs().mean(dim=(1, 2, 3))


def psnr(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB, peak 255) of two uint8 batches."""
    import kornia  # imported when used: listing the metric names (e.g. for --help) stays quick

    return torch.stack([kornia.metrics.psnr(f.double(), r.double(), 255.0) for f, r in zip(fake, real, strict=True)])


def ssim(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM of two uint8 batches (see the module docstring for the settings)."""
    import kornia

    if min(fake.shape[2:]) < SSIM_WINDOW:
        raise UserError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got "
                        f"{fake.shape[3]}x{fake.shape[2]}")
    maps = kornia.metrics.ssim(fake.double() / 255, real.double() / 255, SSIM_WINDOW, max_val=1.0, padding="valid")
    return maps.mean(dim=(1, 2, 3))


class PairedMetrics(MetricFamily):
    """L1, PSNR, SSIM and LPIPS of each generated image against its target, averaged over the images."""

    metrics = {
        "l1": MetricInfo(paired=True, higher_is_better=False,
                         description="mean absolute error against the target, in 8-bit levels (0-255)"),
        "psnr": MetricInfo(paired=True, higher_is_better=True,
                           description="peak signal-to-noise ratio against the target, in dB (peak 255)"),
        "ssim": MetricInfo(paired=True, higher_is_better=True,
                           description="structural similarity to the target (11x11 Gaussian window, RGB)"),
        "lpips": MetricInfo(paired=True, higher_is_better=False,
                            description="learned perceptual distance to the target (LPIPS v0.1, AlexNet)"),
    }

    def __init__(self, names: Sequence[str], settings: MetricSettings) -> None:
        super().__init__(names, settings)
        self.lpips = load_lpips(settings) if "lpips" in self.names else None
        self.reset()

    def add(self, fake: torch.Tensor | None, real: torch.Tensor | None) -> None:
        for name in self.names:
            self.values[name].append(self.per_image(name, fake, real))

    def per_image(self, name: str, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The metric `name` of each pair of the batch, as float64 on the CPU."""
        if name == "l1":
            return l1_levels(fake, real)
        if name == "psnr":
            return psnr(fake, real)
        if name == "ssim":
            return ssim(fake, real)
        return self.lpips_distance(fake, real)

    @torch.inference_mode()
    def lpips_distance(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Per-image LPIPS, the images given to the network in [-1, 1] as it expects."""
        if min(fake.shape[2:]) < LPIPS_MIN_SIZE:
            raise UserError(f"LPIPS needs images of at least {LPIPS_MIN_SIZE}x{LPIPS_MIN_SIZE} pixels, got "
                            f"{fake.shape[3]}x{fake.shape[2]}")
        device = self.settings.device
        values = []
        for f, r in zip(chunks(fake, self.settings.batch_size), chunks(real, self.settings.batch_size), strict=True):
            with autocast(device, self.settings.amp):
                distance = self.lpips(f.to(device).float() / 127.5 - 1, r.to(device).float() / 127.5 - 1)
            values.append(distance.float().flatten().cpu())
        return torch.cat(values).double()

    def compute(self) -> dict[str, float]:
        return {name: float(torch.cat(self.values[name]).mean()) if self.values[name] else float("nan")
                for name in self.names}

    def reset(self, keep_real: bool = False) -> None:
        self.values: dict[str, list[torch.Tensor]] = {name: [] for name in self.names}
