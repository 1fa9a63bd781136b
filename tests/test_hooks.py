"""The model lifecycle hooks: a part built from the first batch trains, saves and resumes like any other."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import installed_model, run_training, write_aligned_images
from util.checkpoint import read_state, safe_load

ARGS = ["--model", "hooked", "--ngf", "4", "--load_size", "40", "--crop_size", "32", "--num_threads", "0",
        "--gpu_ids", "-1", "--n_epochs", "1", "--n_epochs_decay", "1", "--save_latest_freq", "3", "--print_freq",
        "1000", "--display_freq", "1000", "--no_html", "--seed", "5", "--amp", "bf16"]


@pytest.fixture(scope="module", autouse=True)
def hooked_model():
    with installed_model("hooked"):
        yield


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """An uninterrupted bf16 run of the hooked model: 2 epochs of 4 images."""
    tmp = tmp_path_factory.mktemp("hooked")
    root = tmp / "pairs"
    write_aligned_images(root / "train", 4, size=40, seed=2)
    return root, tmp / "ck", run_training(root, tmp / "ck", "full", ARGS)


def test_a_network_built_from_the_first_batch_gets_a_schedule_and_a_checkpoint(full_run):
    root, ck, model = full_run
    assert model.model_names == ["G", "P"] and len(model.optimizers) == 2
    assert len(model.schedulers) == 2  # setup() came after data_dependent_initialize()
    assert model.optimizer_P.param_groups[0]["lr"] == 0  # the linear schedule decayed P's rate too
    assert model.fake_B.dtype == torch.bfloat16
    weights = safe_load(str(ck / "full" / "latest_net_P.pth"))
    assert weights["weight"].shape == (3, 3, 3, 3)  # as wide as the batch's B images
    state = read_state(str(ck / "full"), "latest", ["G", "P"])
    assert len(state["model"]["optimizers"]) == 2 and state["model"]["optimizers"][1]["state"]


def test_it_resumes_bit_exactly(full_run):
    root, ck, _ = full_run
    run_training(root, ck, "resumed", ARGS, stop_after=6)  # in epoch 2, after 2 of its 4 images
    assert safe_load(str(ck / "resumed" / "latest_train_state.pth"))["progress"]["position"] == 2
    run_training(root, ck, "resumed", [*ARGS, "--continue_train"])
    for net in ("G", "P"):
        full, resumed = (safe_load(str(ck / run / f"latest_net_{net}.pth")) for run in ("full", "resumed"))
        assert all(torch.equal(full[k], resumed[k]) for k in full), net
    full, resumed = (safe_load(str(ck / run / "latest_train_state.pth")) for run in ("full", "resumed"))
    for a, b in zip(full["model"]["optimizers"], resumed["model"]["optimizers"], strict=True):
        assert all(torch.equal(a["state"][i]["exp_avg"], b["state"][i]["exp_avg"]) for i in a["state"])
