"""Finding and reading image files."""

from __future__ import annotations

import os

from PIL import Image

from util.errors import UserError

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".tif", ".tiff", ".webp")


def is_image_file(name: str) -> bool:
    """True when `name` ends with a known image extension, in any letter case."""
    return name.lower().endswith(IMG_EXTENSIONS)


def make_dataset(dir: str, max_dataset_size: float = float("inf"), hint: str = "") -> list[str]:
    """All image paths under `dir` (recursively), sorted, at most `max_dataset_size` of them.

    A missing folder or one without images raises UserError; `hint` (e.g. the expected layout) ends the message.
    """
    suffix = f"; {hint}" if hint else ""
    if not os.path.isdir(dir):
        raise UserError(f"image folder '{dir}' does not exist{suffix}")
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(dir, followlinks=True)
        for name in names
        if is_image_file(name)
    )
    if not paths:
        raise UserError(f"image folder '{dir}' holds no images ({', '.join(IMG_EXTENSIONS)}){suffix}")
    return paths[: int(min(max_dataset_size, len(paths)))]


class BadImageError(UserError):
    """An image file that cannot be read or used (odd A|B width, no colour); `path` names it (--skip_bad_images
    skips such files).
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def load_image(path: str, mode: str = "RGB") -> Image.Image:
    """Open and fully decode an image, converted to `mode`; an unreadable file raises UserError naming it."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert(mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(f"cannot read image '{path}': {err}; remove or replace the file, "
                            "or pass --skip_bad_images", path) from err
