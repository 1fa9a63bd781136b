"""The example scripts build the commands they promise, and those commands run (from a folder with ./datasets).

Each script is run by bash with a stand-in interpreter that records the command line; the recorded command then
runs in this process, with the options that make it tiny appended as a user would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_main, write_aligned_images, write_noise_images

TINY = ["--netG", "unet_128", "--ngf", "8", "--ndf", "8", "--load_size", "128", "--crop_size", "128",
        "--num_threads", "0", "--gpu_ids", "-1"]
TRAIN = [*TINY, "--n_epochs", "1", "--n_epochs_decay", "0"]
TEST = [*TINY, "--num_test", "2"]
RECORDER = '#!/usr/bin/env bash\nprintf "%s\\0" "$@" > "$RECORDED"\n'


@pytest.fixture
def in_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, as when a user runs the scripts from their project."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_script(name: str, cwd: Path, *args: str) -> None:
    """Run scripts/<name> with bash; run the train.py / test.py command it builds in this process."""
    recorder, recorded = cwd / "python", cwd / "command"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    env = dict(os.environ, PYTHON=str(recorder), RECORDED=str(recorded))
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, (name, result.stderr[-3000:])
    script, *command = recorded.read_text().split("\0")[:-1]
    assert Path(script).parent == ROOT and Path(script).name in ("train.py", "test.py")
    outcome = run_main(Path(script).name, *command)
    assert outcome.returncode == 0, (name, command, outcome.stderr[-3000:])


def test_pix2pix_scripts(in_project_folder):
    tmp_path = in_project_folder
    write_aligned_images(tmp_path / "datasets" / "facades" / "train", 2, seed=1)
    write_aligned_images(tmp_path / "datasets" / "facades" / "test", 2, seed=2)
    run_script("train_pix2pix.sh", tmp_path, *TRAIN)
    assert (tmp_path / "checkpoints" / "facades_pix2pix" / "latest_net_G.pth").is_file()
    run_script("test_pix2pix.sh", tmp_path, *TEST)
    assert (tmp_path / "results" / "facades_pix2pix" / "test_latest" / "images" / "000_fake_B.png").is_file()
    write_noise_images(tmp_path / "datasets" / "facades" / "testB", 2, size=128, seed=3)
    run_script("test_single.sh", tmp_path, *TEST)
    assert (tmp_path / "results" / "facades_pix2pix" / "test_latest" / "images" / "1_fake.png").is_file()


def test_cyclegan_scripts(in_project_folder):
    tmp_path = in_project_folder
    for split, seed in (("trainA", 1), ("trainB", 2), ("testA", 3), ("testB", 4)):
        write_noise_images(tmp_path / "datasets" / "maps" / split, 2, size=128, seed=seed)
    run_script("train_cyclegan.sh", tmp_path, *TRAIN)
    run_script("test_cyclegan.sh", tmp_path, *TEST)
    images = tmp_path / "results" / "maps_cyclegan" / "test_latest" / "images"
    assert (images / "0_fake_B.png").is_file() and (images / "0_fake_A.png").is_file()


def test_colorization_scripts(in_project_folder):
    tmp_path = in_project_folder
    write_noise_images(tmp_path / "datasets" / "colorization" / "train", 2, size=128, seed=1)
    write_noise_images(tmp_path / "datasets" / "colorization" / "test", 2, size=128, seed=2)
    run_script("train_colorization.sh", tmp_path, *TRAIN)
    run_script("test_colorization.sh", tmp_path, *TEST)
    images = tmp_path / "results" / "color_pix2pix" / "test_latest" / "images"
    assert any(images.glob("*_fake_B_rgb.png")), sorted(p.name for p in images.iterdir())
