"""The unaligned, single, colorization and template datasets, and the image pool."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data.colorization_dataset import ColorizationDataset
from data.image_folder import BadImageError
from data.single_dataset import SingleDataset
from data.template_dataset import TemplateDataset
from data.unaligned_dataset import UnalignedDataset
from tests import conftest
from tests.conftest import write_noise_images
from util.color import AB_to_rgb
from util.errors import UserError
from util.image_pool import ImagePool


def make_opt(dataroot: Path, **overrides) -> argparse.Namespace:
    """The shared dataset options, shuffled, at 24 px."""
    return conftest.make_opt(dataroot, **{"serial_batches": False, "load_size": 24, "crop_size": 24, **overrides})


def write_images(folder: Path, count: int, size: int = 24, seed: int = 0) -> list[Path]:
    """`count` noise images named 00.png, 01.png, ..."""
    return write_noise_images(folder, count, size, seed, name="{i:02d}.png")


@pytest.fixture
def unpaired_root(tmp_path: Path) -> Path:
    write_images(tmp_path / "trainA", 5, seed=1)
    write_images(tmp_path / "trainB", 3, seed=2)
    return tmp_path


# ------------------------------------------------------------------------------------------------ unaligned


def test_unaligned_length_and_serial_pairing(unpaired_root):
    dataset = UnalignedDataset(make_opt(unpaired_root, serial_batches=True))
    assert len(dataset) == 5
    items = [dataset[i] for i in range(5)]
    assert [Path(item["A_paths"]).name for item in items] == [f"{i:02d}.png" for i in range(5)]
    assert [Path(item["B_paths"]).name for item in items] == ["00.png", "01.png", "02.png", "00.png", "01.png"]
    assert all(Path(item["B_paths"]).parent.name == "trainB" for item in items)
    assert items[0]["A"].shape == (3, 24, 24) and items[0]["B"].shape == (3, 24, 24)


def test_unaligned_length_is_the_larger_domain(tmp_path):
    write_images(tmp_path / "trainA", 2)
    write_images(tmp_path / "trainB", 4)
    dataset = UnalignedDataset(make_opt(tmp_path, serial_batches=True))
    assert len(dataset) == 4
    assert [Path(dataset[i]["A_paths"]).name for i in range(4)] == ["00.png", "01.png", "00.png", "01.png"]


def test_unaligned_draws_b_at_random(unpaired_root):
    dataset = UnalignedDataset(make_opt(unpaired_root))
    random.seed(0)
    drawn = [Path(dataset[0]["B_paths"]).name for _ in range(60)]
    assert set(drawn) == {"00.png", "01.png", "02.png"}
    assert all(Path(dataset[0]["A_paths"]).name == "00.png" for _ in range(3))
    random.seed(0)
    assert [Path(dataset[0]["B_paths"]).name for _ in range(60)] == drawn


def test_unaligned_crops_and_flips_sides_independently(tmp_path):
    (path,) = write_images(tmp_path / "trainA", 1, size=40)
    (tmp_path / "trainB").mkdir()
    (tmp_path / "trainB" / "00.png").write_bytes(path.read_bytes())
    same = UnalignedDataset(make_opt(tmp_path, load_size=40, crop_size=40, preprocess="crop"))
    item = same[0]
    assert torch.equal(item["A"], item["B"])
    augmented = UnalignedDataset(make_opt(tmp_path, load_size=40, crop_size=24, preprocess="crop", no_flip=False))
    random.seed(0)
    items = [augmented[0] for _ in range(20)]
    assert sum(not torch.equal(item["A"], item["B"]) for item in items) >= 15


def test_unaligned_grayscale_per_side(unpaired_root):
    item = UnalignedDataset(make_opt(unpaired_root, input_nc=1, output_nc=3))[0]
    assert (item["A"].shape[0], item["B"].shape[0]) == (1, 3)
    item = UnalignedDataset(make_opt(unpaired_root, input_nc=1, output_nc=3, direction="BtoA"))[0]
    assert (item["A"].shape[0], item["B"].shape[0]) == (3, 1)


def test_unaligned_missing_or_empty_domain(tmp_path):
    write_images(tmp_path / "trainA", 2)
    with pytest.raises(UserError, match="trainB' does not exist"):
        UnalignedDataset(make_opt(tmp_path))
    (tmp_path / "trainB").mkdir()
    with pytest.raises(UserError, match="trainB' holds no images"):
        UnalignedDataset(make_opt(tmp_path))


# ------------------------------------------------------------------------------------------------ single


def test_single_reads_every_image_recursively(tmp_path):
    write_images(tmp_path / "photos", 2)
    write_images(tmp_path / "photos" / "nested", 2)
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    dataset = SingleDataset(make_opt(tmp_path / "photos", input_nc=1))
    assert len(dataset) == 4
    item = dataset[3]
    assert set(item) == {"A", "A_paths"}
    assert item["A_paths"].endswith("nested/01.png") and item["A"].shape == (1, 24, 24)


# ------------------------------------------------------------------------------------------------ colorization


def test_colorization_item_round_trips_to_its_source(tmp_path):
    (path,) = write_images(tmp_path / "train", 1, size=32)
    opt = make_opt(tmp_path, input_nc=1, output_nc=2, load_size=32, crop_size=32, preprocess="none")
    item = ColorizationDataset(opt)[0]
    assert item["A"].shape == (1, 32, 32) and item["B"].shape == (2, 32, 32)
    assert item["A"].min() >= -1 and item["A"].max() <= 1 and item["B"].abs().max() <= 1
    rgb = (AB_to_rgb(item["A"], item["B"]) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    source = np.asarray(Image.open(path))
    assert np.abs(rgb.astype(int) - source.astype(int)).max() <= 1


def test_colorization_rejects_grayscale_images_and_wrong_channels(tmp_path):
    write_images(tmp_path / "train", 1)
    Image.fromarray(np.full((24, 24), 90, np.uint8)).save(tmp_path / "train" / "gray.png")
    dataset = ColorizationDataset(make_opt(tmp_path, input_nc=1, output_nc=2))
    dataset[0]
    with pytest.raises(BadImageError, match="gray.png' is grayscale"):  # so --skip_bad_images can skip it
        dataset[1]
    with pytest.raises(UserError, match="--input_nc 1 --output_nc 2"):
        ColorizationDataset(make_opt(tmp_path, input_nc=3, output_nc=3))


def test_colorization_accepts_a_colour_photo_whose_crop_is_gray(tmp_path):
    photo = np.full((32, 32, 3), 120, np.uint8)
    photo[:, -1] = (200, 30, 30)  # colour only in the last column: most 8-pixel crops are gray
    (tmp_path / "train").mkdir()
    Image.fromarray(photo).save(tmp_path / "train" / "mostly_gray.png")
    dataset = ColorizationDataset(make_opt(tmp_path, input_nc=1, output_nc=2, load_size=32, crop_size=8,
                                           preprocess="crop"))
    random.seed(0)
    colours = [float(dataset[0]["B"].abs().max()) for _ in range(10)]
    assert min(colours) < 0.01  # some crops were entirely gray, and were accepted


# ------------------------------------------------------------------------------------------------ template


def test_template_dataset_pairs_an_image_with_its_blurred_copy(tmp_path):
    write_images(tmp_path / "train", 3, size=32)
    dataset = TemplateDataset(make_opt(tmp_path, load_size=32, crop_size=32, max_dataset_size=2,
                                       new_dataset_option=4.0))
    assert len(dataset) == 2
    item = dataset[0]
    assert item["A"].shape == item["B"].shape == (3, 32, 32)
    # the blurred copy keeps the average colour but loses the noise's fine detail
    assert (item["A"].mean() - item["B"].mean()).abs() < 0.05
    assert item["A"].diff(dim=-1).abs().mean() < 0.5 * item["B"].diff(dim=-1).abs().mean()


# ------------------------------------------------------------------------------------------------ image pool


def batch(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).contiguous()


def test_pool_of_size_zero_returns_its_input():
    images = batch(1, 2)
    assert ImagePool(0).query(images) is images


def stored(pool: ImagePool) -> list[float]:
    return [float(image[0, 0, 0]) for image in pool.images]


def test_pool_fill_phase_returns_and_stores_each_image():
    pool = ImagePool(5)
    assert torch.equal(pool.query(batch(1, 2)), batch(1, 2))
    assert torch.equal(pool.query(batch(3, 4, 5)), batch(3, 4, 5))
    assert stored(pool) == [1, 2, 3, 4, 5]
    # the pool fills up within a batch; later images of that batch are already subject to swapping
    pool = ImagePool(3)
    out = pool.query(batch(1, 2, 3, 4))
    assert torch.equal(out[:3], batch(1, 2, 3))
    assert float(out[3, 0, 0, 0]) in (1, 2, 3, 4) and len(pool) == 3


def test_pool_swaps_half_of_the_images_once_full():
    pool = ImagePool(10)
    pool.query(batch(*range(10)))
    random.seed(1)
    draws = 4000
    swapped = 0
    for value in range(100, 100 + draws):
        out = float(pool.query(batch(value))[0, 0, 0, 0])
        if out != value:
            swapped += 1
            assert out < value  # an image stored earlier
            assert value in stored(pool)  # the new one took its slot
    assert abs(swapped / draws - 0.5) < 0.04
    assert len(pool) == 10


def test_pool_state_round_trips():
    pool = ImagePool(4)
    pool.query(batch(1, 2, 3, 4, 5))
    copy = ImagePool(4)
    copy.load_state_dict(pool.state_dict())
    random.seed(3)
    expected = pool.query(batch(*range(10, 30)).requires_grad_())
    random.seed(3)
    assert torch.equal(copy.query(batch(*range(10, 30))), expected)
    assert not expected.requires_grad
    with pytest.raises(UserError, match="--pool_size"):
        ImagePool(8).load_state_dict(pool.state_dict())
