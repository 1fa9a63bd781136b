"""--model test, colorization and template models, and the bad inputs of CycleGAN and its relatives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data import create_dataset
from datasets.make_demo_dataset import make_unpaired
from tests.conftest import (
    TINY_CYCLE_GAN,
    assert_user_error,
    build_model,
    images_as_tensor,
    run_main,
    save_weights,
    write_noise_images,
)
from util import util
from util.errors import UserError

TINY = ["--netG", "resnet_6blocks", "--ngf", "8", "--ndf", "8", "--load_size", "32", "--crop_size", "32",
        "--num_threads", "0", "--gpu_ids", "-1"]


def build(root, tmp_path, *args: str):
    return build_model(root, tmp_path / "ck", *args)


def read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(int)


def test_model_test_reproduces_g_a_of_a_cycle_gan_run(tmp_path):
    root = make_unpaired(tmp_path, size=32, n_train=4, n_test=2)
    opt, model = build(root, tmp_path, *TINY_CYCLE_GAN, "--name", "run", "--serial_batches")
    for batch in create_dataset(opt):
        model.set_input(batch)
        model.optimize_parameters()
    save_weights(model, tmp_path / "ck" / "run")
    test_paths = sorted((root / "testA").glob("*.png"))
    with torch.no_grad():
        expected = model.netG_A(images_as_tensor(test_paths))

    common = ["--name", "run", "--checkpoints_dir", str(tmp_path / "ck"), "--results_dir", str(tmp_path / "res"), *TINY]
    result = run_main("test.py", "--dataroot", str(root / "testA"), "--model", "test", "--model_suffix", "_A",
                      "--no_dropout", *common)
    assert result.returncode == 0, result.stderr[-2000:]
    images = tmp_path / "res" / "run" / "test_latest" / "images"
    for path, fake in zip(test_paths, expected, strict=True):
        assert np.abs(read_png(images / f"{path.stem}_fake.png") - util.tensor2im(fake).astype(int)).max() <= 1
        assert np.array_equal(read_png(images / f"{path.stem}_real.png"), read_png(path))

    result = run_main("test.py", "--dataroot", str(root), "--model", "cycle_gan", *common)
    assert result.returncode == 0, result.stderr[-2000:]
    for path in test_paths:
        fake_B, fake = read_png(images / f"{path.stem}_fake_B.png"), read_png(images / f"{path.stem}_fake.png")
        assert np.abs(fake_B - fake).max() <= 1
        assert (images / f"{path.stem}_rec_A.png").is_file() and (images / f"{path.stem}_rec_B.png").is_file()

    result = run_main("test.py", "--dataroot", str(root / "testA"), "--model", "test", "--no_dropout", *common)
    assert_user_error(result, "latest_net_G_A.pth", "latest_net_G_B.pth", "--model_suffix _A")


def test_colorization_model_shows_rgb_visuals(tmp_path):
    (path,) = write_noise_images(tmp_path / "photos" / "train", 1)
    opt, model = build(tmp_path / "photos", tmp_path, "--model", "colorization", *TINY, "--preprocess", "none",
                       "--no_flip")
    assert (opt.input_nc, opt.output_nc, opt.dataset_mode, opt.netG) == (1, 2, "colorization", "resnet_6blocks")
    batch = next(iter(create_dataset(opt)))
    model.set_input(batch)
    model.optimize_parameters()
    model.compute_visuals()
    visuals = model.get_current_visuals()
    assert list(visuals) == ["real_A", "real_B_rgb", "fake_B_rgb"]
    assert [v.shape[1] for v in visuals.values()] == [1, 3, 3]
    assert all(v.min() >= -1 and v.max() <= 1 for v in visuals.values())
    assert np.abs(util.tensor2im(visuals["real_B_rgb"]).astype(int) - read_png(path)).max() <= 1
    assert set(model.get_current_losses()) == {"G_GAN", "G_L1", "D_real", "D_fake"}


def test_colorization_model_needs_one_to_two_channels(tmp_path):
    write_noise_images(tmp_path / "train", 1)
    with pytest.raises(UserError, match="--input_nc 1 --output_nc 2"):
        build(tmp_path, tmp_path, "--model", "colorization", "--dataset_mode", "aligned", "--output_nc", "3", *TINY)


def test_template_model_trains(aligned_root, tmp_path):
    torch.manual_seed(0)
    opt, model = build(aligned_root, tmp_path, "--model", "template", *TINY, "--batch_size", "3", "--lr", "0.002",
                       "--serial_batches", "--no_flip")
    assert opt.dataset_mode == "aligned" and opt.lambda_regression == 1.0
    dataset = create_dataset(opt)
    losses = []
    for _ in range(10):
        for batch in dataset:
            model.set_input(batch)
            model.optimize_parameters()
            losses.append(model.get_current_losses()["G"])
    assert np.mean(losses[-2:]) < 0.6 * np.mean(losses[:2]), losses
    assert list(model.get_current_visuals()) == ["data_A", "data_B", "output"]


# ------------------------------------------------------------------------------------------------ bad input


@pytest.fixture
def unpaired_root(tmp_path: Path) -> Path:
    write_noise_images(tmp_path / "data" / "trainA", 2)
    write_noise_images(tmp_path / "data" / "trainB", 2)
    return tmp_path / "data"


def train(root: Path, tmp_path: Path, *args: str):
    return run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(tmp_path / "ck"), *TINY,
                    "--n_epochs", "1", "--n_epochs_decay", "0", *args)


def test_missing_or_empty_domain_folder(unpaired_root, tmp_path):
    for path in (unpaired_root / "trainB").iterdir():
        path.unlink()
    assert_user_error(train(unpaired_root, tmp_path), "trainB", "holds no images", "trainA")
    (unpaired_root / "trainB").rmdir()
    assert_user_error(train(unpaired_root, tmp_path), "trainB", "does not exist")


def test_identity_loss_needs_equal_channels(unpaired_root, tmp_path):
    assert_user_error(train(unpaired_root, tmp_path, "--input_nc", "1"), "--input_nc", "--lambda_identity 0")


def test_model_test_cannot_train(unpaired_root, tmp_path):
    assert_user_error(train(unpaired_root, tmp_path, "--model", "test"), "--model test", "test.py")


def test_colorization_bad_channels_and_grayscale_images(tmp_path):
    write_noise_images(tmp_path / "photos" / "train", 1)
    result = train(tmp_path / "photos", tmp_path, "--model", "colorization", "--input_nc", "3")
    assert_user_error(result, "--input_nc 1 --output_nc 2")
    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(tmp_path / "photos" / "train" / "gray.png")
    assert_user_error(train(tmp_path / "photos", tmp_path, "--model", "colorization", "--serial_batches"),
                      "gray.png", "grayscale")
