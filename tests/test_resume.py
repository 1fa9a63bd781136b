"""Exact resume: a run interrupted and resumed ends with the same weights, bit for bit, as the run left alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_RUNS, run_training, write_aligned_images, write_noise_images, write_unaligned_images
from util.checkpoint import safe_load

# 4 images per epoch, 3 epochs (the learning rate decays in the last two), random crops, flips, dropout (pix2pix)
# and image pools (CycleGAN).
SCHEDULE = ["--n_epochs", "1", "--n_epochs_decay", "2", "--save_epoch_freq", "1", "--save_latest_freq", "3",
            "--print_freq", "1000", "--display_freq", "1000", "--no_html", "--seed", "7"]


@pytest.fixture(scope="module", params=list(TINY_RUNS))
def setup(request, tmp_path_factory):
    """The model's options, a dataroot, and an uninterrupted run of it."""
    tmp = tmp_path_factory.mktemp(request.param)
    root = tmp / "data"
    if request.param == "pix2pix":
        write_aligned_images(root / "train", 4, size=40, seed=1)
        write_aligned_images(root / "test", 2, size=40, seed=2)  # held out, for --eval_freq
    else:
        write_unaligned_images(root, 4)
        write_noise_images(root / "testA", 2, 40, seed=11)
        write_noise_images(root / "testB", 2, 40, seed=12)
    args = [*TINY_RUNS[request.param], *SCHEDULE]
    ck = tmp / "ck"
    run_training(root, ck, "full", args)
    return root, ck, args


def assert_same_run(ck: Path, name: str, model_names_: list[str], suffix: str = "latest") -> None:
    """Weights, optimizer moments and counters of run `name` equal those of the uninterrupted run."""
    for net in model_names_:
        full = safe_load(str(ck / "full" / f"{suffix}_net_{net}.pth"))
        other = safe_load(str(ck / name / f"{suffix}_net_{net}.pth"))
        assert full.keys() == other.keys()
        for key in full:
            assert torch.equal(full[key], other[key]), (net, key)
    full, other = (safe_load(str(ck / run / f"{suffix}_train_state.pth")) for run in ("full", name))
    assert full["progress"] == other["progress"]
    for a, b in zip(full["model"]["optimizers"], other["model"]["optimizers"], strict=True):
        for slot, state in a["state"].items():
            for key, value in state.items():
                assert torch.equal(value, b["state"][slot][key]), (slot, key)


def test_resume_mid_epoch_is_exact(setup):
    root, ck, args = setup
    stopped = run_training(root, ck, "mid", args, stop_after=6)  # stops in epoch 2 after 2 of its 4 images
    state = safe_load(str(ck / "mid" / "latest_train_state.pth"))
    assert (state["progress"]["epoch"], state["progress"]["position"]) == (2, 2)
    assert not (ck / "mid" / "3_net_D.pth").exists() and not (ck / "mid" / "3_net_D_A.pth").exists()
    # the rest of the run loads its data in worker processes: the batches do not depend on --num_threads
    run_training(root, ck, "mid", [*args, "--continue_train", "--num_threads", "2"])
    assert_same_run(ck, "mid", stopped.model_names)


def test_resume_at_epoch_boundary_is_exact(setup):
    root, ck, args = setup
    shutil.copytree(ck / "full", ck / "boundary")
    for path in (ck / "boundary").glob("latest_*"):
        path.unlink()
    # the save point of epoch 1, as if the run had been killed right after it
    model = run_training(root, ck, "boundary", [*args, "--continue_train", "--epoch", "1"])
    assert_same_run(ck, "boundary", model.model_names)
    assert_same_run(ck, "boundary", model.model_names, suffix="3")


def test_stop_after_last_step_of_an_epoch_is_exact(setup):
    root, ck, args = setup
    model = run_training(root, ck, "edge", args, stop_after=4)
    assert safe_load(str(ck / "edge" / "latest_train_state.pth"))["progress"]["position"] == 4
    run_training(root, ck, "edge", [*args, "--continue_train"])
    assert_same_run(ck, "edge", model.model_names)


def test_seed_repeats_a_run_from_scratch(setup):
    root, ck, args = setup
    model = run_training(root, ck, "again", args)
    assert_same_run(ck, "again", model.model_names)
    run_training(root, ck, "other_seed", [*args, "--seed", "8"])
    weights = [safe_load(str(ck / run / f"latest_net_{model.model_names[0]}.pth")) for run in ("full", "other_seed")]
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_resume_without_seed_is_exact(setup):
    """The state file holds the data seed and the generator states, so --seed is not needed to resume exactly."""
    root, ck, args = setup
    seed_at = args.index("--seed")
    unseeded = args[:seed_at] + args[seed_at + 2:]
    run_training(root, ck, "unseeded", unseeded)
    shutil.copytree(ck / "unseeded", ck / "unseeded_resumed")
    for path in (ck / "unseeded_resumed").glob("latest_*"):
        path.unlink()
    model = run_training(root, ck, "unseeded_resumed", [*unseeded, "--continue_train", "--epoch", "2"])
    for net in model.model_names:
        a, b = (safe_load(str(ck / run / f"latest_net_{net}.pth")) for run in ("unseeded", "unseeded_resumed"))
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_evaluation_changes_no_weight_and_resumes_with_its_history(setup, weights_dir):
    """--eval_freq trains bit for bit as the run without it and keeps the best epoch's weights as best_*; a run
    resumed mid-epoch keeps its history. pix2pix: L1 and PSNR every epoch, resumed. CycleGAN: FID (a random-weight
    Inception) after epochs 2 and 3, not resumed (Inception is slow on the CPU; resuming is the same for all models).
    """
    root, ck, args = setup
    pix2pix = "pix2pix" in args
    metric = "psnr" if pix2pix else "fid"
    evaluation = ["--eval_freq", "1" if pix2pix else "2", "--eval_metrics", "l1,psnr" if pix2pix else "fid",
                  "--save_best", metric, "--metrics_weights_dir", str(weights_dir)]
    model = run_training(root, ck, "evaluated", [*args, *evaluation])
    assert_same_run(ck, "evaluated", model.model_names)  # weights, optimizer moments, counters of the plain run

    state = safe_load(str(ck / "evaluated" / "latest_train_state.pth"))
    history = state["evaluations"]
    assert [e["epoch"] for e in history] == ([1, 2, 3] if pix2pix else [2, 3])
    best = (max if pix2pix else min)(history, key=lambda e: e["values"][metric])
    assert state["best"] == {"metric": metric, "value": best["values"][metric], "epoch": best["epoch"]}
    for net in model.model_names:
        best_weights = safe_load(str(ck / "evaluated" / f"best_net_{net}.pth"))
        epoch_weights = safe_load(str(ck / "evaluated" / f"{best['epoch']}_net_{net}.pth"))
        assert all(torch.equal(best_weights[k], epoch_weights[k]) for k in epoch_weights)
    if not pix2pix:
        return

    run_training(root, ck, "evaluated_resumed", [*args, *evaluation], stop_after=6)  # stops in epoch 2
    stopped = safe_load(str(ck / "evaluated_resumed" / "latest_train_state.pth"))
    assert [e["epoch"] for e in stopped["evaluations"]] == [1]
    run_training(root, ck, "evaluated_resumed", [*args, *evaluation, "--continue_train"])
    assert_same_run(ck, "evaluated_resumed", model.model_names)
    resumed = safe_load(str(ck / "evaluated_resumed" / "latest_train_state.pth"))
    assert resumed["evaluations"] == history and resumed["best"] == state["best"]
