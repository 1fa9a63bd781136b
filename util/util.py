"""Conversions between tensors and images, and saving images; and the original release's small helpers."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.transforms.v2 import functional as F

from util import messages
from util.atomic_files import write_atomically
from util.image_files import to_8bit


def tensor2im(image: torch.Tensor | np.ndarray, imtype: type = np.uint8) -> np.ndarray:
    """First image of a batch (or a single CHW image) in [-1, 1] -> HxWx3 array of 0..255 (gray is repeated).

    uint8 values are rounded to the nearest level (the original release truncated). As in the original, a numpy
    array is only cast to `imtype` and anything else is returned unchanged.
    """
    if isinstance(image, np.ndarray):
        return image.astype(imtype)
    if not isinstance(image, torch.Tensor):
        return image
    if image.dim() == 4:
        image = image[0]
    image = image.detach().float().cpu()
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    scaled = (image.clamp(-1, 1) + 1) * 127.5
    if np.dtype(imtype) == np.uint8:
        return scaled.round().to(torch.uint8).permute(1, 2, 0).numpy()
    return scaled.permute(1, 2, 0).numpy().astype(imtype)


def save_image(image: np.ndarray, path: str, aspect_ratio: float = 1.0) -> None:
    """Save an HxWxC uint8 array as an image file, stretched to width/height = aspect_ratio unless it is 1.0.

    The ratio is that of the saved file, whatever the input's own shape: a wider ratio keeps the height and
    widens, a narrower one keeps the width and heightens. The file appears complete or not at all: it is written
    under a temporary name and renamed, and a failed write (a full disk) removes what it wrote.
    """
    pil = Image.fromarray(image)
    if aspect_ratio != 1.0:
        width, height = pil.size
        if aspect_ratio > width / height:
            size = (round(height * aspect_ratio), height)
        else:
            size = (width, round(width / aspect_ratio))
        if size != pil.size:
            pil = pil.resize(size, Image.Resampling.BICUBIC)
    image_format = Image.registered_extensions()[os.path.splitext(path)[1].lower()]
    write_atomically(path, lambda f: pil.save(f, format=image_format))


def image_to_tensor(image: Image.Image, channels: int) -> torch.Tensor:
    """A PIL image of any mode as a (1, channels, H, W) float32 tensor in [-1, 1] (`channels` 1: gray, 3: RGB).

    The values are exactly those the datasets give for the same file (util.image_files.to_8bit, then `to_tensor`).
    """
    if channels not in (1, 3):
        raise ValueError(f"an image has 1 (gray) or 3 (RGB) channels, not {channels}")
    return to_tensor(to_8bit(image).convert("L" if channels == 1 else "RGB"))[None]


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An 8-bit PIL image as a (C, H, W) float32 tensor, 0..255 scaled to [-1, 1] (what every dataset returns)."""
    tensor = F.to_dtype(F.pil_to_tensor(image), torch.float32, scale=True)
    channels = tensor.shape[0]
    return F.normalize(tensor, [0.5] * channels, [0.5] * channels)


def tensor_to_image(image: torch.Tensor) -> Image.Image:
    """A (C, H, W) or (1, C, H, W) tensor in [-1, 1] with 1 or 3 channels as an 8-bit PIL image ("L" or "RGB"),
    rounded as tensor2im rounds.
    """
    channels = image.shape[-3]
    if channels not in (1, 3):
        raise ValueError(f"an image has 1 (gray) or 3 (RGB) channels, not {channels}")
    array = tensor2im(image)
    return Image.fromarray(array[..., 0], "L") if channels == 1 else Image.fromarray(array, "RGB")


# The original release's helpers -------------------------------------------------------------------------------------

def mkdir(path: str) -> None:
    """Make a folder and its parents if missing. Deprecated: os.makedirs(path, exist_ok=True)."""
    messages.deprecated("util.util.mkdir", "os.makedirs(path, exist_ok=True)")
    os.makedirs(path, exist_ok=True)


def mkdirs(paths: str | list[str]) -> None:
    """mkdir for one path or each of a list. Deprecated: os.makedirs(path, exist_ok=True)."""
    messages.deprecated("util.util.mkdirs", "os.makedirs(path, exist_ok=True)")
    for path in [paths] if isinstance(paths, str) else paths:
        os.makedirs(path, exist_ok=True)


def print_numpy(x: Any, val: bool = True, shp: bool = False) -> None:
    """Print an array's shape (with `shp`) and its mean, min, max, median and standard deviation (with `val`)."""
    x = np.asarray(x, dtype=np.float64)
    if shp:
        messages.info(f"shape, {x.shape}")
    if val:
        messages.info(f"mean = {x.mean():3.3f}, min = {x.min():3.3f}, max = {x.max():3.3f}, "
                      f"median = {np.median(x):3.3f}, std={x.std():3.3f}")


def diagnose_network(net: nn.Module, name: str = "network") -> None:
    """Print `name` and the mean absolute gradient over the parameters that have one (0.0 when none has)."""
    means = [p.grad.detach().abs().mean() for p in net.parameters() if p.grad is not None]
    messages.info(name)
    messages.info(str(float(torch.stack(means).mean()) if means else 0.0))
