"""Generate the bundled demo datasets: deterministic, synthetic, no download.

demo_facades (paired, for pix2pix): train/ and test/ hold A|B images side by side. A is a label map of flat
colours (sky, roof, wall, ledge, window, door, balcony, shop front) in a facade-like layout; B renders the same
layout as a "photo" (brick, slate, glass with frames, wood, stone ledges with shadows), so A->B and B->A are
learnable.

demo_shapes (unpaired, for CycleGAN): trainA/trainB/testA/testB hold scenes of warm-coloured shapes on pale
warm backgrounds; domain B scenes are drawn independently and then have their colour channels rotated
(R->G, G->B, B->R), the known mapping `true_a_to_b`.

Usage: python datasets/make_demo_dataset.py [--kind paired|unpaired|both] [--out datasets] [--size 128]
       [--n_train N] [--n_test N]
"""

from __future__ import annotations

import argparse
import colorsys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SEED = 2017
PAIRED_NAME = "demo_facades"
UNPAIRED_NAME = "demo_shapes"

SKY, ROOF, WALL, LEDGE, WINDOW, DOOR, BALCONY, SHOP = range(8)
LABEL_COLORS = np.array(
    [
        (40, 60, 160),  # sky
        (110, 40, 140),  # roof
        (70, 130, 230),  # wall
        (120, 230, 220),  # ledge: cornices and sills
        (250, 170, 40),  # window
        (200, 60, 40),  # door
        (60, 200, 90),  # balcony
        (240, 230, 80),  # shop front
    ],
    dtype=np.uint8,
)


def _rng(kind: int, split: int, index: int) -> np.random.Generator:
    """One generator per image, so each image is independent of how many others are made."""
    return np.random.default_rng([SEED, kind, split, index])


# ---------------------------------------------------------------- facades: layout


class Facade:
    """A label map plus the rectangles it was drawn from, in drawing order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.labels = np.full((size, size), SKY, dtype=np.uint8)
        self.rects: list[tuple[int, int, int, int, int]] = []

    def add(self, label: int, x0: float, y0: float, x1: float, y1: float) -> None:
        """Paint a rectangle [x0, x1) x [y0, y1), clipped to the image."""
        x0, y0 = max(0, round(x0)), max(0, round(y0))
        x1, y1 = min(self.size, round(x1)), min(self.size, round(y1))
        if x1 > x0 and y1 > y0:
            self.labels[y0:y1, x0:x1] = label
            self.rects.append((label, x0, y0, x1, y1))


def facade_layout(rng: np.random.Generator, size: int) -> Facade:
    """Draw a random facade: sky, optional roof, floors of windows with sills and balconies, a ground floor."""
    s = size / 128
    f = Facade(size)
    margin = 0 if rng.random() < 0.5 else rng.uniform(4, 16) * s
    bx0, bx1 = margin, size - margin * rng.uniform(0.5, 1.5)
    top = rng.uniform(3, 18) * s
    if rng.random() < 0.7:
        roof_h = rng.uniform(7, 15) * s
        f.add(ROOF, bx0 - 2 * s, top, bx1 + 2 * s, top + roof_h)
        top += roof_h
    ledge = max(1, round(2 * s))
    ground_h = rng.uniform(24, 32) * s
    ground_top = size - ground_h
    f.add(WALL, bx0, top, bx1, size)
    f.add(LEDGE, bx0 - s, top, bx1 + s, top + ledge + s)
    f.add(LEDGE, bx0, ground_top - ledge, bx1, ground_top)

    n_cols = int(rng.integers(2, 6))
    col_w = (bx1 - bx0) / n_cols
    n_floors = max(1, min(5, int((ground_top - top) / (rng.uniform(18, 26) * s))))
    floor_h = (ground_top - top - ledge) / n_floors
    win_w = col_w * rng.uniform(0.4, 0.62)
    win_h = floor_h * rng.uniform(0.5, 0.68)
    floor_bands = rng.random() < 0.5
    for floor in range(n_floors):
        y_floor = top + ledge + floor * floor_h
        if floor_bands and floor > 0:
            f.add(LEDGE, bx0, y_floor - ledge / 2, bx1, y_floor + ledge / 2)
        has_balcony = floor > 0 and rng.random() < 0.35
        wy0 = y_floor + (floor_h - win_h) * 0.45
        wy1 = wy0 + win_h
        for col in range(n_cols):
            cx = bx0 + (col + 0.5) * col_w
            wx0, wx1 = cx - win_w / 2, cx + win_w / 2
            f.add(WINDOW, wx0, wy0, wx1, wy1)
            if has_balcony:
                f.add(BALCONY, wx0 - 2 * s, wy1 - win_h * 0.35, wx1 + 2 * s, wy1 + ledge)
            else:
                f.add(LEDGE, wx0 - s, wy1, wx1 + s, wy1 + ledge)

    door_col = int(rng.integers(0, n_cols))
    shop = rng.random() < 0.5
    for col in range(n_cols):
        cx = bx0 + (col + 0.5) * col_w
        if col == door_col:
            door_w = min(col_w * 0.6, rng.uniform(12, 18) * s)
            f.add(DOOR, cx - door_w / 2, size - ground_h * 0.8, cx + door_w / 2, size)
        elif shop:
            f.add(SHOP, cx - col_w * 0.38, ground_top + ground_h * 0.15, cx + col_w * 0.38, size - 2 * s)
        else:
            f.add(WINDOW, cx - win_w / 2, ground_top + ground_h * 0.25, cx + win_w / 2, size - ground_h * 0.25)
    return f


# ---------------------------------------------------------------- facades: rendering


def _vertical(h: int, w: int, top: tuple[float, ...], bottom: tuple[float, ...]) -> np.ndarray:
    """An h x w x 3 vertical gradient from colour `top` to colour `bottom`."""
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    return np.broadcast_to((1 - t) * np.array(top) + t * np.array(bottom), (h, w, 3)).copy()


def _bricks(rng: np.random.Generator, size: int) -> np.ndarray:
    """A full-image brick texture: staggered courses, per-brick tint, light mortar."""
    s = size / 128
    bw, bh = max(4, round(8 * s)), max(2, round(4 * s))
    y, x = np.mgrid[0:size, 0:size]
    course = y // bh
    xs = x + (course % 2) * (bw // 2)
    brick_id = course * (size // bw + 2) + xs // bw
    tint = rng.uniform(0.85, 1.1, size=brick_id.max() + 1)[brick_id]
    base = np.array((168, 84, 58)) * rng.uniform(0.9, 1.1)
    img = base * tint[..., None]
    mortar = (y % bh == bh - 1) | (xs % bw == bw - 1)
    img[mortar] = (200, 190, 175)
    return img


def _slate(size: int) -> np.ndarray:
    y = np.arange(size)[:, None, None]
    rows = np.where(y % max(2, round(3 * size / 128)) == 0, 0.75, 1.0)
    return np.broadcast_to(np.array((78, 82, 96)) * rows, (size, size, 3)).copy()


def _frame(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, width: int, color: tuple[int, int, int]) -> None:
    img[y0:y1, x0 : x0 + width] = color
    img[y0:y1, x1 - width : x1] = color
    img[y0 : y0 + width, x0:x1] = color
    img[y1 - width : y1, x0:x1] = color


def _paint_window(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, s: float) -> None:
    h, w = y1 - y0, x1 - x0
    glass = _vertical(h, w, (40, 55, 80), (100, 120, 140))
    yy, xx = np.mgrid[0:h, 0:w]
    glare = np.abs((xx - yy * 0.6) - w * 0.35) < max(1.0, w * 0.12)
    glass[glare] += 45
    img[y0:y1, x0:x1] = glass
    t = max(1, round(1.5 * s))
    _frame(img, x0, y0, x1, y1, t, (236, 234, 222))
    if w >= 6 * t:
        mid = x0 + w // 2
        img[y0:y1, mid - t // 2 : mid - t // 2 + t] = (236, 234, 222)
    if h >= 6 * t:
        transom = y0 + h // 3
        img[transom : transom + t, x0:x1] = (236, 234, 222)


def _paint_door(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, s: float) -> None:
    h, w = y1 - y0, x1 - x0
    wood = _vertical(h, w, (120, 72, 40), (90, 52, 28))
    planks = (np.arange(w) % max(2, round(3 * s))) == 0
    wood[:, planks] *= 0.75
    img[y0:y1, x0:x1] = wood
    _frame(img, x0, y0, x1, y1, max(1, round(s)), (60, 36, 20))
    knob_y, knob_x = y0 + h // 2, x1 - max(2, round(3 * s))
    img[knob_y : knob_y + max(1, round(s)), knob_x : knob_x + max(1, round(s))] = (220, 190, 90)


def _paint_shop(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, s: float) -> None:
    img[y0:y1, x0:x1] = _vertical(y1 - y0, x1 - x0, (245, 215, 150), (170, 120, 70))
    _frame(img, x0, y0, x1, y1, max(1, round(2 * s)), (30, 70, 55))


def _paint_balcony(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, s: float) -> None:
    iron = (38, 38, 44)
    region = img[y0:y1, x0:x1] * 0.55
    bars = (np.arange(x1 - x0) % max(2, round(3 * s))) == 0
    region[:, bars] = iron
    img[y0:y1, x0:x1] = region
    t = max(1, round(s))
    img[y0 : y0 + t, x0:x1] = iron
    img[y1 - t : y1, x0:x1] = (150, 145, 135)


def render_facade(facade: Facade, rng: np.random.Generator) -> np.ndarray:
    """The 'photo' (B) of a facade layout as an HxWx3 uint8 array."""
    size, s = facade.size, facade.size / 128
    labels = facade.labels
    img = _vertical(size, size, (120, 170, 225), (205, 225, 245))
    bricks, slate = _bricks(rng, size), _slate(size)
    painters = {WINDOW: _paint_window, DOOR: _paint_door, SHOP: _paint_shop, BALCONY: _paint_balcony}
    for label, x0, y0, x1, y1 in facade.rects:
        if label == WALL:
            img[y0:y1, x0:x1] = bricks[y0:y1, x0:x1]
        elif label == ROOF:
            img[y0:y1, x0:x1] = slate[y0:y1, x0:x1]
        elif label == LEDGE:
            img[y0:y1, x0:x1] = (226, 216, 196)
            img[y1 - 1, x0:x1] = (170, 160, 145)
        else:
            painters[label](img, x0, y0, x1, y1, s)

    light = np.linspace(1.08, 0.88, size)[:, None, None]
    building = labels != SKY
    img = np.where(building[..., None], img * light, img)
    casters = np.isin(labels, (LEDGE, BALCONY, ROOF))
    shade = np.ones((size, size))
    depth = max(2, round(3 * s))
    for d in range(1, depth + 1):
        factor = 0.6 + 0.3 * (d - 1) / (depth - 1)
        below = np.zeros_like(casters)
        below[d:] = casters[:-d]
        shade = np.where(below & (labels == WALL), np.minimum(shade, factor), shade)
    img = img * shade[..., None] + rng.normal(0.0, 3.0, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def facade_pair(rng: np.random.Generator, size: int) -> np.ndarray:
    """One A|B demo image (label map left, photo right) as a size x 2*size x 3 uint8 array."""
    facade = facade_layout(rng, size)
    return np.concatenate([LABEL_COLORS[facade.labels], render_facade(facade, rng)], axis=1)


# ---------------------------------------------------------------- shapes


def true_a_to_b(img_array: np.ndarray) -> np.ndarray:
    """The exact demo_shapes A->B mapping: rotate colour channels R->G, G->B, B->R (last axis is RGB)."""
    return img_array[..., [2, 0, 1]]


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def shapes_scene(rng: np.random.Generator, size: int) -> np.ndarray:
    """A domain-A scene: 1-4 warm-coloured shapes on a pale warm background, as size x size x 3 uint8.

    Every pixel has R >= G >= B, so domain B (channels rotated) has G >= B >= R.
    """
    ss = 4
    big = size * ss
    background = _hsv(rng.uniform(0.05, 0.15), rng.uniform(0.08, 0.3), rng.uniform(0.85, 1.0))
    canvas = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 5))):
        fill = _hsv(rng.uniform(0.0, 0.15), rng.uniform(0.6, 1.0), rng.uniform(0.65, 1.0))
        outline = tuple(round(c * 0.6) for c in fill)
        r = rng.uniform(0.1, 0.22) * big
        cx, cy = rng.uniform(r, big - r), rng.uniform(r, big - r)
        kind = int(rng.integers(0, 4))
        width = max(1, round(1.5 * ss * size / 128))
        if kind == 0:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=width)
        elif kind == 1:
            draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=width)
        elif kind == 2:
            draw.ellipse((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=fill, outline=outline, width=width)
        else:
            points = [(cx, cy - r), (cx + r * 0.87, cy + r * 0.5), (cx - r * 0.87, cy + r * 0.5)]
            draw.polygon(points, fill=fill, outline=outline, width=width)
    return np.asarray(canvas.reduce(ss))


# ---------------------------------------------------------------- writing


def _write_split(folder: Path, images: list[np.ndarray]) -> None:
    """Replace the PNGs in `folder` with `images` named 0001.png, 0002.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for i, arr in enumerate(images, start=1):
        Image.fromarray(arr).save(folder / f"{i:04d}.png", format="PNG", compress_level=6)


def make_paired(out_dir: str | Path, size: int = 128, n_train: int = 160, n_test: int = 16) -> Path:
    """Write <out_dir>/demo_facades/{train,test}/NNNN.png (A|B pairs); return the dataset folder."""
    root = Path(out_dir) / PAIRED_NAME
    for split_id, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        _write_split(root / split, [facade_pair(_rng(0, split_id, i), size) for i in range(n)])
    return root


def make_unpaired(out_dir: str | Path, size: int = 128, n_train: int = 160, n_test: int = 16) -> Path:
    """Write <out_dir>/demo_shapes/{trainA,trainB,testA,testB}/NNNN.png; return the dataset folder."""
    root = Path(out_dir) / UNPAIRED_NAME
    for split_id, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        _write_split(root / f"{split}A", [shapes_scene(_rng(1, split_id, i), size) for i in range(n)])
        _write_split(root / f"{split}B", [true_a_to_b(shapes_scene(_rng(2, split_id, i), size)) for i in range(n)])
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate the synthetic demo datasets (deterministic).")
    parser.add_argument("--kind", choices=("paired", "unpaired", "both"), default="both")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent), help="parent folder (default: datasets/)"
    )
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--n_train", type=int, default=160, help="training images (per domain when unpaired)")
    parser.add_argument("--n_test", type=int, default=16, help="test images (per domain when unpaired)")
    args = parser.parse_args()
    if args.size < 32:
        parser.error("--size must be at least 32")
    start = time.perf_counter()
    if args.kind in ("paired", "both"):
        print(f"wrote {make_paired(args.out, args.size, args.n_train, args.n_test)}")
    if args.kind in ("unpaired", "both"):
        print(f"wrote {make_unpaired(args.out, args.size, args.n_train, args.n_test)}")
    print(f"done in {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
