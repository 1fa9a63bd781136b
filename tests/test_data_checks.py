"""Data checked against the options before training: channel counts from the first batch, every image with
--check_data; and a command that fails before training leaves no run folder behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TINY_RUNS, assert_user_error, run_main, write_aligned_images

ARGS = [*TINY_RUNS["pix2pix"], "--n_epochs", "1", "--n_epochs_decay", "0", "--print_freq", "1000",
        "--display_freq", "1000", "--no_html"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_aligned_images(tmp_path / "data" / "train", 4, size=40, seed=1)
    return tmp_path / "data"


def train(root: Path, tmp_path: Path, *args: str):
    return run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(tmp_path / "ck"), "--name", "run",
                    *ARGS, *args)


@pytest.mark.parametrize("args, fragments", [
    (["--input_nc", "4"], ["--input_nc 4 does not match the images", "side A", "3 channel(s)", "set --input_nc 3"]),
    (["--output_nc", "2"], ["--output_nc 2 does not match the images", "side B", "set --output_nc 3"]),
    (["--input_nc", "2", "--direction", "BtoA"], ["--input_nc 2", "side B"]),
])
def test_channel_counts_that_do_not_match_the_images(root, tmp_path, args, fragments):
    result = train(root, tmp_path, *args)
    assert_user_error(result, *fragments)
    assert "epoch 1" not in result.stderr  # before the first step
    assert not (tmp_path / "ck").exists()  # and no run folder left behind


def test_grayscale_channels_match(root, tmp_path):
    result = train(root, tmp_path, "--input_nc", "1", "--output_nc", "1")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_failed_command_leaves_no_run_folder(tmp_path):
    result = train(tmp_path / "missing", tmp_path)
    assert_user_error(result, "missing")
    assert not (tmp_path / "ck").exists()


def test_a_resume_that_fails_leaves_the_run_folder_as_it_was(root, tmp_path):
    result = train(root, tmp_path, "--continue_train")
    assert_user_error(result, "no saved net_G")
    assert not (tmp_path / "ck" / "run").exists()


def test_check_data_lists_every_unusable_image_at_once(root, tmp_path):
    train_dir = root / "train"
    truncated = train_dir / "001.png"
    truncated.write_bytes(truncated.read_bytes()[:60])
    odd = train_dir / "002.png"
    Image.fromarray(np.zeros((40, 81, 3), np.uint8)).save(odd)
    result = train(root, tmp_path, "--check_data", "--num_threads", "2")
    assert_user_error(result, "--check_data: 2 image file(s) of 4 samples cannot be used (listed above)",
                      "--skip_bad_images")
    listed = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(listed) == 2
    assert listed[0].startswith(f"  {truncated}: ") and listed[1].startswith(f"  {odd}: ")
    assert "odd width 81" in listed[1]
    assert not (tmp_path / "ck").exists()
    # with --skip_bad_images they are listed once as a warning and training goes on without them
    result = train(root, tmp_path, "--check_data", "--skip_bad_images")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "warning: 2 image file(s) of 4 samples cannot be read and will be skipped" in result.stderr
    assert (tmp_path / "ck" / "run" / "latest_net_G.pth").is_file()


def test_check_data_finds_sizes_that_break_a_batch_or_the_generator(tmp_path):
    root = tmp_path / "data"
    write_aligned_images(root / "train", 3, size=32, seed=1)
    Image.fromarray(np.zeros((36, 72, 3), np.uint8)).save(root / "train" / "wide.png")
    result = train(root, tmp_path, "--check_data", "--preprocess", "none", "--batch_size", "2", "--skip_bad_images")
    assert_user_error(result, "1 image file(s) of 4 samples cannot be used")
    assert (f"  {root / 'train' / 'wide.png'}: A is 36x36 after preprocessing, most images are 32x32; a batch needs "
            "images of one size; B is 36x36") in result.stderr
    result = train(root, tmp_path, "--check_data", "--preprocess", "none", "--netG", "unet_128")
    assert_user_error(result, "4 image file(s) of 4 samples cannot be used")
    assert "wide.png: A is 36x36 after preprocessing; the generator needs sides that are multiples of 128" \
        in result.stderr


def test_check_data_reports_a_clean_dataset(root, tmp_path):
    result = train(root, tmp_path, "--check_data")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "checked 4 samples: every image can be used" in result.stdout
