"""Finding and reading image files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from PIL import Image
from torch.utils import data

from util import messages
from util.errors import UserError
from util.image_files import IMAGE_EXTENSIONS, is_image_file, to_8bit

# The original release's name, kept for datasets written against it: the same list, so code that appends an
# extension to it extends what every layer finds.
IMG_EXTENSIONS = IMAGE_EXTENSIONS

__all__ = ["IMG_EXTENSIONS", "BadImageError", "ImageFolder", "default_loader", "is_image_file", "load_image",
           "make_dataset", "searched_folders"]

_searches: list[list[str]] = []  # the lists of open searched_folders() blocks


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
    for folders in _searches:
        folders.append(dir)
    return paths[: int(min(max_dataset_size, len(paths)))]


@contextlib.contextmanager
def searched_folders() -> Iterator[list[str]]:
    """The folders that make_dataset searches inside the block (e.g. while a dataset is built), in a list.

    test.py names each result after the input's path inside the folder it was found in, without asking every
    dataset (the original release's included) to report its folders.
    """
    folders: list[str] = []
    _searches.append(folders)
    try:
        yield folders
    finally:
        _searches.remove(folders)


class BadImageError(UserError):
    """An image file that cannot be read or used (odd A|B width, no colour); `path` names it (--skip_bad_images
    skips such files).
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def load_image(path: str, mode: str = "RGB") -> Image.Image:
    """Open and fully decode an image, brought to 8 bits (util.image_files.to_8bit: 16-bit and float images scaled,
    transparency over white) and converted to `mode`; an unreadable or unusable file raises BadImageError naming it.
    """
    try:
        with Image.open(path) as img:
            img.load()
            return to_8bit(img).convert(mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(f"cannot read image '{path}': {err}; remove or replace the file, "
                            "or pass --skip_bad_images", path) from err


# The original release's names ---------------------------------------------------------------------------------------

def default_loader(path: str) -> Image.Image:
    """The original release's image loader: `load_image(path)` (RGB; an unreadable file raises BadImageError)."""
    messages.deprecated("data.image_folder.default_loader", "data.image_folder.load_image")
    return load_image(path)


class ImageFolder(data.Dataset):
    """The original release's dataset of every image under `root`: item i is image i (through `transform`), or
    (image, path) with `return_paths`. Built on make_dataset and load_image.
    """

    def __init__(self, root: str, transform: Callable[[Image.Image], Any] | None = None, return_paths: bool = False,
                 loader: Callable[[str], Any] = load_image) -> None:
        self.root = root
        self.imgs = make_dataset(root)
        self.transform = transform
        self.return_paths = return_paths
        self.loader = loader

    def __getitem__(self, index: int) -> Any:
        path = self.imgs[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        return (img, path) if self.return_paths else img

    def __len__(self) -> int:
        return len(self.imgs)
