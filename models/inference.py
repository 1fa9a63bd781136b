"""Apply a generator to images of any size: exactly-sized outputs, and tiles for images too large to run whole.

`translate(netG, images, size_multiple)` is the one call entry points need. Images are (N, C, H, W) in [-1, 1]
with any H and W; the result has the same height and width.

- Exact sizes: the image is reflect-padded up to the generator's size multiple (half on each side) and the output
  cropped back, instead of resizing.
- Tiles (`tile` > 0): the padded image is cut into overlapping tiles (models/tiling.py), run `tile_batch_size` at
  a time, and blended with a smooth window. Only the tiles, the image and one output-sized buffer are in memory.
- Normalisation statistics (`tile_stats`): layers that normalise with the statistics of their input (instance
  norm, and batch norm in training mode, as test.py runs it without --eval) would see one tile only. With
  'thumbnail' they use statistics recorded once on a downscaled copy of the whole image (`thumbnail_size` pixels
  on its longer side; by default half the image's, at most MAX_THUMBNAIL_SIDE); with 'tile' each tile uses its
  own. The statistics change with the scale: measured with the trained demo CycleGAN generator, tiles with a
  half-size thumbnail differ from the untiled output by 1.9 levels (of 255) on average, with a quarter-size one
  by as much as with per-tile statistics (about 6). Generators whose norms use stored statistics (batch norm
  in eval mode, or no norm) are unaffected by the choice. See `default_tile_stats` for the defaults.

The generator's train/eval mode is the caller's choice and is kept; nothing in the generator is changed.

`Translator` wraps a generator so that calling it does all this, on tensors or on PIL images: test.py runs every
generator of its model through one (models.setup_for_test), and models/translator.py loads one from a run folder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from models.norm_statistics import input_statistics_layers, per_sample_statistics, shared_statistics
from models.tiling import TileGrid, check_tiling
from util import precision
from util.checkpoint import unwrap_model
from util.errors import UserError
from util.util import image_to_tensor, tensor_to_image

TILE_STATS = ("thumbnail", "tile")
# Sides are padded to at least this many pixels: a ResNet generator mirrors its quarter-resolution features by one
# pixel, which needs two. (The U-Nets' size multiples are larger anyway.)
MIN_SIDE = 8
# The default thumbnail has half the image's longer side, but at most this many pixels: its pass needs the memory
# of running that size whole (resnet_9blocks, ngf 64: about 0.95 GB at 1024x1024 on the CPU).
MAX_THUMBNAIL_SIDE = 1024


def reflect_pad(images: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """Mirror-pad the last two dimensions; pads larger than the image repeat the mirroring (1-pixel sides repeat)."""
    while top or bottom or left or right:
        height, width = images.shape[-2:]
        step = [min(left, width - 1), min(right, width - 1), min(top, height - 1), min(bottom, height - 1)]
        if not any(step):  # a side of one pixel cannot be mirrored: repeat it
            return F.pad(images, (left, right, top, bottom), mode="replicate")
        images = F.pad(images, step, mode="reflect")
        left, right, top, bottom = left - step[0], right - step[1], top - step[2], bottom - step[3]
    return images


def padding_to_multiple(height: int, width: int, multiple: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding that brings height and width up to multiples of `multiple` (>= MIN_SIDE)."""
    extra_h, extra_w = (max(side + -side % multiple, MIN_SIDE + -MIN_SIDE % multiple) - side
                        for side in (height, width))
    return extra_h // 2, extra_h - extra_h // 2, extra_w // 2, extra_w - extra_w // 2


def pad_to_multiple(images: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Reflect-pad (N, C, H, W) images so H and W are multiples of `multiple`; also return the padding."""
    padding = padding_to_multiple(*images.shape[-2:], multiple)
    return reflect_pad(images, *padding), padding


def crop_padding(images: torch.Tensor, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo pad_to_multiple on an output of the padded size."""
    top, bottom, left, right = padding
    height, width = images.shape[-2:]
    return images[..., top:height - bottom, left:width - right]


def default_tile_stats(netG: nn.Module) -> str:
    """'thumbnail' for a generator with layers that normalise with their input's statistics, 'tile' otherwise.

    That is: instance norm (the ResNets' and U-Nets' --norm instance) in either mode, and batch norm (--norm batch,
    pix2pix's default) in training mode, as test.py runs it without --eval. Batch norm in eval mode and --norm none
    use no input statistics, so the two settings give the same result for them.
    """
    return "thumbnail" if input_statistics_layers(netG) else "tile"


def default_thumbnail_size(height: int, width: int) -> int:
    """Half the longer side, at most MAX_THUMBNAIL_SIDE."""
    return min((max(height, width) + 1) // 2, MAX_THUMBNAIL_SIDE)


def thumbnail_of(image: torch.Tensor, size: int, multiple: int) -> torch.Tensor:
    """`image` (1, C, H, W) downscaled (antialiased) so its longer side is about `size`, sides multiples of `multiple`.

    An image already that small is returned as it is (its sides are multiples already).
    """
    height, width = image.shape[-2:]
    if max(height, width) <= size:
        return image
    scale = size / max(height, width)
    smallest = MIN_SIDE + -MIN_SIDE % multiple
    new_h = max(smallest, round(height * scale / multiple) * multiple)
    new_w = max(smallest, round(width * scale / multiple) * multiple)
    return F.interpolate(image.float(), size=(new_h, new_w), mode="bilinear", antialias=True,
                         align_corners=False).to(image.dtype)


def generator_device(netG: nn.Module) -> torch.device:
    """The device of the generator's first parameter (CPU for a parameter-free module)."""
    first = next(netG.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def run_tiled(netG: nn.Module, image: torch.Tensor, size_multiple: int, tile: int, tile_overlap: int,
              tile_stats: str, tile_batch_size: int = 4, thumbnail_size: int | None = None) -> torch.Tensor:
    """Run `netG` on one padded image (1, C, H, W) (sides multiples of `size_multiple`) tile by tile.

    Returns the blended float32 output on the image's device; tiles run on the generator's device.
    """
    device = generator_device(netG)
    height, width = image.shape[-2:]
    grid = TileGrid.build(height, width, tile, tile_overlap, align=size_multiple)
    if tile_stats == "thumbnail":
        size = thumbnail_size or default_thumbnail_size(height, width)
        statistics = shared_statistics(netG, thumbnail_of(image, size, size_multiple).to(device))
    else:
        statistics = per_sample_statistics(netG)
    output: torch.Tensor | None = None
    tiles = grid.tiles()
    th, tw = grid.rows.tile, grid.cols.tile
    with statistics:
        for first in range(0, len(tiles), tile_batch_size):
            batch = tiles[first:first + tile_batch_size]
            inputs = torch.cat([image[..., top:top + th, left:left + tw] for top, left, _, _ in batch]).to(device)
            outputs = netG(inputs).float().to(image.device)
            if output is None:
                output = torch.zeros(1, outputs.shape[1], height, width, device=image.device)
            for (top, left, row_window, col_window), out in zip(batch, outputs, strict=True):
                out.mul_(row_window.to(out.device)[:, None]).mul_(col_window.to(out.device))
                output[0, :, top:top + th, left:left + tw] += out
    assert output is not None
    return output.div_(grid.weight_sum().to(image.device))


def check_tile_settings(tile: int, tile_overlap: int, tile_stats: str | None, size_multiple: int) -> None:
    """Reject --tile, --tile_overlap and --tile_stats values that cannot work, with one line each."""
    check_tiling(tile, tile_overlap, size_multiple)
    if tile_stats is not None and tile_stats not in TILE_STATS:
        raise UserError(f"unknown --tile_stats '{tile_stats}'; choose one of: {', '.join(TILE_STATS)}")


def translate(netG: nn.Module, images: torch.Tensor, size_multiple: int, tile: int = 0, tile_overlap: int = 32,
              tile_stats: str | None = None, tile_batch_size: int = 4,
              thumbnail_size: int | None = None) -> torch.Tensor:
    """Run `netG` on (N, C, H, W) images in [-1, 1] of any size; the output has the same H and W.

    `size_multiple`: the sides the generator needs (models.networks.input_size_multiple). `tile` 0 runs each batch
    whole; otherwise tiles of `tile` pixels overlapping by `tile_overlap` (see check_tiling), with normalisation
    statistics per `tile_stats` ('thumbnail' or 'tile'; None = default_tile_stats(netG)), `tile_batch_size` tiles
    at a time, and a thumbnail of `thumbnail_size` pixels (None = default_thumbnail_size). Runs under
    torch.inference_mode; the output is float32, on the images' device (tiles run on the generator's).
    """
    check_tile_settings(tile, tile_overlap, tile_stats, size_multiple)
    if tile and tile_stats is None:
        tile_stats = default_tile_stats(netG)
    if tile_batch_size < 1:
        raise UserError(f"the tile batch size must be at least 1, got {tile_batch_size}")
    padded, padding = pad_to_multiple(images, size_multiple)
    with torch.inference_mode():
        if not tile:
            return crop_padding(netG(padded.to(generator_device(netG))).float().to(images.device), padding)
        outputs = [run_tiled(netG, padded[i:i + 1], size_multiple, tile, tile_overlap, tile_stats, tile_batch_size,
                             thumbnail_size) for i in range(padded.shape[0])]
    return crop_padding(outputs[0] if len(outputs) == 1 else torch.cat(outputs), padding)


def input_channels(netG: nn.Module) -> int | None:
    """The channels of the images `netG` takes: those of its first convolution (None when it has none)."""
    first = next((m for m in netG.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)), None)
    return first.in_channels if first is not None else None


class Translator(nn.Module):
    """A generator that takes images of any size and gives outputs of the same size, with the settings of `translate`.

    Call it with (N, C, H, W) tensors in [-1, 1] (a float32 tensor comes back, on the images' device) or with a PIL
    image of any mode (a PIL image comes back: "RGB", or "L" for a one-channel generator). `amp` ('off', 'bf16',
    'fp16') runs the generator under autocast. Its train/eval mode is the generator's: `translator.eval()` turns
    dropout off and makes batch norm use its running statistics (test.py's --eval).

    The generator is the submodule `_orig_mod` (also `translator.generator`), as in torch.compile's wrapper, so
    util.checkpoint.unwrap_model finds it and state dicts saved through a Translator stay plain. A compiled generator
    (--compile) runs compiled on whole images; tiles run its eager module, whose normalisation layers are swapped.
    """

    def __init__(self, netG: nn.Module, size_multiple: int, amp: str = "off", tile: int = 0, tile_overlap: int = 32,
                 tile_stats: str | None = None) -> None:
        super().__init__()
        check_tile_settings(tile, tile_overlap, tile_stats, size_multiple)
        if amp not in precision.AMP_MODES:
            raise UserError(f"unknown --amp '{amp}'; choose one of: {', '.join(precision.AMP_MODES)}")
        self._orig_mod = netG
        self.size_multiple, self.amp = size_multiple, amp
        self.tile, self.tile_overlap, self.tile_stats = tile, tile_overlap, tile_stats

    @property
    def generator(self) -> nn.Module:
        """The wrapped generator."""
        return self._orig_mod

    def forward(self, images: torch.Tensor | Image.Image) -> torch.Tensor | Image.Image:
        if isinstance(images, Image.Image):
            return self.translate_image(images)
        net = unwrap_model(self.generator) if self.tile else self.generator
        with precision.autocast(generator_device(net), self.amp):
            return translate(net, images, self.size_multiple, self.tile, self.tile_overlap, self.tile_stats)

    def translate_image(self, image: Image.Image) -> Image.Image:
        """The generator's output for a PIL image, as a PIL image of the same size."""
        channels = input_channels(self.generator) or 3
        if channels not in (1, 3):
            raise UserError(f"the generator takes {channels} channels per pixel, but an image has 1 (gray) or 3 (RGB); "
                            "give it tensors instead")
        output = self(image_to_tensor(image, channels))
        if output.shape[1] not in (1, 3):
            raise UserError(f"the generator gives {output.shape[1]} channels per pixel, not an image (1 or 3 "
                            "channels); a colorization model's output needs its input's lightness: use test.py")
        return tensor_to_image(output)
