"""Crash safety of train.py in real processes: SIGKILL at random moments, SIGTERM and SIGINT."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import ROOT, write_aligned_images
from util.checkpoint import read_state, recover, safe_load

# 6 images x 4 epochs of a tiny pix2pix, saving after every image so that kills often land inside a save.
ARGS = ["--model", "pix2pix", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "40",
        "--crop_size", "32", "--num_threads", "0", "--gpu_ids", "-1", "--seed", "11", "--n_epochs", "2",
        "--n_epochs_decay", "2", "--save_latest_freq", "1", "--save_epoch_freq", "1", "--print_freq", "1000",
        "--display_freq", "1000", "--no_html"]


def start(root: Path, ck: Path, *extra: str) -> subprocess.Popen:
    """train.py in its own process group (like a command started from a terminal)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(ROOT / "train.py"), "--dataroot", str(root), "--checkpoints_dir",
                             str(ck), "--name", "run", *ARGS, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def final_weights(run: Path) -> dict[str, torch.Tensor]:
    return {f"{net}.{k}": v for net in ("G", "D") for k, v in safe_load(str(run / f"latest_net_{net}.pth")).items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "pairs"
    write_aligned_images(root / "train", 6, size=40, seed=4)
    return root


def test_sigkill_at_random_moments_always_resumes(data, tmp_path):
    reference = start(data, tmp_path / "reference")
    out, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-3000:]

    ck, moments = tmp_path / "killed", random.Random(5)
    process = start(data, ck)
    wait_for(ck / "run" / "latest_train_state.pth", process)
    for attempt in range(3):
        time.sleep(moments.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        # whatever the moment, the last complete save point loads as one consistent set (loading first finishes or
        # drops an interrupted save, as train.py and test.py do)
        recover(str(ck / "run"))
        assert read_state(str(ck / "run"), "latest", ["G", "D"]) is not None
        process = start(data, ck, "--continue_train")
        if attempt < 2:
            time.sleep(2.0)  # let it get past start-up, so that some kills land while it trains and saves
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    assert "resuming from" in out and "error" not in err
    assert not [f for f in os.listdir(ck / "run") if f.endswith(".pending") or f.startswith(".tmp_")]
    expected, actual = final_weights(tmp_path / "reference" / "run"), final_weights(ck / "run")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[k], actual[k]) for k in expected)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_saves_and_exits_cleanly(data, tmp_path, stop_signal):
    # with data-loading workers; Ctrl-C in a terminal reaches the whole process group, workers included
    process = start(data, tmp_path, "--n_epochs", "100", "--save_latest_freq", "1000", "--num_threads", "2")
    # epoch saves come after every epoch: wait for the first, then stop the run in the middle of another one
    wait_for(tmp_path / "run" / "1_train_state.pth", process)
    if stop_signal == signal.SIGINT:
        os.killpg(process.pid, stop_signal)
    else:
        process.send_signal(stop_signal)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    assert f"stopped by {stop_signal.name}" in out and "--continue_train" in out
    command = out.split("resume with: ")[1].split()
    assert os.path.samefile(ROOT / command[0], sys.executable)  # the interpreter that ran it, e.g. .venv/bin/python
    assert err.count("finishing the current step") == 1  # the workers leave the signal to the main process
    state = read_state(str(tmp_path / "run"), "latest", ["G", "D"])
    assert state["progress"]["epoch"] >= 2 and state["progress"]["total_iters"] >= 6
