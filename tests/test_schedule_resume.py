"""Resuming with other schedule options: a finished run extended with more epochs trains at the new schedule's
learning rate, not at the 0 its old schedule ended on. (Resuming with the same options stays exact:
tests/test_resume.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_RUNS, run_main, write_aligned_images
from util.checkpoint import atomic_save, safe_load

# 4 images x 2 epochs of a tiny pix2pix (n_epochs 1, n_epochs_decay 1): the linear schedule ends at rate 0.
ARGS = [*TINY_RUNS["pix2pix"], "--print_freq", "1000", "--display_freq", "1000", "--no_html", "--seed", "5",
        "--save_epoch_freq", "1"]


@pytest.fixture
def finished(tmp_path: Path) -> tuple[list[str], Path]:
    """A finished two-epoch run: the command-line start and its run folder."""
    write_aligned_images(tmp_path / "data" / "train", 4, size=40, seed=1)
    start = ["--dataroot", str(tmp_path / "data"), "--checkpoints_dir", str(tmp_path / "ck"), "--name", "run", *ARGS]
    result = run_main("train.py", *start, "--n_epochs", "1", "--n_epochs_decay", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    return start, tmp_path / "ck" / "run"


def generator(run: Path, suffix: str = "latest") -> dict[str, torch.Tensor]:
    return safe_load(str(run / f"{suffix}_net_G.pth"))


def changed(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[key], b[key]) for key in a if a[key].is_floating_point())


def test_extending_a_finished_run_trains_at_the_new_schedules_rate(finished):
    start, run = finished
    assert safe_load(str(run / "latest_train_state.pth"))["model"]["schedulers"][0]["_last_lr"] == [0.0]
    before = generator(run)
    result = run_main("train.py", *start, "--n_epochs", "1", "--n_epochs_decay", "2", "--continue_train")
    assert result.returncode == 0, result.stderr[-2000:]
    # epoch 3 of a schedule that holds 1 epoch, then decays over 2: 0.0002 * (1 - 2/3)
    assert ("the learning-rate schedule options differ from the saved run's (n_epochs_decay 1 -> 2): schedule "
            "rebuilt for them at epoch 3, learning rate 0.0000667") in result.stdout
    assert "end of epoch 3 / 3" in result.stdout
    assert changed(before, generator(run))  # at rate 0 no weight would move
    state = safe_load(str(run / "latest_train_state.pth"))
    assert state["schedule"] == {"lr_policy": "linear", "lr": 0.0002, "n_epochs": 1, "n_epochs_decay": 2}


def test_a_changed_policy_is_replayed_to_the_resumed_epoch(finished):
    start, run = finished
    result = run_main("train.py", *start, "--n_epochs", "1", "--n_epochs_decay", "2", "--continue_train",
                      "--lr_policy", "step", "--lr_decay_iters", "1", "--lr", "0.001")
    assert result.returncode == 0, result.stderr[-2000:]
    # the step schedule after epochs 1 and 2: 0.001 * 0.1 * 0.1
    assert "(lr_policy linear -> step, lr 0.0002 -> 0.001, n_epochs 1 -> -, n_epochs_decay 1 -> -, " \
           "lr_decay_iters - -> 1): schedule rebuilt for them at epoch 3, learning rate 0.0000100" in result.stdout


def test_state_files_without_the_schedule_options_are_extended_too(finished):
    start, run = finished
    path = run / "latest_train_state.pth"
    state = safe_load(str(path))
    del state["schedule"]  # as written before the options were recorded
    atomic_save(state, str(path))
    result = run_main("train.py", *start, "--n_epochs", "2", "--n_epochs_decay", "1", "--continue_train")
    assert result.returncode == 0, result.stderr[-2000:]
    # epoch 3 of n_epochs 2, n_epochs_decay 1: 0.0002 * (1 - 1/2)
    assert ("(the saved schedule ended at learning rate 0): schedule rebuilt for them at epoch 3, learning rate "
            "0.0001000") in result.stdout


def test_nothing_left_to_train_does_not_claim_training(finished):
    start, run = finished
    result = run_main("train.py", *start, "--n_epochs", "1", "--n_epochs_decay", "1", "--continue_train")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "nothing to train: all 2 epochs are done" in result.stdout
    assert "finished training" not in result.stdout and "schedule rebuilt" not in result.stdout
