"""Data loading: folder scanning, preprocessing, the aligned dataset, the registry and the loader."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data import DatasetLoader, create_dataset, dataset_modes, find_dataset_using_name, get_option_setter
from data.aligned_dataset import AlignedDataset
from data.base_dataset import PREPROCESS_MODES, get_params, get_transform
from data.image_folder import is_image_file, load_image, make_dataset
from options.train_options import TrainOptions
from tests.conftest import make_opt
from util import messages
from util.errors import UserError


def noise(w: int, h: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def aligned_folder(root: Path, n: int, w: int = 40, h: int = 24) -> Path:
    """<root>/train with n A|B images whose halves are identical noise."""
    for i in range(n):
        half = noise(w, h, seed=i)
        save(root / "train" / f"{i:02d}.png", np.concatenate([half, half], axis=1))
    return root


# ---------------------------------------------------------------- image folder


def test_is_image_file_any_case() -> None:
    assert all(is_image_file(n) for n in ["a.jpg", "b.JPEG", "c.Png", "d.ppm", "e.BMP", "f.tif", "g.TIFF", "h.webp"])
    assert not any(is_image_file(n) for n in ["notes.txt", "png", "x.gif", "y.png.bak"])


def test_make_dataset_recursive_sorted_capped(tmp_path: Path) -> None:
    for name in ["b.PNG", "a.jpg", "sub/c.JpEg", "sub/deeper/d.webp", "readme.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    expected = [str(tmp_path / n) for n in ["a.jpg", "b.PNG", "sub/c.JpEg", "sub/deeper/d.webp"]]
    assert make_dataset(str(tmp_path)) == expected
    assert make_dataset(str(tmp_path), max_dataset_size=2) == expected[:2]
    assert make_dataset(str(tmp_path), max_dataset_size=100) == expected


def test_make_dataset_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist; put images here") as err:
        make_dataset(str(tmp_path / "nope"), hint="put images here")
    assert "nope" in str(err.value)
    (tmp_path / "notes.txt").write_text("no images")
    with pytest.raises(UserError, match="holds no images"):
        make_dataset(str(tmp_path))


def test_load_image_converts_mode(tmp_path: Path) -> None:
    path = save(tmp_path / "x.png", noise(8, 6))
    assert load_image(str(path)).mode == "RGB"
    gray = load_image(str(path), mode="L")
    assert gray.mode == "L" and gray.size == (8, 6)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_load_image_corrupt_names_file(tmp_path: Path, damage: str) -> None:
    path = save(tmp_path / "broken.png", noise(64, 64))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"not an image at all")
    with pytest.raises(UserError, match=r"cannot read image '.*broken\.png'.*remove or replace"):
        load_image(str(path))


# ---------------------------------------------------------------- preprocessing


@pytest.mark.parametrize(
    ("preprocess", "load_size", "crop_size", "expected"),
    [
        ("resize_and_crop", 64, 48, (48, 48)),
        ("crop", 64, 48, (48, 48)),
        ("scale_width", 80, 48, (80, 48)),  # 60 * 80 / 100 = 48
        ("scale_width", 50, 40, (50, 40)),  # 60 * 50 / 100 = 30, raised to crop_size
        ("scale_width_and_crop", 80, 32, (32, 32)),
        ("none", 64, 48, (100, 60)),
    ],
)
def test_preprocess_output_size_non_square(preprocess: str, load_size: int, crop_size: int, expected) -> None:
    opt = make_opt(preprocess=preprocess, load_size=load_size, crop_size=crop_size, no_flip=False)
    img = Image.fromarray(noise(100, 60))
    assert get_transform(opt, convert=False)(img).size == expected
    assert get_transform(opt, get_params(opt, img.size), convert=False)(img).size == expected
    assert get_transform(opt)(img).shape == (3, expected[1], expected[0])


def test_none_rounds_to_multiple_of_4_and_warns_once(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(messages, "_shown_once", set())
    transform = get_transform(make_opt(preprocess="none"))
    capsys.readouterr()
    assert transform(Image.fromarray(noise(102, 61))).shape == (3, 60, 104)
    assert transform(Image.fromarray(noise(99, 33))).shape == (3, 32, 100)
    assert transform(Image.fromarray(noise(2, 2))).shape == (3, 4, 4)
    assert transform(Image.fromarray(noise(40, 20))).shape == (3, 20, 40)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "102x61" in warnings[0] and "104x60" in warnings[0]


def test_crop_larger_than_image_is_a_user_error() -> None:
    transform = get_transform(make_opt(preprocess="crop", crop_size=64))
    with pytest.raises(UserError, match="smaller than --crop_size 64"):
        transform(Image.fromarray(noise(100, 60)))


def test_bad_preprocess_options(tmp_path: Path) -> None:
    def parse(*args: str) -> None:
        TrainOptions().parse(["--dataroot", str(tmp_path), "--checkpoints_dir", str(tmp_path), *args])

    with pytest.raises(UserError, match="resize_and_crop") as err:
        parse("--preprocess", "resize_and_rotate")
    assert all(mode in str(err.value) for mode in PREPROCESS_MODES)
    with pytest.raises(UserError, match="--crop_size 32 is larger than --load_size 16"):
        parse("--load_size", "16", "--crop_size", "32")


def test_tensor_range_and_channels() -> None:
    opt = make_opt(preprocess="none")
    rgb = get_transform(opt)(Image.fromarray(noise(16, 8)))
    assert rgb.dtype == torch.float32 and rgb.shape == (3, 8, 16) and type(rgb) is torch.Tensor
    assert rgb.min() >= -1 and rgb.max() <= 1 and rgb.min() < -0.9 and rgb.max() > 0.9
    assert get_transform(opt, grayscale=True)(Image.fromarray(noise(16, 8))).shape == (1, 8, 16)
    white = get_transform(opt)(Image.new("RGB", (8, 8), (255, 255, 255)))
    black = get_transform(opt, grayscale=True)(Image.new("RGB", (8, 8)))
    assert torch.equal(white, torch.ones(3, 8, 8)) and torch.equal(black, -torch.ones(1, 8, 8))


def test_get_params_range_and_seeding() -> None:
    opt = make_opt(load_size=64, crop_size=48)
    random.seed(3)
    first = [get_params(opt, (100, 60)) for _ in range(50)]
    random.seed(3)
    assert first == [get_params(opt, (100, 60)) for _ in range(50)]
    assert all(0 <= p["crop_pos"][0] <= 16 and 0 <= p["crop_pos"][1] <= 16 for p in first)
    assert {p["flip"] for p in first} == {True, False}
    sw = make_opt(preprocess="scale_width_and_crop", load_size=80, crop_size=32)
    scaled = [get_params(sw, (100, 60)) for _ in range(50)]  # resized to 80x48 before the 32x32 crop
    assert all(p["crop_pos"][0] <= 48 and p["crop_pos"][1] <= 16 for p in scaled)


def test_given_params_fix_crop_and_flip() -> None:
    opt = make_opt(preprocess="crop", crop_size=4, no_flip=False)
    img = Image.fromarray(noise(10, 8))
    out = get_transform(opt, {"crop_pos": (3, 2), "flip": True}, convert=False)(img)
    assert np.array_equal(np.asarray(out), np.asarray(img)[2:6, 3:7][:, ::-1])
    no_flip = make_opt(preprocess="crop", crop_size=4, no_flip=True)
    out = get_transform(no_flip, {"crop_pos": (3, 2), "flip": True}, convert=False)(img)
    assert np.array_equal(np.asarray(out), np.asarray(img)[2:6, 3:7])


# ---------------------------------------------------------------- aligned dataset


@pytest.mark.parametrize("preprocess", ["resize_and_crop", "crop", "scale_width_and_crop", "none"])
def test_aligned_halves_share_crop_and_flip(tmp_path: Path, preprocess: str) -> None:
    left = noise(40, 24)
    save(tmp_path / "train" / "inverse.png", np.concatenate([left, 255 - left], axis=1))
    save(tmp_path / "train" / "same.png", np.concatenate([left, left], axis=1))
    dataset = AlignedDataset(make_opt(tmp_path, preprocess=preprocess, load_size=36, crop_size=20, no_flip=False))
    for seed in range(16):
        random.seed(seed)
        inverse, same = dataset[0], dataset[1]
        assert torch.equal(same["A"], same["B"])
        if preprocess in ("crop", "none"):
            assert torch.allclose(inverse["A"], -inverse["B"], atol=1e-6)


def test_aligned_flips_both_halves(tmp_path: Path) -> None:
    left = noise(40, 24)
    save(tmp_path / "train" / "same.png", np.concatenate([left, left], axis=1))
    dataset = AlignedDataset(make_opt(tmp_path, preprocess="none", no_flip=False))
    plain = get_transform(make_opt(preprocess="none"))(Image.fromarray(left))
    flipped = []
    for seed in range(16):
        random.seed(seed)
        item = dataset[0]
        assert torch.equal(item["A"], item["B"])
        assert torch.equal(item["A"], plain) or torch.equal(item["A"], plain.flip(-1))
        flipped.append(torch.equal(item["A"], plain.flip(-1)))
    assert set(flipped) == {True, False}


@pytest.mark.parametrize(("direction", "a_channels", "b_channels"), [("AtoB", 1, 3), ("BtoA", 3, 1)])
def test_aligned_channels_follow_direction(tmp_path: Path, direction: str, a_channels: int, b_channels: int) -> None:
    aligned_folder(tmp_path, 1)
    item = AlignedDataset(make_opt(tmp_path, direction=direction, input_nc=1, output_nc=3))[0]
    assert item["A"].shape == (a_channels, 32, 32) and item["B"].shape == (b_channels, 32, 32)
    assert item["A_paths"] == item["B_paths"] == str(tmp_path / "train" / "00.png")


def test_aligned_odd_width_names_file(tmp_path: Path) -> None:
    save(tmp_path / "train" / "odd.png", noise(41, 20))
    with pytest.raises(UserError, match=r"'.*odd\.png' has odd width 41"):
        AlignedDataset(make_opt(tmp_path))[0]


def test_aligned_corrupt_image_names_file(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(UserError, match=r"cannot read image '.*bad\.jpg'"):
        AlignedDataset(make_opt(tmp_path))[0]


def test_user_error_from_worker_stays_one_line(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    try:
        list(create_dataset(make_opt(tmp_path, num_threads=1)))
    except UserError as err:  # not pytest.raises: keeping the traceback stalls the worker shutdown at gc by 5 s
        message = str(err)
    else:
        pytest.fail("a corrupt image must raise UserError")
    assert message.startswith("cannot read image '") and "bad.png" in message and "\n" not in message


def test_aligned_missing_folder_explains_layout(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"A and B side by side in .*train; see datasets/combine_A_and_B\.py"):
        AlignedDataset(make_opt(tmp_path))


# ---------------------------------------------------------------- registry and loader


def test_registry() -> None:
    assert "aligned" in dataset_modes() and "base" not in dataset_modes()
    assert find_dataset_using_name("aligned") is AlignedDataset
    parser = argparse.ArgumentParser()
    assert get_option_setter("aligned")(parser, True) is parser
    with pytest.raises(UserError, match=r"unknown dataset_mode 'alinged'; choose one of: .*aligned") as err:
        find_dataset_using_name("alinged")
    assert "base" not in str(err.value)


def test_loader_batches_length_and_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    aligned_folder(tmp_path, 5)
    loader = create_dataset(make_opt(tmp_path, batch_size=2))
    assert "dataset [AlignedDataset] was created with 5 images" in capsys.readouterr().out
    assert isinstance(loader, DatasetLoader) and len(loader) == 5
    batches = list(loader)
    assert [b["A"].shape[0] for b in batches] == [2, 2, 1]
    assert [p for b in batches for p in b["A_paths"]] == [str(tmp_path / "train" / f"{i:02d}.png") for i in range(5)]
    assert not loader.dataloader.pin_memory
    loader.set_epoch(2)

    capped = create_dataset(make_opt(tmp_path, batch_size=2, max_dataset_size=3))
    assert len(capped) == 3 and sum(b["A"].shape[0] for b in capped) == 3
    loader.opt.max_dataset_size = 4
    assert len(loader) == 4 and sum(b["A"].shape[0] for b in loader) == 4


def test_loader_shuffles_reproducibly(tmp_path: Path) -> None:
    """The order of an epoch depends only on (seed, epoch), not on the global generators or past epochs."""
    aligned_folder(tmp_path, 8)

    def order(seed: int, epoch: int, start: int = 0) -> list[str]:
        loader = create_dataset(make_opt(tmp_path, serial_batches=False, seed=seed))
        torch.manual_seed(epoch * 7 + start)
        loader.set_epoch(epoch, start)
        return [b["A_paths"][0] for b in loader]

    assert order(0, 1) == order(0, 1)
    assert len({tuple(order(seed, 1)) for seed in range(4)}) > 1
    assert len({tuple(order(0, epoch)) for epoch in range(4)}) > 1
    assert order(0, 2, start=3) == order(0, 2)[3:]
    torch.manual_seed(0)
    unseeded = create_dataset(make_opt(tmp_path, serial_batches=False, seed=None))
    torch.manual_seed(0)
    assert create_dataset(make_opt(tmp_path, serial_batches=False, seed=None)).seed == unseeded.seed


def test_workers_seed_augmentation(tmp_path: Path) -> None:
    half = noise(48, 48)
    for i in range(4):
        save(tmp_path / "train" / f"{i}.png", np.concatenate([half, half], axis=1))
    opt = make_opt(tmp_path, preprocess="crop", crop_size=16, no_flip=False, num_threads=2)

    def run() -> list[torch.Tensor]:
        torch.manual_seed(0)
        loader = create_dataset(opt)
        assert loader.dataloader.persistent_workers
        return [b["A"][0] for b in loader]

    first = run()
    assert all(torch.equal(a, b) for a, b in zip(first, run(), strict=True))
    # items 0 and 2 come from worker 0, items 1 and 3 from worker 1: their python `random` must be seeded apart
    assert not (torch.equal(first[0], first[1]) and torch.equal(first[2], first[3]))
