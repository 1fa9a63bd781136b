"""The example scripts run as written (plus options that make them tiny), from a folder with ./datasets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_aligned_images, write_noise_images

TINY = ["--netG", "unet_128", "--ngf", "8", "--ndf", "8", "--load_size", "128", "--crop_size", "128",
        "--num_threads", "0", "--gpu_ids", "-1"]
TRAIN = [*TINY, "--n_epochs", "1", "--n_epochs_decay", "0"]
TEST = [*TINY, "--num_test", "2"]


def run_script(name: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, PYTHONWARNINGS="ignore")
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, (name, result.stderr[-3000:])
    return result


def needs_model(name: str) -> None:
    if not (ROOT / "models" / f"{name}_model.py").is_file():
        pytest.skip(f"--model {name} is not in this tree yet")


def test_pix2pix_scripts(tmp_path):
    write_aligned_images(tmp_path / "datasets" / "facades" / "train", 2, seed=1)
    write_aligned_images(tmp_path / "datasets" / "facades" / "test", 2, seed=2)
    run_script("train_pix2pix.sh", tmp_path, *TRAIN)
    assert (tmp_path / "checkpoints" / "facades_pix2pix" / "latest_net_G.pth").is_file()
    run_script("test_pix2pix.sh", tmp_path, *TEST)
    assert (tmp_path / "results" / "facades_pix2pix" / "test_latest" / "images" / "000_fake_B.png").is_file()
    needs_model("test")
    write_noise_images(tmp_path / "datasets" / "facades" / "testB", 2, size=128, seed=3)
    run_script("test_single.sh", tmp_path, *TEST)
    assert (tmp_path / "results" / "facades_pix2pix" / "test_latest" / "images" / "1_fake.png").is_file()


def test_cyclegan_scripts(tmp_path):
    needs_model("cycle_gan")
    for split, seed in (("trainA", 1), ("trainB", 2), ("testA", 3), ("testB", 4)):
        write_noise_images(tmp_path / "datasets" / "maps" / split, 2, size=128, seed=seed)
    run_script("train_cyclegan.sh", tmp_path, *TRAIN)
    run_script("test_cyclegan.sh", tmp_path, *TEST)
    images = tmp_path / "results" / "maps_cyclegan" / "test_latest" / "images"
    assert (images / "0_fake_B.png").is_file() and (images / "0_fake_A.png").is_file()


def test_colorization_scripts(tmp_path):
    needs_model("colorization")
    write_noise_images(tmp_path / "datasets" / "colorization" / "train", 2, size=128, seed=1)
    write_noise_images(tmp_path / "datasets" / "colorization" / "test", 2, size=128, seed=2)
    run_script("train_colorization.sh", tmp_path, *TRAIN)
    run_script("test_colorization.sh", tmp_path, *TEST)
    images = tmp_path / "results" / "color_pix2pix" / "test_latest" / "images"
    assert any(images.glob("*_fake_B_rgb.png")), sorted(p.name for p in images.iterdir())
