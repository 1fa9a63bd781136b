"""Non-finite losses, failed saves, interrupted saves, unreadable images, hostile names and foreign files."""

from __future__ import annotations

import errno
import io
import os
import pickle
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch

from data import create_dataset
from models import load_networks
from tests.conftest import (
    TINY_RUNS,
    assert_user_error,
    build_model,
    make_opt,
    run_main,
    run_training,
    save_weights,
    write_aligned_images,
)
from util import html, results_page
from util import util as util_module
from util.checkpoint import (
    atomic_save,
    check_writable,
    file_digest,
    finish_interrupted_save,
    read_state,
    recover,
    safe_load,
    write_save_point,
)
from util.errors import UserError
from util.nonfinite import NonFiniteLossError
from util.visualizer import Visualizer

# 4 images x 2 epochs of a tiny pix2pix, saving after every image.
ARGS = [*TINY_RUNS["pix2pix"], "--n_epochs", "1", "--n_epochs_decay", "1", "--save_latest_freq", "1", "--print_freq",
        "1000", "--display_freq", "1000", "--no_html", "--seed", "3"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_aligned_images(tmp_path / "data" / "train", 4, size=40, seed=1)
    return tmp_path / "data"


def poison_l1(at_step: int):
    """A `prepare` hook: from step `at_step` on, the L1 loss of pix2pix is NaN."""

    def prepare(model) -> None:
        l1, steps = model.criterionL1, []

        def criterion(fake, real):
            steps.append(1)
            loss = l1(fake, real)
            return loss * float("nan") if len(steps) >= at_step else loss

        model.criterionL1 = criterion

    return prepare


def all_finite(run: Path) -> bool:
    return all(torch.isfinite(v.float()).all() for net in ("G", "D")
               for v in safe_load(str(run / f"latest_net_{net}.pth")).values())


def test_nan_loss_stops_with_the_last_good_save_intact(root, tmp_path):
    with pytest.raises(NonFiniteLossError) as err:
        run_training(root, tmp_path / "ck", "nan", ARGS, prepare=poison_l1(at_step=3))
    message = str(err.value)
    assert "G_L1" in message and "epoch 1" in message and "image 3" in message and "--skip_nonfinite" in message
    state = read_state(str(tmp_path / "ck" / "nan"), "latest", ["G", "D"])
    assert state["progress"]["total_iters"] == 2
    assert all_finite(tmp_path / "ck" / "nan")


def test_skip_nonfinite_skips_and_counts(root, tmp_path):
    model = run_training(root, tmp_path / "ck", "skip", [*ARGS, "--skip_nonfinite"], prepare=poison_l1(at_step=7))
    assert model.skipped_steps == 2  # the generator steps of images 3 and 4 of epoch 2
    log = (tmp_path / "ck" / "skip" / "loss_log.txt").read_text()
    assert "epoch 2: skipped 2 optimizer step(s) with a NaN or Inf loss (2 in the run)" in log
    assert all_finite(tmp_path / "ck" / "skip")


def test_skipped_step_updates_nothing(root, tmp_path):
    model = run_training(root, tmp_path / "ck", "unit", [*ARGS, "--skip_nonfinite", "--lr_policy", "step"])
    poison_l1(at_step=1)(model)
    batch = {"A": torch.rand(1, 3, 32, 32), "B": torch.rand(1, 3, 32, 32), "A_paths": ["a"], "B_paths": ["a"]}
    model.set_input(batch)
    g_before = [p.clone() for p in model.netG.parameters()]
    g_moments = [s["exp_avg"].clone() for s in model.optimizer_G.state.values()]
    d_before = [p.clone() for p in model.netD.parameters()]
    model.optimize_parameters()
    assert all(torch.equal(a, b) for a, b in zip(g_before, model.netG.parameters(), strict=True))
    assert all(torch.equal(a, s["exp_avg"]) for a, s in zip(g_moments, model.optimizer_G.state.values(),
                                                            strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.netD.parameters(), strict=True))


def test_disk_full_leaves_the_previous_save_loadable(root, tmp_path, monkeypatch):
    real_save, calls = torch.save, []

    def save_until_full(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 8:  # the D weights of the third save point, after its G weights were written
            f.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_until_full)
    with pytest.raises(UserError, match="No space left on device; the previous save is intact"):
        run_training(root, tmp_path / "ck", "full", ARGS)
    monkeypatch.undo()
    run = tmp_path / "ck" / "full"
    assert read_state(str(run), "latest", ["G", "D"])["progress"]["total_iters"] == 2
    assert not [f for f in os.listdir(run) if f.endswith(".pending") or f.startswith(".tmp_")]


class FillingFile(io.FileIO):
    """A file on a disk with `room` bytes left: the write that does not fit writes what fits, then fails."""

    def __init__(self, fd: int, room: int) -> None:
        super().__init__(fd, "wb")
        self.room = room

    def write(self, data) -> int:
        if len(data) > self.room:
            super().write(bytes(data[: self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return super().write(data)


def assert_failed_save_left_the_previous_one(run: Path, total_iters: int) -> None:
    assert read_state(str(run), "latest", ["G", "D"])["progress"]["total_iters"] == total_iters
    assert not [f for f in os.listdir(run) if f.endswith(".pending") or f.startswith(".tmp_")]


def test_disk_full_inside_torch_save_is_one_line(root, tmp_path, monkeypatch):
    """The writer fails inside torch.save, which reports it as a RuntimeError about the file position."""
    real_fdopen, opened = os.fdopen, []

    def fdopen(fd, mode="r", *args, **kwargs):
        if ".tmp_" in os.readlink(f"/proc/self/fd/{fd}"):  # a checkpoint file being written
            opened.append(fd)
            if len(opened) == 5:  # the D weights of the second save point, after its G weights
                return FillingFile(fd, room=1000)  # unbuffered: closing it raises nothing more
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen)
    result = run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(tmp_path / "ck"), "--name",
                      "full", *ARGS)
    monkeypatch.undo()
    assert_user_error(result, "cannot save checkpoint 'latest'", "No space left on device",
                      "the previous save is intact")
    assert_failed_save_left_the_previous_one(tmp_path / "ck" / "full", total_iters=1)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MB tmpfs mounted for the test (root with mount rights only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill `disk` up to `leave` free bytes."""
    stats = os.statvfs(disk)
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))


def test_a_real_full_disk(root, small_disk):
    args = ["--dataroot", str(root), "--checkpoints_dir", str(small_disk), "--name", "run", *ARGS,
            "--save_latest_freq", "1000", "--display_freq", "1", "--update_html_freq", "1"]
    args.remove("--no_html")
    first = run_main("train.py", *args, "--n_epochs_decay", "0")
    assert first.returncode == 0, first.stderr[-2000:]
    fill(small_disk, leave=8 * 1024)  # room for the start's checks and the log, not for the page or a network file
    result = run_main("train.py", *args, "--continue_train")
    assert_user_error(result, "cannot save checkpoint 'latest'", "No space left on device",
                      "the previous save is intact")
    assert result.stderr.count("warning: cannot write the training page") == 1  # and training went on to the save
    assert_failed_save_left_the_previous_one(small_disk / "run", total_iters=4)


def test_a_full_disk_under_the_displays_does_not_stop_training(root, tmp_path, monkeypatch):
    run = tmp_path / "ck" / "run"
    (run / "loss_log.txt").mkdir(parents=True)  # the log cannot be opened for appending: a real OSError

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(util_module, "save_image", disk_full)  # the training page's image writer
    args = [a for a in ARGS if a != "--no_html"]
    result = run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(tmp_path / "ck"), "--name", "run",
                      *args, "--display_freq", "1", "--update_html_freq", "1", "--print_freq", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: cannot write")]
    assert warnings == [
        f"warning: cannot write the loss log '{run / 'loss_log.txt'}' (Is a directory); training goes on without it",
        f"warning: cannot write the training page in '{run / 'web'}' (No space left on device); training goes on "
        "without it",
    ]
    assert "finished training: epochs 1-2" in result.stdout
    assert read_state(str(run), "latest", ["G", "D"])["progress"]["total_iters"] == 8


def test_a_checkpoint_copied_by_hand(root, tmp_path):
    args = ["--dataroot", str(root), "--checkpoints_dir", str(tmp_path), "--name", "run", *ARGS,
            "--save_latest_freq", "1000", "--save_epoch_freq", "1"]
    assert run_main("train.py", *args).returncode == 0
    run = tmp_path / "run"
    shutil.copyfile(run / "1_net_G.pth", run / "latest_net_G.pth")  # the weights without their state file
    result = run_main("train.py", *args, "--continue_train", "--n_epochs_decay", "2")
    assert_user_error(result, f"'{run / 'latest_net_G.pth'}' does not match its state file",
                      "to resume from these weights alone, move the state file away")
    for name in ("net_G.pth", "net_D.pth", "train_state.pth"):  # the whole save point: it belongs together
        shutil.copyfile(run / f"1_{name}", run / f"latest_{name}")
    result = run_main("train.py", *args, "--continue_train")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "latest_train_state.pth': epoch 2, 0 images into it, 4 images in all" in result.stdout


@pytest.mark.parametrize("keep, states", [(None, ["1", "2", "3", "latest"]), ("1", ["3", "latest"]),
                                          ("0", ["latest"])])
def test_keep_state_keeps_the_newest_save_points_state(root, tmp_path, keep, states):
    args = ["--dataroot", str(root), "--checkpoints_dir", str(tmp_path), "--name", "run", *ARGS,
            "--n_epochs_decay", "2", "--save_latest_freq", "1000", "--save_epoch_freq", "1"]
    result = run_main("train.py", *args, *(["--keep_state", keep] if keep else []))
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "run"
    assert sorted(p.name.removesuffix("_train_state.pth") for p in run.glob("*_train_state.pth")) == states
    assert all((run / f"{epoch}_net_G.pth").is_file() for epoch in (1, 2, 3))  # the weights all stay
    if keep:
        result = run_main("train.py", *args, "--continue_train", "--epoch", "1")
        assert result.returncode == 0, result.stderr[-2000:]
        assert "resuming from the weights alone" in result.stderr


def test_interrupted_save_is_rolled_back_or_forward(tmp_path):
    folder = str(tmp_path)
    write_save_point(folder, "latest", {"G": {"w": torch.ones(3)}}, {"n": 1})
    # killed before the commit record was written: the new weights are dropped
    atomic_save({"w": torch.zeros(3)}, str(tmp_path / "latest_net_G.pth.pending"))
    finish_interrupted_save(folder, "latest")
    assert torch.equal(safe_load(str(tmp_path / "latest_net_G.pth"))["w"], torch.ones(3))
    assert read_state(folder, "latest", ["G"])["n"] == 1
    # killed after it: the save is completed
    pending = tmp_path / "latest_net_G.pth.pending"
    atomic_save({"w": torch.zeros(3)}, str(pending))
    record = {"n": 2, "manifest": {"latest_net_G.pth": file_digest(str(pending))}}
    atomic_save(record, str(tmp_path / "latest_train_state.pth.pending"))
    # and an epoch save point cut short before its record: dropped too, whichever save point is loaded
    atomic_save({"w": torch.zeros(3)}, str(tmp_path / "5_net_G.pth.pending"))
    recover(folder)
    assert torch.equal(safe_load(str(tmp_path / "latest_net_G.pth"))["w"], torch.zeros(3))
    assert read_state(folder, "latest", ["G"])["n"] == 2
    assert sorted(os.listdir(tmp_path)) == ["latest_net_G.pth", "latest_train_state.pth"]


def test_foreign_or_tampered_state_files_are_refused(tmp_path):
    folder = str(tmp_path)
    write_save_point(folder, "latest", {"G": {"w": torch.ones(3)}}, {"n": 1})
    with pytest.raises(UserError, match="belongs to a model with networks"):
        read_state(folder, "latest", ["G_A", "G_B", "D_A", "D_B"])
    torch.save({"w": torch.full((3,), 2.0)}, tmp_path / "latest_net_G.pth")
    with pytest.raises(UserError, match="does not match its state file"):
        read_state(folder, "latest", ["G"])

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    with open(tmp_path / "latest_train_state.pth", "wb") as f:
        pickle.dump({"manifest": Exploit()}, f)
    with pytest.raises(UserError, match="refusing to load"):
        read_state(folder, "latest", ["G"])
    assert not (tmp_path / "pwned").exists()


def test_state_of_another_model_is_a_clear_error(root, tmp_path):
    model = run_training(root, tmp_path / "ck", "other", [*ARGS, "--n_epochs_decay", "0"])
    state = model.state_dict()
    state["optimizers"] = state["optimizers"][:1]
    with pytest.raises(ValueError, match="holds 1 optimizers, this model has 2"):
        model.load_state_dict(state)


def test_weights_only_resume_warns(root, tmp_path, capsys):
    run_training(root, tmp_path / "ck", "w", [*ARGS, "--n_epochs_decay", "0"])
    (tmp_path / "ck" / "w" / "latest_train_state.pth").unlink()
    capsys.readouterr()
    run_training(root, tmp_path / "ck", "w", [*ARGS, "--n_epochs_decay", "0", "--continue_train"])
    assert "resuming from the weights alone" in capsys.readouterr().err
    assert read_state(str(tmp_path / "ck" / "w"), "latest", ["G", "D"])["progress"]["epoch"] == 2


def test_unwritable_checkpoints_folder(root, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="not writable"):
        check_writable(str(blocker / "run"))
    if os.geteuid() != 0:  # root writes through permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(UserError, match="not writable"):
            check_writable(str(locked))
    result = run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(blocker / "ck"), *ARGS)
    assert_user_error(result, "a_file")


@pytest.mark.parametrize("threads", [0, 2])
def test_corrupt_image_is_named_or_skipped(tmp_path, capsys, threads):
    write_aligned_images(tmp_path / "train", 4, size=16)
    bad = tmp_path / "train" / "001.png"
    bad.write_bytes(bad.read_bytes()[:60])
    options = dict(num_threads=threads, batch_size=2, load_size=16, crop_size=16, seed=0)
    try:
        list(create_dataset(make_opt(tmp_path, **options)))
    except UserError as err:  # not pytest.raises: a kept traceback stalls the worker shutdown
        message = str(err)
    else:
        pytest.fail("a corrupt image must raise UserError")
    assert "001.png" in message and "--skip_bad_images" in message
    loader = create_dataset(make_opt(tmp_path, skip_bad_images=True, **options))
    for epoch in (1, 2):
        loader.set_epoch(epoch)
        paths = [p for batch in loader for p in batch["A_paths"]]
        assert len(paths) == 3 and str(bad) not in paths
    err = capsys.readouterr().err
    assert err.count("warning: skipping unreadable image") == 1 and "001.png" in err
    assert err.count("skipped 1 unreadable image(s) this epoch") == 2


class PageParts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_file_names_stay_inert_in_pages(tmp_path):
    names = ["<script>alert(1)", "<b>bold", "\" onerror=\"alert(2)", "a&b'c", "<img src=x onerror=alert(3)>"]
    page = html.HTML(str(tmp_path / "web"), "results <b>of</b> <script>x()</script>")
    for name in names:
        results_page.save_images(page, {"fake_B": torch.zeros(3, 8, 8)}, f"/data/{name}.png", 1.0, 64)
    parts = PageParts()
    parts.feed(Path(page.save()).read_text())
    assert {tag for tag, _ in parts.tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h3", "table",
                                              "tr", "td", "a", "img", "p"}
    assert not [name for _, attrs in parts.tags for name in attrs if name.startswith("on")]
    links = [attrs.get("src") or attrs.get("href") for tag, attrs in parts.tags if tag in ("a", "img")]
    assert links and all(link.startswith("images/") and not set(link) & set("<>\"' ") for link in links)
    for name in names:
        assert name in parts.text  # shown as text, exactly as named
        assert (tmp_path / "web" / "images" / f"{name}_fake_B.png").is_file()


def test_checkpoint_of_another_architecture_changes_nothing(root, tmp_path):
    _, model = build_model(root, tmp_path, *ARGS)
    save_weights(model, tmp_path / "experiment_name", "other")
    _, model = build_model(root, tmp_path, *ARGS, "--ndf", "8")  # same generator, wider discriminator
    before = [p.clone() for p in model.netG.parameters()]
    with pytest.raises(UserError, match="--ndf 8"):
        load_networks(model, str(tmp_path / "experiment_name"), "other")
    assert all(torch.equal(a, b) for a, b in zip(before, model.netG.parameters(), strict=True))


def test_explicit_epoch_count_is_honoured(root, tmp_path, capsys):
    args = [*ARGS, "--n_epochs_decay", "2", "--save_latest_freq", "1000", "--save_epoch_freq", "1"]
    run_training(root, tmp_path, "count", args)
    capsys.readouterr()
    model = run_training(root, tmp_path, "count", [*args, "--continue_train", "--epoch", "1", "--epoch_count", "3"])
    out = capsys.readouterr().out
    assert "end of epoch 3" in out and "end of epoch 2" not in out
    assert "learning rate 0.0000667 -> 0.0000000" in out  # the schedule at epoch 3, as in the original release
    assert all(int(state["step"]) == 8 for state in model.optimizer_G.state.values())  # moments of epoch 1 kept


def test_state_dict_carries_grad_scalers(root, tmp_path):
    model = run_training(root, tmp_path, "amp", [*ARGS, "--n_epochs_decay", "0"])
    model.grad_scalers = [torch.amp.GradScaler("cpu", init_scale=2.0**k) for k in (4, 5)]
    state = model.state_dict()
    model.grad_scalers = [torch.amp.GradScaler("cpu") for _ in range(2)]
    model.load_state_dict(state)
    assert [scaler.get_scale() for scaler in model.grad_scalers] == [16.0, 32.0]


def test_a_display_that_cannot_write_an_evaluation_is_dropped_and_the_others_still_get_it(tmp_path, capsys):
    opt = make_opt(tmp_path, checkpoints_dir=str(tmp_path / "ck"), name="run", use_wandb=False, use_tensorboard=False,
                   display_id=0, no_html=True)
    visualizer = Visualizer(opt)

    class Display:
        def __init__(self, description: str, full: bool) -> None:
            self.description, self.full, self.calls = description, full, []

        def record(self, call: str) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.calls.append(call)

        def log_metrics(self, epoch, values, total_iters):
            self.record("metrics")

        def show_best(self, metric, value, epoch):
            self.record("best")

    full, working = Display("the full display", True), Display("the working display", False)
    visualizer.sinks = [full, working]
    visualizer.log_metrics(1, {"fid": 3.0}, 8, "2 test images")
    visualizer.log_best("fid", 3.0, 1, "best_net_*.pth")
    assert visualizer.sinks == [working] and working.calls == ["metrics", "best"]
    assert capsys.readouterr().err.count("warning: cannot write the full display (No space left on device)") == 1
