"""Shared test helpers: tiny datasets on disk, tiny models, training in-process, and running the commands.

Commands run in-process (`run_main`) unless a test needs a real process (signals, torchrun, the shell scripts);
`run_tool` starts a fresh interpreter for those.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from PIL import Image

from data import create_dataset
from datasets.make_demo_dataset import true_a_to_b
from models import create_model, prepare_to_run
from models.base_model import BaseModel
from options.test_options import TestOptions
from options.train_options import TrainOptions
from util import checkpoint
from util.reproducibility import seed_everything
from util.visualizer import Visualizer

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"

# Tiny networks run far faster on one thread, above all on a busy machine.
torch.set_num_threads(1)

# `make test` runs the suite in two processes (pytest-xdist, --dist loadfile): each test module stays in one of them,
# so module-scoped fixtures (a trained run shared by a module's tests) run once. Files that tests install into models/
# and data/ (`installed`) are guarded by a lock that both processes share.
USER_FILES_LOCK = ROOT / "tests" / ".user_files.lock"
_user_files_depth = 0  # how many `installed` blocks of this process are open (the lock is held while any is)

# A tiny pix2pix that trains in seconds on the CPU (unet_128 needs 128-pixel sides).
TINY_PIX2PIX = ["--model", "pix2pix", "--netG", "unet_128", "--ngf", "8", "--ndf", "8", "--load_size", "128",
                "--crop_size", "128", "--num_threads", "0", "--gpu_ids", "-1"]
TINY_CYCLE_GAN = ["--model", "cycle_gan", "--netG", "resnet_6blocks", "--ngf", "8", "--ndf", "8", "--load_size", "32",
                  "--crop_size", "32", "--num_threads", "0", "--gpu_ids", "-1"]
# Smaller still, at 32 px, for runs that train several epochs (resume, crash safety, reliability).
TINY_RUNS = {
    "pix2pix": ["--model", "pix2pix", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "40",
                "--crop_size", "32", "--num_threads", "0", "--gpu_ids", "-1"],
    "cycle_gan": ["--model", "cycle_gan", "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size",
                  "40", "--crop_size", "32", "--pool_size", "3", "--num_threads", "0", "--gpu_ids", "-1"],
}


# ---------------------------------------------------------------------------------------------------- data on disk

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


def write_unaligned_images(root: Path, count: int, size: int = 40, seed: int = 3) -> Path:
    """trainA/ and trainB/ under `root`, `count` noise images each; returns `root`."""
    write_noise_images(root / "trainA", count, size, seed)
    write_noise_images(root / "trainB", count, size, seed + 1)
    return root


def images_as_tensor(paths, convert: Callable[[np.ndarray], np.ndarray] | None = None) -> torch.Tensor:
    """RGB image files as one batch in [-1, 1], each array passed through `convert` first if given."""
    arrays = np.stack([convert(np.asarray(Image.open(p))) if convert else np.asarray(Image.open(p)) for p in paths])
    return torch.tensor(arrays).permute(0, 3, 1, 2).float() / 127.5 - 1


def demo_shapes_answer(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The testA images of a demo_shapes dataset and their exact B translations, as batches in [-1, 1]."""
    paths = sorted((root / "testA").glob("*.png"))
    return images_as_tensor(paths), images_as_tensor(paths, true_a_to_b)


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --metrics_weights_dir with random-weight Inception-v3 (FID, KID) and AlexNet (LPIPS) files under the
    libraries' file names: every metric code path runs offline, with values not comparable to published ones.
    """
    import torchvision

    from metrics.inception_metrics import inception_url, random_inception
    from metrics.paired_metrics import alexnet_url
    from metrics.weights import file_name

    folder = tmp_path_factory.mktemp("metric_weights")
    torch.save(random_inception(seed=1).state_dict(), folder / file_name(inception_url()))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        alexnet = torchvision.models.alexnet().state_dict()
    # LPIPS uses AlexNet's convolutions only: its classifier is saved as a broadcast zero, a few bytes on disk.
    alexnet.update({key: torch.zeros(1).expand_as(value) for key, value in alexnet.items() if "classifier" in key})
    torch.save(alexnet, folder / file_name(alexnet_url()))
    return folder


@pytest.fixture
def aligned_root(tmp_path: Path) -> Path:
    """A dataroot with train/ (6 pairs) and test/ (3 pairs) of 128x128 aligned images."""
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 6, seed=1)
    write_aligned_images(root / "test", 3, seed=2)
    return root


def make_opt(dataroot: Path | str = ".", **overrides) -> argparse.Namespace:
    """Dataset options as the parser would produce them, small and deterministic by default."""
    opt = dict(
        dataroot=str(dataroot),
        phase="train",
        dataset_mode="aligned",
        direction="AtoB",
        input_nc=3,
        output_nc=3,
        serial_batches=True,
        num_threads=0,
        batch_size=1,
        load_size=32,
        crop_size=32,
        max_dataset_size=float("inf"),
        preprocess="resize_and_crop",
        no_flip=True,
        isTrain=True,
        seed=None,
        skip_bad_images=False,
        device=torch.device("cpu"),
    )
    opt.update(overrides)
    return argparse.Namespace(**opt)


# ---------------------------------------------------------------------------------------------------- models

def build_model(root: Path | str, checkpoints: Path | str, *args: str, train: bool = True,
                save_options: bool = False) -> tuple[argparse.Namespace, BaseModel]:
    """Parse train (or test) options, build the model and set it up as the entry points do (no weights loaded, no
    data-dependent parts, no DDP): schedules, --channels_last, --compile. With `save_options`, the options are
    written as the commands write them (train_opt.json in the run folder, test_opt.json next to the results).
    """
    argv = ["--dataroot", str(root), "--checkpoints_dir", str(checkpoints), *args]
    options = TrainOptions() if train else TestOptions()
    opt = options.parse(argv)
    if save_options:
        options.save_options(opt)
    model = create_model(opt)
    model.setup()
    prepare_to_run(model, opt, ddp=False)
    return opt, model


def assert_state_dict_layout(net: torch.nn.Module, expected: dict) -> None:
    """`net` has exactly the keys (in order), shapes and parameter count of a reference layout
    ({"state_dict": {key: shape}, "parameters": count}, as in tests/reference/*state_dicts.json).
    """
    shapes = {name: list(t.shape) for name, t in net.state_dict().items()}
    assert list(shapes) == list(expected["state_dict"])
    assert shapes == expected["state_dict"]
    assert sum(p.numel() for p in net.parameters()) == expected["parameters"]


def save_weights(model: BaseModel, folder: Path | str, suffix: str = "latest") -> None:
    """Write the model's networks as `<suffix>_net_<name>.pth`, as published weights come (no training state)."""
    checkpoint.write_network_files(str(folder), suffix, model.network_state_dicts())


def run_training(root: Path, ck: Path, name: str, args: list[str], stop_after: int = 0,
                 prepare: Callable[[BaseModel], None] | None = None) -> BaseModel:
    """Train in this process as train.py does; with `stop_after`, send SIGTERM to ourselves after that step;
    `prepare` may alter the model before training.
    """
    train = load_script("train.py")
    opt = TrainOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(ck), "--name", name, *args])
    seed_everything(opt.seed)
    dataset = create_dataset(opt)
    model = create_model(opt)
    visualizer = Visualizer(opt)
    run = train.prepare(opt, dataset, model)
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
    try:
        train.train(opt, dataset, model, run, visualizer)
    finally:
        visualizer.close()
    return model


@contextlib.contextmanager
def user_files_lock() -> Iterator[None]:
    """Hold the lock on the user files of models/ and data/ (re-entrant within a process)."""
    global _user_files_depth
    with open(USER_FILES_LOCK, "a") as lock:
        if _user_files_depth == 0:
            fcntl.flock(lock, fcntl.LOCK_EX)
        _user_files_depth += 1
        try:
            yield
        finally:
            _user_files_depth -= 1
            if _user_files_depth == 0:
                fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def installed(package: str, file_name: str) -> Iterator[None]:
    """Put tests/user_models/<file_name> into models/ or data/ (`package`), as a user adds a model or dataset file,
    for the duration.
    """
    target = ROOT / package / file_name
    with user_files_lock():
        shutil.copyfile(ROOT / "tests" / "user_models" / file_name, target)
        try:
            yield
        finally:
            target.unlink()
            stem = file_name.removesuffix(".py")
            for cached in (ROOT / package / "__pycache__").glob(f"{stem}.*.pyc"):
                cached.unlink()
            sys.modules.pop(f"{package}.{stem}", None)


def installed_model(name: str) -> contextlib.AbstractContextManager[None]:
    """tests/user_models/<name>_model.py installed as models/<name>_model.py (`--model name`)."""
    return installed("models", f"{name}_model.py")


def installed_dataset(name: str) -> contextlib.AbstractContextManager[None]:
    """tests/user_models/<name>_dataset.py installed as data/<name>_dataset.py (`--dataset_mode name`)."""
    return installed("data", f"{name}_dataset.py")


# ---------------------------------------------------------------------------------------------------- commands

_scripts: dict[str, ModuleType] = {}


def load_script(path: str) -> ModuleType:
    """An entry point of the repository (train.py, test.py, scripts/*.py) imported as a module, once."""
    if path not in _scripts:
        name = "script_" + path.removesuffix(".py").replace("/", "_")
        spec = importlib.util.spec_from_file_location(name, ROOT / path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        _scripts[path] = module
    return _scripts[path]


def run_main(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run an entry point's main(argv) in this process, capturing what it prints, like `run_tool` does in a fresh
    interpreter (an exception other than SystemExit propagates, traceback and all).
    """
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            load_script(script).main(list(args))
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
    return subprocess.CompletedProcess([script, *args], code, out.getvalue(), err.getvalue())


def run_tool(script: str, *args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run train.py / test.py (or another script of the repo) in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, one `error:` line on stderr mentioning every fragment, no traceback (of `run_main` or
    `run_tool`).
    """
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
