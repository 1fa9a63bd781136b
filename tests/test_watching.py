"""Watching runs with real parts: a visdom server, W&B offline files, a TensorBoard event file, progress lines."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import TINY_PIX2PIX, assert_user_error, run_main, run_tool, write_aligned_images
from util.checkpoint import safe_load

SERVER = """
import sys
from visdom.server import run_server
port, env_path = sys.argv[1], sys.argv[2]
sys.argv = ["visdom", "-port", port, "-env_path", env_path, "--hostname", "127.0.0.1", "-bind_local",
            "-logging_level", "WARNING"]
run_server.main(print_func=lambda p: print("ready", p, flush=True))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"visdom server did not listen on {port}")


@pytest.fixture(scope="module")
def visdom_port(tmp_path_factory):
    """A real visdom server on a free loopback port (run_server.main skips the CDN download of the web client)."""
    port = free_port()
    env_path = tmp_path_factory.mktemp("visdom_env")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(env_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def loss_entries(log: Path, evaluations: bool = False) -> list[dict[str, float]]:
    """The losses of each '(epoch: ...)' line of loss_log.txt, or with `evaluations` the metrics of each
    '(epoch: ..., evaluation: ...)' line.
    """
    entries = []
    for line in log.read_text().splitlines():
        if line.startswith("(epoch:") and ("evaluation:" in line) == evaluations:
            entries.append({k: float(v) for k, v in re.findall(r"(\w+): ([\d.]+)", line.split(")", 1)[1])})
    return entries


@pytest.fixture(scope="module")
def watched_run(tmp_path_factory, visdom_port):
    """One tiny pix2pix run shown in visdom, W&B (offline) and TensorBoard at once, 2 epochs of 4 images, evaluated
    after each epoch on the 2 images of its val split (L1, PSNR; the best PSNR kept).
    """
    tmp = tmp_path_factory.mktemp("watched")
    root = tmp / "pairs"
    write_aligned_images(root / "train", 4, seed=1)
    write_aligned_images(root / "val", 2, seed=5)
    ck = tmp / "ck"
    os.environ["WANDB_MODE"] = "offline"  # inherited by run_tool's child
    try:
        result = run_tool("train.py", "--dataroot", str(root), "--name", "watched", "--checkpoints_dir", str(ck),
                          *TINY_PIX2PIX, "--n_epochs", "1", "--n_epochs_decay", "1", "--print_freq", "2",
                          "--display_freq", "2", "--update_html_freq", "2", "--display_id", "1",
                          "--display_server", "http://127.0.0.1", "--display_port", str(visdom_port),
                          "--display_env", "watch_test", "--use_wandb", "--use_tensorboard", "--eval_freq", "1",
                          "--eval_metrics", "l1,psnr", "--save_best", "psnr")
    finally:
        del os.environ["WANDB_MODE"]
    assert result.returncode == 0, result.stderr[-3000:]
    return ck / "watched", result


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_visdom_server_holds_the_runs_images_and_losses(watched_run, visdom_port):
    import visdom

    run, _ = watched_run
    vis = visdom.Visdom(server="http://127.0.0.1", port=visdom_port, env="watch_test", use_incoming_socket=False,
                        raise_exceptions=True)
    losses = json.loads(vis.get_window_data("1", env="watch_test"))
    assert losses["type"] == "plot" and "watched" in losses["title"]
    logged = loss_entries(run / "loss_log.txt")
    lines = {trace["name"]: trace for trace in losses["content"]["data"]}
    assert set(lines) == set(logged[0]) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    for name, trace in lines.items():
        assert len(trace["y"]) == len(logged) == 4  # every print, sent as it came
        assert trace["y"] == pytest.approx([e[name] for e in logged], abs=1e-3)
    assert lines["G_L1"]["x"] == pytest.approx([1.5, 2.0, 2.5, 3.0])  # epoch + fraction done
    images = json.loads(vis.get_window_data("2", env="watch_test"))
    assert images["type"] == "image" and "watched" in images["title"]
    assert images["content"]["src"].startswith("data:image/")
    metrics = json.loads(vis.get_window_data("3", env="watch_test"))
    evaluated = loss_entries(run / "loss_log.txt", evaluations=True)
    lines = {trace["name"]: trace for trace in metrics["content"]["data"]}
    assert set(lines) == {"l1", "psnr"} and len(evaluated) == 2
    for name, trace in lines.items():
        assert trace["x"] == [1, 2]  # one point per epoch
        assert trace["y"] == pytest.approx([e[name] for e in evaluated], rel=1e-4)


def test_evaluation_is_logged_and_the_best_epoch_kept(watched_run):
    run, result = watched_run
    evaluated = loss_entries(run / "loss_log.txt", evaluations=True)
    assert [set(e) for e in evaluated] == [{"l1", "psnr"}] * 2
    log = (run / "loss_log.txt").read_text()
    assert "(epoch: 1, iters: 4, evaluation: 2 val images in" in log and "(epoch: 2, iters: 8, evaluation:" in log
    assert "evaluation: 2 val images in" in result.stdout  # the console, and --eval_phase defaults to val
    best = max((1, 2), key=lambda epoch: evaluated[epoch - 1]["psnr"])
    assert f"at epoch {best}; saved as best_net_*.pth" in log
    state = safe_load(str(run / "best_train_state.pth"))
    assert state["best"]["epoch"] == best and state["progress"]["epoch"] == best + 1
    assert [e["epoch"] for e in state["evaluations"]] == list(range(1, best + 1))
    for net in ("G", "D"):  # the best epoch's weights: the <epoch> save point of that epoch holds the same
        best_weights = safe_load(str(run / f"best_net_{net}.pth"))
        assert all(torch.equal(v, safe_load(str(run / f"{best}_net_{net}.pth"))[k]) for k, v in best_weights.items())


def test_tensorboard_event_file_holds_the_losses(watched_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _ = watched_run
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    logged = loss_entries(run / "loss_log.txt")
    for name in ("G_GAN", "G_L1", "D_real", "D_fake"):
        scalars = events.Scalars(f"loss/{name}")
        assert [s.step for s in scalars] == [2, 4, 6, 8]
        assert [s.value for s in scalars] == pytest.approx([e[name] for e in logged], abs=1e-3)
    evaluated = loss_entries(run / "loss_log.txt", evaluations=True)
    for name in ("l1", "psnr"):
        scalars = events.Scalars(f"metric/{name}")
        assert [s.step for s in scalars] == [4, 8]
        assert [s.value for s in scalars] == pytest.approx([e[name] for e in evaluated], rel=1e-4)
    assert {"visuals/real_A", "visuals/fake_B", "visuals/real_B"} <= set(events.Tags()["images"])


def test_wandb_offline_run_writes_its_files(watched_run):
    run, result = watched_run
    runs = list((run / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    records = list(runs[0].glob("run-*.wandb"))
    assert records and records[0].stat().st_size > 0
    logged = records[0].read_bytes()
    assert b"loss/G_L1" in logged and b"metric/psnr" in logged and b"best/psnr" in logged


def test_training_page_and_progress(watched_run):
    run, result = watched_run
    web = run / "web"
    page = (web / "index.html").read_text()
    assert page.index("epoch [2]") < page.index("epoch [1]")  # newest first
    assert 'src="loss_plot.png"' in page and (web / "loss_plot.png").stat().st_size > 0
    assert 'src="metrics_plot.png"' in page and (web / "metrics_plot.png").stat().st_size > 0
    best = safe_load(str(run / "best_train_state.pth"))["best"]
    assert f"best psnr: {best['value']:.5g} at epoch {best['epoch']}" in page
    # no terminal: plain progress lines, no carriage-return bar; a final summary line
    assert "\r" not in result.stderr
    assert "epoch 1/2: 100% 4/4 img" in result.stderr and "epoch 2/2:  50% 2/4 img" in result.stderr
    assert "finished training: epochs 1-2, 8 images" in result.stdout


def test_unreachable_visdom_warns_once_and_training_goes_on(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 2)
    port = free_port()
    result = run_main("train.py", "--dataroot", str(root), "--name", "r", "--checkpoints_dir", str(tmp_path / "ck"),
                      *TINY_PIX2PIX, "--n_epochs", "1", "--n_epochs_decay", "1", "--display_freq", "1",
                      "--print_freq", "1", "--display_id", "1", "--display_port", str(port), "--no_html")
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if "visdom" in line]
    assert len(warnings) == 1, result.stderr
    assert f"python -m visdom.server -p {port}" in warnings[0]
    assert (tmp_path / "ck" / "r" / "latest_net_G.pth").is_file()


def test_use_wandb_without_wandb_fails_at_start(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # as if it were not installed: importing it fails
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 2)
    result = run_main("train.py", "--dataroot", str(root), "--name", "r", "--checkpoints_dir", str(tmp_path / "ck"),
                      *TINY_PIX2PIX, "--use_wandb")
    assert_user_error(result, "--use_wandb", "pip install wandb")
    assert "epoch 1" not in result.stderr  # before any training


def test_unwritable_checkpoints_and_results_folders(tmp_path, watched_run):
    run, _ = watched_run
    root = tmp_path / "pairs"
    write_aligned_images(root / "test", 1)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_main("train.py", "--dataroot", str(root), "--name", "r", "--checkpoints_dir", str(blocker / "ck"),
                      *TINY_PIX2PIX)
    assert_user_error(result, "a_file", "--checkpoints_dir")
    result = run_main("test.py", "--dataroot", str(root), "--name", run.name, "--checkpoints_dir", str(run.parent),
                      "--results_dir", str(blocker / "results"), *TINY_PIX2PIX)
    assert_user_error(result, "a_file", "--results_dir")


CHROMIUM = "/usr/bin/chromium"


def images_loaded(page_url: str) -> list[dict]:
    """Open a page in headless Chromium; for each <img>: its src, whether it loaded and its natural width."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(page_url, wait_until="load")
            return page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.getAttribute('src'), id: e.id, complete: e.complete,"
                       " width: e.naturalWidth}))")
        finally:
            browser.close()


def test_pages_load_in_a_real_browser(watched_run, tmp_path):
    run, _ = watched_run
    training = images_loaded((run / "web" / "index.html").as_uri())
    assert {"loss_plot", "metrics_plot"} <= {img["id"] for img in training}
    assert len(training) == 2 + 2 * 3  # the plots, then 3 visuals for each of 2 epochs
    assert all(img["complete"] and img["width"] > 0 for img in training), training

    root = tmp_path / "pairs"
    paths = write_aligned_images(root / "test", 2)
    paths[1].rename(paths[1].with_name("a&b <c> #1.png"))
    web = tmp_path / "results" / run.name / "test_latest"
    (web / "images").mkdir(parents=True)
    for visual in ("fake_B", "real_B"):  # an older run's result in the same folder is not scored
        (web / "images" / f"old_{visual}.png").write_bytes(paths[0].read_bytes())
    result = run_main("test.py", "--dataroot", str(root), "--name", run.name, "--checkpoints_dir", str(run.parent),
                      "--results_dir", str(tmp_path / "results"), *TINY_PIX2PIX, "--display_winsize", "96",
                      "--metrics", "l1,psnr,ssim")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test: 100% 2/2 img" in result.stderr and "wrote 2 results" in result.stdout
    text = (web / "index.html").read_text()
    assert f"Experiment = {run.name}, Phase = test, Epoch = latest" in text
    assert "<h3>a&amp;b &lt;c&gt; #1</h3>" in text and "width:96px" in text
    record = json.loads((web / "metrics.json").read_text())
    assert record["num_fake"] == record["num_real"] == 2 and record["paired"] and record["run"]["model"] == "pix2pix"
    read = lambda path: np.asarray(Image.open(path)).astype(np.float64)  # noqa: E731
    stems = [path.stem for path in sorted((root / "test").iterdir())]
    expected_l1 = np.mean([np.abs(read(web / "images" / f"{stem}_fake_B.png")
                                  - read(web / "images" / f"{stem}_real_B.png")).mean() for stem in stems])
    assert record["values"]["l1"] == pytest.approx(expected_l1, rel=1e-12)
    table = text.index('<table id="metrics">')
    assert text.index("<h1>") < table < text.index("<h3>")  # at the top, above the images
    for name in ("l1", "psnr", "ssim"):
        assert f"<td>{name}</td>" in text and f"{name} " in result.stdout  # the page's table and the printed one
    results = images_loaded((web / "index.html").as_uri())
    assert len(results) == 2 * 3
    assert all(img["complete"] and img["width"] == 128 for img in results), results  # full-size files
