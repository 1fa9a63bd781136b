"""Image files: the extensions the framework reads, and any pixel format PIL opens brought to 8-bit L or RGB.

One definition for every layer: data/ finds dataset images with it, datasets/*.py pairs images with it, and the
README lists the same extensions (a test keeps them in step).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# A list, so that code written for the original release can append to it (data.image_folder.IMG_EXTENSIONS).
IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"]


def is_image_file(name: str) -> bool:
    """True when `name` ends with one of IMAGE_EXTENSIONS, in any letter case."""
    return name.lower().endswith(tuple(IMAGE_EXTENSIONS))


def to_8bit(image: Image.Image) -> Image.Image:
    """`image` as 8-bit "L" (gray) or "RGB", its values scaled to the full 8-bit range.

    - 16-bit gray ("I;16*", and "I", which is how PIL opens 16-bit PGMs and some PNGs): 0..65535 -> 0..255;
      "I" values outside 0..65535 raise ValueError.
    - 32-bit float ("F"): 0..1 -> 0..255; other values raise ValueError (their meaning is unknown).
    - Transparency (an alpha channel, or a palette or gray image with a transparent colour) is composited over
      white, as an image viewer shows it, instead of revealing whatever colour the transparent pixels hold.
    - "1" becomes "L"; any other mode (CMYK, YCbCr, P, ...) becomes "RGB" through PIL.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.int64)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high > 65535:
            raise ValueError(f"32-bit integer pixel values from {low} to {high} do not fit the 16-bit range "
                             "0..65535 that is understood; convert the image to 8 or 16 bits")
        return Image.fromarray(((values * 255 + 32767) // 65535).astype(np.uint8), "L")
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if np.isnan(values).any():
            raise ValueError("floating-point pixel values include NaN; convert the image to 8 or 16 bits")
        low, high = float(values.min()), float(values.max())
        if low < 0 or high > 1:
            raise ValueError(f"floating-point pixel values from {low:g} to {high:g}, but only 0..1 is understood; "
                             "convert the image to 8 or 16 bits")
        return Image.fromarray(np.rint(values * 255).astype(np.uint8), "L")
    if image.has_transparency_data:
        gray = mode in ("LA", "La", "L", "1")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
        return flat.convert("L") if gray else flat
    if mode in ("L", "RGB"):
        return image
    return image.convert("L" if mode == "1" else "RGB")
