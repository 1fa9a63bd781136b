"""Image files: one list of extensions (code and README agree), and every pixel format PIL opens read as 8 bits."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.image_folder import BadImageError, load_image, make_dataset
from datasets.aligned_pairs import combine, image_names
from tests.conftest import ROOT
from util.image_files import IMAGE_EXTENSIONS

RAMP16 = (np.arange(16 * 16).reshape(16, 16) * 257).astype(np.uint16)  # 0..65535 in steps of 257: 8-bit 0..255


def test_readme_lists_the_extensions_the_code_reads():
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"extension \(`([^`]+)`, any case\)", readme.replace("\n", " ")).group(1).split()
    assert listed == IMAGE_EXTENSIONS


def test_every_listed_extension_is_found_and_read(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    for ext in IMAGE_EXTENSIONS:
        Image.fromarray(pixels).save(tmp_path / f"img{ext.upper() if ext == '.pgm' else ext}")
    found = make_dataset(str(tmp_path))
    assert len(found) == len(IMAGE_EXTENSIONS) and any(p.endswith(".PGM") for p in found)
    assert len(image_names(str(tmp_path))) == len(IMAGE_EXTENSIONS)  # the dataset tools find the same files
    pgm = next(p for p in found if p.endswith(".PGM"))
    assert np.array_equal(np.asarray(load_image(pgm, "L")), pixels)


def ramp_file(tmp_path: Path, kind: str) -> Path:
    """The 8-bit ramp 0..255 stored in another pixel format."""
    if kind == "I;16 png":
        path = tmp_path / "ramp16.png"
        Image.fromarray(RAMP16).save(path)
    elif kind == "I pgm":  # 16-bit PGMs open as mode I
        path = tmp_path / "ramp16.pgm"
        path.write_bytes(b"P5\n16 16\n65535\n" + RAMP16.astype(">u2").tobytes())
    elif kind == "I;16 tif":
        path = tmp_path / "ramp16.tif"
        Image.fromarray(RAMP16).save(path)
    else:  # F: floats in 0..1
        path = tmp_path / "rampf.tif"
        Image.fromarray(RAMP16.astype(np.float32) / 65535).save(path)
    return path


@pytest.mark.parametrize(("kind", "mode"), [("I;16 png", "I;16"), ("I pgm", "I"), ("I;16 tif", "I;16"),
                                            ("F tif", "F")])
def test_high_bit_depth_images_are_scaled_to_8_bits(tmp_path, kind, mode):
    path = ramp_file(tmp_path, kind)
    assert Image.open(path).mode == mode
    expected = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(np.asarray(load_image(str(path), "L")), expected)
    rgb = np.asarray(load_image(str(path)))
    assert rgb.shape == (16, 16, 3) and all(np.array_equal(rgb[..., c], expected) for c in range(3))


@pytest.mark.parametrize("kind", ["LA", "P", "RGBA"])
def test_transparent_pixels_read_as_white(tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    opaque = np.zeros((8, 8), bool)
    opaque[:, :4] = True
    if kind == "LA":
        Image.fromarray(np.dstack([np.full((8, 8), 60, np.uint8), opaque * np.uint8(255)]), "LA").save(path)
        colour = (60, 60, 60)
    elif kind == "RGBA":
        pixels = np.dstack([np.full((8, 8, 3), (200, 10, 30), np.uint8), opaque * np.uint8(255)])
        Image.fromarray(pixels, "RGBA").save(path)
        colour = (200, 10, 30)
    else:  # a palette image whose colour 0 (black) is transparent
        image = Image.fromarray(opaque.astype(np.uint8), "P")
        image.putpalette([0, 0, 0, 200, 10, 30])
        image.save(path, transparency=0)
        colour = (200, 10, 30)
    assert Image.open(path).mode == kind
    rgb = np.asarray(load_image(str(path)))
    assert (rgb[:, :4] == colour).all() and (rgb[:, 4:] == 255).all()


@pytest.mark.parametrize("values", ["float 0..300", "int32 negative"])
def test_pixel_values_of_unknown_meaning_are_refused_by_name(tmp_path, values):
    path = tmp_path / "odd.tif"
    if values == "float 0..300":
        Image.fromarray(np.linspace(0, 300, 64, dtype=np.float32).reshape(8, 8)).save(path)
    else:
        Image.fromarray(np.arange(-32, 32, dtype=np.int32).reshape(8, 8)).save(path)
    with pytest.raises(BadImageError, match=r"cannot read image '.*odd\.tif': .*values from .*convert the image"):
        load_image(str(path))


def test_dataset_tools_scale_16_bit_images(tmp_path):
    for side in "AB":
        Image.fromarray(RAMP16).save(tmp_path / f"{side}.png")
    assert combine((str(tmp_path / "A.png"), str(tmp_path / "B.png"), str(tmp_path / "AB.png"))) is None
    pair = np.asarray(Image.open(tmp_path / "AB.png"))
    expected = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert pair.shape == (16, 32) and np.array_equal(pair[:, :16], expected) and np.array_equal(pair[:, 16:], expected)
