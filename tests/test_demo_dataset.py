"""The synthetic demo datasets: deterministic, correctly laid out, and the unpaired mapping is the known one."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "datasets" / "make_demo_dataset.py"
_spec = importlib.util.spec_from_file_location("make_demo_dataset", SCRIPT)
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def pixels(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))])


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for run in ("one", "two"):
        demo.make_paired(tmp_path / run, size=64, n_train=4, n_test=2)
        demo.make_unpaired(tmp_path / run, size=64, n_train=4, n_test=2)
    assert files(tmp_path / "one") == files(tmp_path / "two")
    assert len(files(tmp_path / "one")) == 4 + 2 + 2 * (4 + 2)


def test_rerun_overwrites_cleanly(tmp_path: Path) -> None:
    demo.make_paired(tmp_path / "reused", size=32, n_train=5, n_test=2)
    demo.make_paired(tmp_path / "reused", size=32, n_train=3, n_test=1)
    demo.make_paired(tmp_path / "fresh", size=32, n_train=3, n_test=1)
    assert files(tmp_path / "reused") == files(tmp_path / "fresh")


def test_paired_layout(tmp_path: Path) -> None:
    root = demo.make_paired(tmp_path, size=64, n_train=3, n_test=2)
    assert root == tmp_path / "demo_facades"
    assert sorted(p.name for p in (root / "train").iterdir()) == ["0001.png", "0002.png", "0003.png"]
    assert len(list((root / "test").iterdir())) == 2
    images = pixels(root / "train")
    assert images.shape == (3, 64, 128, 3)
    labels, photos = images[:, :, :64], images[:, :, 64:]
    palette = {tuple(c) for c in demo.LABEL_COLORS}
    assert {tuple(c) for c in labels.reshape(-1, 3)} <= palette
    assert len({tuple(c) for c in photos.reshape(-1, 3)}) > 500


def test_facade_photo_follows_labels() -> None:
    rng = np.random.default_rng(0)
    pair = demo.facade_pair(rng, 128)
    assert pair.shape == (128, 256, 3) and pair.dtype == np.uint8
    labels, photo = pair[:, :128], pair[:, 128:].astype(float)
    sky = (labels == demo.LABEL_COLORS[demo.SKY]).all(-1)
    wall = (labels == demo.LABEL_COLORS[demo.WALL]).all(-1)
    assert sky.any() and wall.any()
    assert photo[sky][:, 2].mean() > photo[sky][:, 0].mean() + 40  # blue sky
    assert photo[wall][:, 0].mean() > photo[wall][:, 2].mean() + 40  # red brick


def test_unpaired_layout_and_true_mapping(tmp_path: Path) -> None:
    root = demo.make_unpaired(tmp_path, size=32, n_train=24, n_test=2)
    assert root == tmp_path / "demo_shapes"
    for split, n in (("trainA", 24), ("trainB", 24), ("testA", 2), ("testB", 2)):
        assert pixels(root / split).shape == (n, 32, 32, 3)
    a = pixels(root / "trainA").astype(int)
    b = pixels(root / "trainB").astype(int)
    assert not np.array_equal(demo.true_a_to_b(a), b)  # domains are drawn independently, not paired
    r, g, bl = a[..., 0], a[..., 1], a[..., 2]
    assert (r >= g).all() and (g >= bl).all()
    r, g, bl = b[..., 0], b[..., 1], b[..., 2]
    assert (g >= bl).all() and (bl >= r).all()
    mapped = demo.true_a_to_b(a)
    assert np.abs(mapped.mean(axis=(0, 1, 2)) - b.mean(axis=(0, 1, 2))).max() < 15
    assert np.abs(mapped.std(axis=(0, 1, 2)) - b.std(axis=(0, 1, 2))).max() < 15


def test_true_mapping_is_the_channel_rotation() -> None:
    img = np.random.default_rng(1).integers(0, 256, size=(4, 5, 3))
    out = demo.true_a_to_b(img)
    assert np.array_equal(out[..., 1], img[..., 0]) and np.array_equal(out[..., 2], img[..., 1])
    assert np.array_equal(out[..., 0], img[..., 2])
    assert np.array_equal(demo.true_a_to_b(demo.true_a_to_b(out)), img)


def test_command_line(tmp_path: Path) -> None:
    args = ["--kind", "unpaired", "--out", str(tmp_path), "--size", "32", "--n_train", "2", "--n_test", "1"]
    subprocess.run([sys.executable, str(SCRIPT), *args], check=True, capture_output=True)
    assert sorted(p.name for p in (tmp_path / "demo_shapes").iterdir()) == ["testA", "testB", "trainA", "trainB"]
    assert not (tmp_path / "demo_facades").exists()
