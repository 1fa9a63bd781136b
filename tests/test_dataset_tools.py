"""combine_A_and_B.py, make_dataset_aligned.py and prepare_cityscapes_dataset.py on small folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import TINY_PIX2PIX, run_main


def write_images(folder: Path, names: list[str], size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name in names:
        arrays[name] = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(arrays[name]).save(folder / name)
    return arrays


def test_combine_then_train_on_the_result(tmp_path):
    names = ["000.png", "001.png", "002.png"]
    a = write_images(tmp_path / "A" / "train", names, 128, seed=1)
    b = write_images(tmp_path / "B" / "train", names, 128, seed=2)
    write_images(tmp_path / "A" / "test", names[:1], 128, seed=3)
    write_images(tmp_path / "B" / "test", names[:1], 128, seed=4)
    result = run_main("datasets/combine_A_and_B.py", "--fold_A", str(tmp_path / "A"), "--fold_B",
                      str(tmp_path / "B"), "--fold_AB", str(tmp_path / "AB"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "AB" / "train").iterdir()) == names
    pair = np.asarray(Image.open(tmp_path / "AB" / "train" / "001.png"))
    assert pair.shape == (128, 256, 3)
    assert (pair[:, :128] == a["001.png"]).all() and (pair[:, 128:] == b["001.png"]).all()
    assert (tmp_path / "AB" / "test" / "000.png").is_file()
    train = run_main("train.py", "--dataroot", str(tmp_path / "AB"), "--name", "combined", "--checkpoints_dir",
                     str(tmp_path / "ck"), *TINY_PIX2PIX, "--n_epochs", "1", "--n_epochs_decay", "0")
    assert train.returncode == 0, train.stderr[-3000:]
    assert "3 images" in train.stdout and (tmp_path / "ck" / "combined" / "latest_net_G.pth").is_file()


def test_combine_names_missing_counterparts(tmp_path):
    write_images(tmp_path / "A" / "train", ["x.png", "y.png", "z.png"], 16, seed=1)
    write_images(tmp_path / "B" / "train", ["x.png"], 16, seed=2)
    result = run_main("datasets/combine_A_and_B.py", "--fold_A", str(tmp_path / "A"), "--fold_B",
                      str(tmp_path / "B"), "--fold_AB", str(tmp_path / "AB"), "--no_multiprocessing")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "y.png, z.png" in result.stderr and "2 image(s)" in result.stderr
    assert not (tmp_path / "AB").exists()


def test_combine_use_ab_and_size_mismatch(tmp_path):
    write_images(tmp_path / "A" / "val", ["k_A.png"], 16, seed=1)
    write_images(tmp_path / "B" / "val", ["k_B.png"], 16, seed=2)
    result = run_main("datasets/combine_A_and_B.py", "--fold_A", str(tmp_path / "A"), "--fold_B",
                      str(tmp_path / "B"), "--fold_AB", str(tmp_path / "AB"), "--use_AB")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "AB" / "val" / "k.png").size == (32, 16)
    write_images(tmp_path / "B" / "val", ["k_B.png"], 20, seed=2)
    result = run_main("datasets/combine_A_and_B.py", "--fold_A", str(tmp_path / "A"), "--fold_B",
                      str(tmp_path / "B"), "--fold_AB", str(tmp_path / "AB2"), "--use_AB")
    assert result.returncode == 2 and "16x16" in result.stderr and "20x20" in result.stderr


def test_make_dataset_aligned(tmp_path):
    root = tmp_path / "data"
    a = write_images(root / "trainA", ["1_A.png", "2_A.png"], 16, seed=1)
    write_images(root / "trainB", ["1_B.png", "2_B.png"], 16, seed=2)
    result = run_main("datasets/make_dataset_aligned.py", "--dataset-path", str(root))
    assert result.returncode == 0, result.stderr
    pair = np.asarray(Image.open(root / "train" / "2.png"))
    assert pair.shape == (16, 32, 3) and (pair[:, :16] == a["2_A.png"]).all()
    write_images(root / "testA", ["5_A.png"], 16, seed=3)
    write_images(root / "testB", ["6_B.png"], 16, seed=3)
    result = run_main("datasets/make_dataset_aligned.py", "--dataset-path", str(root))
    assert result.returncode == 2 and "testA/5_A.png" in result.stderr and "testB/6_B.png" in result.stderr


def test_make_dataset_aligned_refuses_names_that_would_pair_alike(tmp_path):
    root = tmp_path / "data"
    write_images(root / "trainA", ["y.png", "y_A.jpg", "z_A.png"], 16, seed=1)  # both y's would become train/y.*
    write_images(root / "trainB", ["y_B.png", "z_B.png"], 16, seed=2)
    result = run_main("datasets/make_dataset_aligned.py", "--dataset-path", str(root))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "y.png and y_A.jpg" in result.stderr and "trainA" in result.stderr
    assert not (root / "train").exists()


def test_prepare_cityscapes(tmp_path):
    for split, city, frames in (("train", "aachen", 2), ("val", "lindau", 1)):
        for i in range(frames):
            key = f"{city}_000000_{i:06d}"
            write_images(tmp_path / "leftImg8bit" / split / city, [f"{key}_leftImg8bit.png"], 64, seed=i)
            write_images(tmp_path / "gtFine" / split / city, [f"{key}_gtFine_color.png"], 64, seed=10 + i)
    out = tmp_path / "cityscapes"
    result = run_main("datasets/prepare_cityscapes_dataset.py", "--gtFine_dir", str(tmp_path / "gtFine"),
                      "--leftImg8bit_dir", str(tmp_path / "leftImg8bit"), "--output_dir", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "train").iterdir()) == ["0.jpg", "1.jpg"]
    assert Image.open(out / "train" / "0.jpg").size == (512, 256)
    assert (out / "trainA" / "1_A.jpg").is_file() and (out / "testB" / "0_B.jpg").is_file()
    (tmp_path / "gtFine" / "val" / "lindau" / "lindau_000000_000000_gtFine_color.png").unlink()
    result = run_main("datasets/prepare_cityscapes_dataset.py", "--gtFine_dir", str(tmp_path / "gtFine"),
                      "--leftImg8bit_dir", str(tmp_path / "leftImg8bit"), "--output_dir", str(out))
    assert result.returncode == 2 and "lindau_000000_000000" in result.stderr
