"""train.py and test.py end to end, and the one-line errors they give for bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.conftest import TINY_PIX2PIX, assert_user_error, run_main, write_aligned_images


def train_args(root: Path, ck: Path, *extra: str) -> list[str]:
    return ["--dataroot", str(root), "--name", "run", "--checkpoints_dir", str(ck), *TINY_PIX2PIX, *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 3-epoch pix2pix run (default --save_epoch_freq 5) and a test run on it."""
    tmp = tmp_path_factory.mktemp("e2e")
    root = tmp / "pairs"
    write_aligned_images(root / "train", 4, seed=1)
    write_aligned_images(root / "test", 3, seed=2)
    ck, results = tmp / "ck", tmp / "results"
    train = run_main("train.py", *train_args(root, ck, "--n_epochs", "2", "--n_epochs_decay", "1",
                                             "--print_freq", "2", "--display_freq", "2", "--update_html_freq", "2"))
    assert train.returncode == 0, train.stderr[-3000:]
    test = run_main("test.py", *train_args(root, ck, "--results_dir", str(results)))
    assert test.returncode == 0, test.stderr[-3000:]
    return root, ck, results, train, test


def test_training_writes_checkpoints_logs_and_page(trained):
    _, ck, _, train, _ = trained
    run = ck / "run"
    # the end of training saves latest and the last epoch even though 3 % save_epoch_freq != 0
    for name in ("latest_net_G.pth", "latest_net_D.pth", "3_net_G.pth", "3_net_D.pth", "train_opt.txt"):
        assert (run / name).is_file(), name
    state = torch.load(run / "latest_net_G.pth", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert not any(k.startswith(("module.", "_orig_mod.")) for k in state)
    log_lines = (run / "loss_log.txt").read_text().splitlines()
    entries = [line for line in log_lines if line.startswith("(epoch:")]
    assert len(entries) == 6  # 4 images per epoch, printed every 2, 3 epochs
    assert re.match(r"\(epoch: 1, iters: 2, time: [\d.]+, data: [\d.]+\) G_GAN: [\d.]+ G_L1: [\d.]+ D_real: "
                    r"[\d.]+ D_fake: [\d.]+", entries[0])
    page = (run / "web" / "index.html").read_text()
    assert "epoch [3]" in page and "epoch003_fake_B.png" in page
    assert (run / "web" / "images" / "epoch003_fake_B.png").is_file()


def test_test_page_has_a_row_per_image(trained):
    root, _, results, _, test = trained
    web = results / "run" / "test_latest"
    page = (web / "index.html").read_text()
    for stem in ("000", "001", "002"):
        assert f"<h3>{stem}</h3>" in page
        for visual in ("real_A", "fake_B", "real_B"):
            image = web / "images" / f"{stem}_{visual}.png"
            assert image.is_file() and f"images/{stem}_{visual}.png" in page
            assert Image.open(image).size == (128, 128)
    assert "wrote 3 results" in test.stdout


def test_test_options_go_next_to_the_results(trained, tmp_path):
    """Published weights often sit on read-only storage: test.py writes nothing into the checkpoint folder."""
    root, ck, _, _, _ = trained
    run = ck / "run"
    before = sorted(p.name for p in run.iterdir())
    run.chmod(0o555)  # read-only (root writes through it anyway: the listing below is what proves it)
    try:
        result = run_main("test.py", *train_args(root, ck, "--results_dir", str(tmp_path), "--num_test", "1"))
    finally:
        run.chmod(0o755)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in run.iterdir()) == before and "test_opt.txt" not in before
    saved = (tmp_path / "run" / "test_latest" / "test_opt.txt").read_text()
    assert "num_test: 1" in " ".join(saved.split())
    assert (tmp_path / "run" / "test_latest" / "test_opt.json").is_file()


def test_continue_train_and_load_iter(trained, tmp_path):
    root, ck, results, _, _ = trained
    more = run_main("train.py", *train_args(root, ck, "--continue_train", "--epoch", "3", "--epoch_count", "4",
                                            "--n_epochs", "2", "--n_epochs_decay", "2", "--save_latest_freq", "4",
                                            "--save_by_iter"))
    assert more.returncode == 0, more.stderr[-3000:]
    # the image counter carries on from the saved training state: 3 epochs of 4 images, then 4 more
    assert (ck / "run" / "4_net_G.pth").is_file() and (ck / "run" / "iter_16_net_G.pth").is_file()
    by_iter = run_main("test.py", *train_args(root, ck, "--results_dir", str(tmp_path), "--load_iter", "16",
                                              "--num_test", "1", "--eval"))
    assert by_iter.returncode == 0, by_iter.stderr[-3000:]
    page = tmp_path / "run" / "test_latest_iter16" / "index.html"
    assert page.read_text().count("<h3>") == 1


def test_missing_checkpoint_lists_the_existing_ones(trained, tmp_path):
    root, ck, _, _, _ = trained
    result = run_main("test.py", *train_args(root, ck, "--results_dir", str(tmp_path), "--epoch", "7"))
    assert_user_error(result, "7_net_G.pth", "--epoch 3", "--epoch latest")
    assert not (tmp_path / "run").exists()  # a failed test.py leaves no results folder (not even its options)


def test_checkpoint_of_another_architecture(trained, tmp_path):
    root, ck, _, _, _ = trained
    result = run_main("test.py", *train_args(root, ck, "--results_dir", str(tmp_path), "--ngf", "16"))
    assert_user_error(result, "--ngf 16", "does not fit")


def test_bad_dataroot(tmp_path):
    result = run_main("train.py", *train_args(tmp_path / "nowhere", tmp_path / "ck"))
    assert_user_error(result, "nowhere")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    result = run_main("train.py", *train_args(tmp_path / "empty", tmp_path / "ck"))
    assert_user_error(result, "train")


def test_unknown_names_list_the_valid_ones(tmp_path):
    result = run_main("train.py", *train_args(tmp_path, tmp_path / "ck", "--netG", "unet_64"))
    assert_user_error(result, "unet_64", "unet_128", "resnet_9blocks")


def test_corrupt_and_odd_width_images_are_named(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 2)
    (root / "train" / "000.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    result = run_main("train.py", *train_args(root, tmp_path / "ck", "--serial_batches"))
    assert_user_error(result, "000.png")
    (root / "train" / "000.png").unlink()
    Image.new("RGB", (255, 128)).save(root / "train" / "odd.png")
    result = run_main("train.py", *train_args(root, tmp_path / "ck", "--preprocess", "none"))
    assert_user_error(result, "odd.png", "255")


def test_image_size_unet_cannot_take(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 1, size=96)
    result = run_main("train.py", *train_args(root, tmp_path / "ck", "--preprocess", "none"))
    assert_user_error(result, "unet_128", "multiples of 128", "96x96")
