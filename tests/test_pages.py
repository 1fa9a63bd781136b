"""The training page's bounded updates, the loss history, plain progress lines and the results page's escaping."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from util import html
from util.progress import PlainProgress
from util.results_page import save_images
from util.sinks.html_page import TrainingPage
from util.sinks.loss_plot import LossHistory, draw_loss_plot


def visuals(value: int) -> dict[str, np.ndarray]:
    return {name: np.full((8, 8, 3), value, np.uint8) for name in ("real_A", "fake_B")}


def test_training_page_work_per_update_stays_bounded(tmp_path):
    page = TrainingPage(str(tmp_path / "web"), "run", keep_epochs=3)
    sizes = {}
    for epoch in range(1, 13):
        page.log_losses(epoch + 0.5, {"G": 1.0 / epoch, "D": 0.5}, epoch)
        page.show_images(visuals(epoch), epoch, epoch * 10)
        sizes[epoch] = (tmp_path / "web" / "index.html").stat().st_size
    index = (tmp_path / "web" / "index.html").read_text()
    assert re.findall(r"epoch \[(\d+)\]", index) == ["12", "11", "10"]  # newest first, only the last 3
    assert 'href="epoch009.html"' in index and "loss_plot.png" in index
    assert abs(sizes[12] - sizes[4]) < 50  # the page does not grow with training
    # each epoch page links one step back, so every epoch stays reachable
    assert 'href="epoch008.html"' in (tmp_path / "web" / "epoch009.html").read_text()
    assert "older" not in (tmp_path / "web" / "epoch001.html").read_text()
    # an epoch's fragment is written once; later updates of that epoch only replace its images
    fragment = tmp_path / "web" / "fragments" / "epoch012.html"
    before = fragment.stat().st_mtime_ns
    page.show_images(visuals(200), 12, 999)
    assert fragment.stat().st_mtime_ns == before
    assert (tmp_path / "web" / "images" / "epoch012_fake_B.png").is_file()


def test_training_page_resumes_or_starts_over(tmp_path):
    web = str(tmp_path / "web")
    first = TrainingPage(web, "run")
    first.show_images(visuals(1), 1, 1)
    first.log_losses(1.5, {"G": 2.0}, 1)
    resumed = TrainingPage(web, "run", resume=True)
    assert resumed.epochs == [1] and len(resumed.history) == 1
    resumed.show_images(visuals(2), 2, 2)
    assert re.findall(r"epoch \[(\d+)\]", (tmp_path / "web" / "index.html").read_text()) == ["2", "1"]
    fresh = TrainingPage(web, "run")
    assert fresh.epochs == [] and len(fresh.history) == 0


def test_loss_history_bins_keep_the_means(tmp_path):
    history = LossHistory(str(tmp_path / "h.jsonl"), max_bins=16)
    values = np.random.default_rng(0).random(1000)
    for i, v in enumerate(values):
        history.append(i / 100, {"G": float(v)})
    assert len(history.bins) <= 16 and len(history) == 1000
    weights = [b["counts"]["G"] for b in history.bins]
    xs, ys = history.series()["G"]
    assert np.average(ys, weights=weights) == pytest.approx(values.mean())
    assert xs == sorted(xs)
    reloaded = LossHistory(str(tmp_path / "h.jsonl"), max_bins=16, resume=True)
    assert reloaded.series()["G"][1] == pytest.approx(ys)
    assert draw_loss_plot(reloaded, str(tmp_path / "plot.png"), "losses")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert not draw_loss_plot(LossHistory(), str(tmp_path / "none.png"), "losses")


def test_plain_progress_prints_tenths_and_a_last_line():
    out = io.StringIO()
    bar = PlainProgress(total=20, desc="test", unit="img", file=out)
    for _ in range(7):
        bar.update(1)
    bar.set_postfix({"loss": "0.5"})
    bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["10%", "20%", "30%", "40%"]
    assert lines[-1].startswith("test:  40% 8/20 img") and lines[-1].endswith("loss=0.5")
    short = io.StringIO()
    with PlainProgress(total=5, desc="x", file=short) as b:
        b.update(2)
    assert short.getvalue().count("\n") == 1  # one jump past two tenths is one line; close adds none


def test_results_page_escapes_names(tmp_path):
    page = html.HTML(str(tmp_path), "Experiment = <run>, Phase = test, Epoch = latest")
    tensor = torch.zeros(3, 8, 8)
    save_images(page, {"real_A": tensor, "fake_B": tensor}, "/data/a&b <c> #1.png", width=64)
    text = Path(page.save()).read_text()
    assert "<h3>a&amp;b &lt;c&gt; #1</h3>" in text
    assert "&lt;run&gt;" in text
    assert 'src="images/a%26b%20%3Cc%3E%20%231_fake_B.png"' in text
    assert (tmp_path / "images" / "a&b <c> #1_fake_B.png").is_file()
    assert "width:64px" in text
