"""The dataset base class and the shared preprocessing (resize, crop, flip, to tensor).

`opt.preprocess` is read by substring, as in the original release: 'resize' resizes to load_size x load_size,
'scale_width' scales the width to load_size (height keeps the aspect ratio but is at least crop_size), 'crop'
crops crop_size x crop_size, and 'none' keeps the image's size: in training it only rounds both sides to a multiple
of 4 so the networks can process them; at test time (opt.isTrain False) it changes nothing, as test.py's generators
pad each image to the size they need and crop their output back to the input's size (models/inference.py).
"""

from __future__ import annotations

import argparse
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from PIL import Image
from torch.utils import data
from torchvision.transforms import v2
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as F

from util import messages
from util.errors import UserError
from util.util import to_tensor

PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")  # --preprocess
SIZE_MULTIPLE = 4


class BaseDataset(data.Dataset, ABC):
    """Base of all datasets: holds the options; subclasses return dicts of tensors and paths."""

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.root = opt.dataroot

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        """Add dataset-specific options or rewrite defaults; the base class changes nothing."""
        return parser

    @abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    @abstractmethod
    def __getitem__(self, index: int) -> dict[str, Any]:
        """One sample as a dict of tensors and paths."""


def resized_size(opt: argparse.Namespace, size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of an image of `size` after the resize step of `opt.preprocess` (before any crop)."""
    w, h = size
    if "resize" in opt.preprocess:
        return opt.load_size, opt.load_size
    if "scale_width" in opt.preprocess:
        return _scale_width_size(w, h, opt.load_size, opt.crop_size)
    return w, h


def get_params(opt: argparse.Namespace, size: tuple[int, int]) -> dict[str, Any]:
    """Draw a crop position and a flip for an image of `size` (width, height), using python `random`."""
    w, h = resized_size(opt, size)
    x = random.randint(0, max(0, w - opt.crop_size))
    y = random.randint(0, max(0, h - opt.crop_size))
    flip = random.random() > 0.5
    return {"crop_pos": (x, y), "flip": flip}


def get_transform(
    opt: argparse.Namespace,
    params: dict[str, Any] | None = None,
    grayscale: bool = False,
    method: InterpolationMode = InterpolationMode.BICUBIC,
    convert: bool = True,
) -> Callable[[Image.Image], torch.Tensor | Image.Image]:
    """Build the preprocessing for one image: PIL in, tensor in [-1, 1] out (or PIL when `convert` is False).

    Without `params` the crop position and flip are drawn per call; with them (from `get_params`) they are fixed,
    so images that must stay aligned get the same crop and flip.
    """
    steps: list[Callable[..., Any]] = []
    if grayscale:
        steps.append(v2.Grayscale(num_output_channels=1))
    if "resize" in opt.preprocess:
        steps.append(v2.Resize([opt.load_size, opt.load_size], interpolation=method))
    elif "scale_width" in opt.preprocess:
        steps.append(partial(_scale_width, target_width=opt.load_size, min_height=opt.crop_size, method=method))
    if "crop" in opt.preprocess:
        if params is None:
            steps.append(partial(_random_crop, size=opt.crop_size))
        else:
            steps.append(partial(_crop, pos=params["crop_pos"], size=opt.crop_size))
    if opt.preprocess == "none" and getattr(opt, "isTrain", True):
        steps.append(partial(_round_to_multiple, base=SIZE_MULTIPLE, method=method))
    if not opt.no_flip:
        if params is None:
            steps.append(_random_flip)
        elif params["flip"]:
            steps.append(F.horizontal_flip)
    if convert:
        steps.append(to_tensor)
    return v2.Compose(steps)


def _scale_width_size(w: int, h: int, target_width: int, min_height: int) -> tuple[int, int]:
    if w == target_width and h >= min_height:
        return w, h
    return target_width, int(max(target_width * h / w, min_height))


def _scale_width(img: Image.Image, target_width: int, min_height: int, method: InterpolationMode) -> Image.Image:
    w, h = _scale_width_size(*img.size, target_width, min_height)
    if (w, h) == img.size:
        return img
    return F.resize(img, [h, w], interpolation=method)


def _crop(img: Image.Image, pos: tuple[int, int], size: int) -> Image.Image:
    w, h = img.size
    if w < size or h < size:
        raise UserError(
            f"an image is {w}x{h} after preprocessing, smaller than --crop_size {size}; "
            "lower --crop_size, raise --load_size or use --preprocess resize_and_crop"
        )
    x, y = pos
    return F.crop(img, top=y, left=x, height=size, width=size)


def _random_crop(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    pos = (random.randint(0, max(0, w - size)), random.randint(0, max(0, h - size)))
    return _crop(img, pos, size)


def _round_to_multiple(img: Image.Image, base: int, method: InterpolationMode) -> Image.Image:
    ow, oh = img.size
    w = max(base, round(ow / base) * base)
    h = max(base, round(oh / base) * base)
    if (w, h) == (ow, oh):
        return img
    messages.warn(f"image size {ow}x{oh} is not a multiple of {base}; resized to {w}x{h} "
                  "(this warning is shown once; other images may be resized too)", once="size multiple")
    return F.resize(img, [h, w], interpolation=method)


def _random_flip(img: Image.Image) -> Image.Image:
    return F.horizontal_flip(img) if random.random() > 0.5 else img
