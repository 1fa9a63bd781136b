"""Where the tiles of a large image go, how their outputs are weighted, and how to measure a seam.

Tiles of `tile` pixels start every `tile - tile_overlap` pixels along each axis, rounded down to a multiple of
`align` (the generator's size multiple) when that leaves a positive step, so that every tile sits on the generator's
downsampling grid and computes what the whole image would there, apart from its borders; the last tile is moved
back to end at the image's edge, so it overlaps its neighbour by more. Each tile's output is weighted by a window
that rises smoothly (sin^2) from near 0 to 1 over the overlap on every side that has a neighbour and stays 1
elsewhere; the weighted outputs are summed and divided by the summed weights, so neighbouring tiles fade into each
other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from util.errors import UserError


def check_tiling(tile: int, tile_overlap: int, size_multiple: int) -> None:
    """Reject tile settings that cannot work, with one line naming --tile / --tile_overlap."""
    if tile < 0 or tile_overlap < 0:
        raise UserError(f"--tile {tile} and --tile_overlap {tile_overlap} must not be negative (--tile 0 = no tiles)")
    if tile == 0:
        return
    if tile % size_multiple:
        raise UserError(f"--tile {tile} must be a multiple of {size_multiple}, the generator's size multiple; "
                        f"try --tile {max(size_multiple, tile // size_multiple * size_multiple)}")
    if 2 * tile_overlap > tile:
        raise UserError(f"--tile_overlap {tile_overlap} is more than half of --tile {tile}; use a --tile of at least "
                        f"{2 * tile_overlap} or a --tile_overlap of at most {tile // 2}")


def tile_starts(length: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """First pixel of each tile along an axis of `length` pixels (tile <= length; length - tile a multiple of align)."""
    stride = max(tile - overlap, 1)
    if stride >= align:
        stride -= stride % align
    return list(range(0, length - tile, stride)) + [length - tile]


def ramp(overlap: int) -> torch.Tensor:
    """`overlap` weights rising smoothly from near 0 to near 1: sin^2 of evenly spaced angles in (0, pi/2)."""
    angles = (torch.arange(overlap, dtype=torch.float64) + 0.5) * (math.pi / 2 / overlap)
    return angles.sin().square().float()


@dataclass(frozen=True)
class Axis:
    """The tiles along one axis: their starts, their length, and each tile's 1-D blending window."""

    length: int
    tile: int
    starts: tuple[int, ...]
    windows: tuple[torch.Tensor, ...]

    @classmethod
    def build(cls, length: int, tile: int, overlap: int, align: int = 1) -> Axis:
        tile = min(tile, length)
        starts = tuple(tile_starts(length, tile, overlap, align))
        fade = ramp(overlap) if overlap else torch.ones(0)
        windows = []
        for start in starts:
            window = torch.ones(tile)
            if overlap and start > 0:
                window[:overlap] = fade
            if overlap and start + tile < length:
                window[tile - overlap:] = fade.flip(0)
            windows.append(window)
        return cls(length, tile, starts, tuple(windows))

    def weight_sum(self) -> torch.Tensor:
        """Per pixel, the summed windows of all tiles that cover it."""
        total = torch.zeros(self.length)
        for start, window in zip(self.starts, self.windows, strict=True):
            total[start:start + self.tile] += window
        return total

    def borders(self) -> list[int]:
        """Pixels where a tile begins or ends inside the image (the first pixel after the edge)."""
        edges = {s for s in self.starts if s > 0} | {s + self.tile for s in self.starts if s + self.tile < self.length}
        return sorted(edges)


@dataclass(frozen=True)
class TileGrid:
    """The tiles covering an image of height x width: every combination of a row tile and a column tile."""

    rows: Axis
    cols: Axis

    @classmethod
    def build(cls, height: int, width: int, tile: int, overlap: int, align: int = 1) -> TileGrid:
        return cls(Axis.build(height, tile, overlap, align), Axis.build(width, tile, overlap, align))

    def tiles(self) -> list[tuple[int, int, torch.Tensor, torch.Tensor]]:
        """(top, left, row window, column window) of every tile, row by row; its 2-D window is their outer product."""
        return [(top, left, row_window, col_window)
                for top, row_window in zip(self.rows.starts, self.rows.windows, strict=True)
                for left, col_window in zip(self.cols.starts, self.cols.windows, strict=True)]

    def weight_sum(self) -> torch.Tensor:
        """(height, width) summed windows: every tile's window is a row window times a column window."""
        return self.rows.weight_sum()[:, None] * self.cols.weight_sum()[None, :]


def seam_ratio(image: torch.Tensor, grid: TileGrid) -> float:
    """Mean gradient magnitude across tile borders divided by the mean across every other pixel boundary.

    `image` is (C, H, W) or (1, C, H, W) at the grid's size. The gradient across a border at column x is the
    difference between columns x and x-1 (rows likewise), averaged over channels. 1.0 means no measurable seam.
    """
    image = image.reshape(-1, *image.shape[-2:]).float()
    dx = (image[:, :, 1:] - image[:, :, :-1]).abs().mean(0)  # dx[:, x-1]: between columns x-1 and x
    dy = (image[:, 1:, :] - image[:, :-1, :]).abs().mean(0)
    col_mask = torch.zeros(dx.shape[1], dtype=torch.bool)
    col_mask[[x - 1 for x in grid.cols.borders()]] = True
    row_mask = torch.zeros(dy.shape[0], dtype=torch.bool)
    row_mask[[y - 1 for y in grid.rows.borders()]] = True
    at_border = torch.cat([dx[:, col_mask].flatten(), dy[row_mask, :].flatten()])
    elsewhere = torch.cat([dx[:, ~col_mask].flatten(), dy[~row_mask, :].flatten()])
    if at_border.numel() == 0:
        return 1.0
    return float(at_border.mean() / elsewhere.mean().clamp(min=1e-12))
