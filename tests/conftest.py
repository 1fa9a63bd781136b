"""Shared test helpers: tiny datasets on disk and running the command-line tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"

# A tiny pix2pix that trains in seconds on the CPU (unet_128 needs 128-pixel sides).
TINY_PIX2PIX = ["--model", "pix2pix", "--netG", "unet_128", "--ngf", "8", "--ndf", "8", "--load_size", "128",
                "--crop_size", "128", "--num_threads", "0", "--gpu_ids", "-1"]


def write_aligned_images(folder: Path, count: int, size: int = 128, seed: int = 0) -> list[Path]:
    """Write `count` A|B images (2*size x size) where B is a fixed function of A (colours inverted)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        a = np.zeros((size, size, 3), np.uint8)
        a[:] = rng.integers(0, 80, 3)
        for _ in range(3):
            x, y = rng.integers(0, size - size // 4, 2)
            a[y:y + size // 4, x:x + size // 4] = rng.integers(80, 256, 3)
        pair = np.concatenate([a, 255 - a], axis=1)
        path = folder / f"{i:03d}.png"
        Image.fromarray(pair).save(path)
        paths.append(path)
    return paths


def write_noise_images(folder: Path, count: int, size: int = 32, seed: int = 0, name: str = "{i}.png") -> list[Path]:
    """Write `count` RGB noise images of size x size, named by formatting `name` with their index i."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / name.format(i=i)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def aligned_root(tmp_path: Path) -> Path:
    """A dataroot with train/ (6 pairs) and test/ (3 pairs) of 128x128 aligned images."""
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 6, seed=1)
    write_aligned_images(root / "test", 3, seed=2)
    return root


def run_tool(script: str, *args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run train.py / test.py (or another script of the repo) in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, one `error:` line on stderr mentioning every fragment, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def single_thread():
    """Run torch on one thread for the test: tiny networks are faster so, and two threads spin on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
