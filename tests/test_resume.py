"""Exact resume: a run interrupted and resumed ends with the same weights, bit for bit, as the run left alone."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data import create_dataset
from models import create_model, model_names
from models.base_model import BaseModel
from options.train_options import TrainOptions
from tests.conftest import write_aligned_images
from util.checkpoint import safe_load
from util.reproducibility import seed_everything
from util.training import train
from util.visualizer import Visualizer

# 4 images per epoch, 3 epochs (the learning rate decays in the last two), random crops, flips, dropout (pix2pix)
# and image pools (CycleGAN).
SCHEDULE = ["--n_epochs", "1", "--n_epochs_decay", "2", "--save_epoch_freq", "1", "--save_latest_freq", "3",
            "--print_freq", "1000", "--display_freq", "1000", "--no_html", "--seed", "7"]
MODELS = {
    "pix2pix": ["--model", "pix2pix", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "40",
                "--crop_size", "32", "--num_threads", "0", "--gpu_ids", "-1"],
    "cycle_gan": ["--model", "cycle_gan", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size",
                  "40", "--crop_size", "32", "--pool_size", "3", "--num_threads", "0", "--gpu_ids", "-1"],
}


def write_unaligned_images(root: Path, count: int) -> None:
    rng = np.random.default_rng(3)
    for side in ("trainA", "trainB"):
        (root / side).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / side / f"{i}.png")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks run far faster on one thread, above all on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=list(MODELS))
def setup(request, tmp_path_factory):
    """The model's options, a dataroot, and an uninterrupted run of it."""
    if request.param not in model_names():
        pytest.skip(f"--model {request.param} is not available on this branch")
    tmp = tmp_path_factory.mktemp(request.param)
    root = tmp / "data"
    if request.param == "pix2pix":
        write_aligned_images(root / "train", 4, size=40, seed=1)
    else:
        write_unaligned_images(root, 4)
    args = [*MODELS[request.param], *SCHEDULE]
    ck = tmp / "ck"
    run_training(root, ck, "full", args)
    return root, ck, args


def run_training(root: Path, ck: Path, name: str, args: list[str], stop_after: int = 0,
                 prepare: Callable[[BaseModel], None] | None = None) -> BaseModel:
    """Train in this process like train.py does; with `stop_after`, send SIGTERM to ourselves after that step;
    `prepare` may alter the model before training.
    """
    opt = TrainOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(ck), "--name", name, *args])
    seed_everything(opt.seed)
    dataset = create_dataset(opt)
    model = create_model(opt)
    model.setup(opt)
    if prepare:
        prepare(model)
    if stop_after:
        step, steps = model.optimize_parameters, []

        def step_then_signal() -> None:
            step()
            steps.append(1)
            if len(steps) == stop_after:
                signal.raise_signal(signal.SIGTERM)

        model.optimize_parameters = step_then_signal
    train(opt, dataset, model, Visualizer(opt))
    return model


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
