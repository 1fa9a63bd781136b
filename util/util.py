"""Conversions between tensors and images, and saving images."""

from __future__ import annotations

import os
import threading

import numpy as np
import torch
from PIL import Image


def tensor2im(image: torch.Tensor) -> np.ndarray:
    """First image of a batch (or a single CHW image) in [-1, 1] -> HxWx3 uint8 array (gray is repeated)."""
    if image.dim() == 4:
        image = image[0]
    image = image.detach().float().cpu()
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    array = ((image.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return array.permute(1, 2, 0).numpy()


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
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        pil.save(tmp, format=Image.registered_extensions()[os.path.splitext(name)[1].lower()])
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
