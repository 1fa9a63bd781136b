"""The training page <checkpoints_dir>/<name>/web/index.html, at a cost per update that does not grow with training.

Each epoch's part of the page (a heading and a row of its visuals) is written once, to fragments/epochNNN.html,
together with a page of its own, epochNNN.html, that links to the epoch before it. index.html shows the loss
plot (and, with train.py --eval_freq, the metrics plot beside it) and the newest `keep_epochs` fragments, newest
first, and links to the next older epoch's page; building it reads a fixed number of small files and draws a plot
of a fixed number of points. The metrics plot is drawn only when an evaluation adds a point.
"""

from __future__ import annotations

import glob
import os
import re

import numpy as np
from dominate import tags
from dominate.util import raw

from util import html, util
from util.sinks import Sink
from util.sinks.loss_plot import LossHistory, draw_loss_plot

PLOT_FILE = "loss_plot.png"
METRICS_PLOT_FILE = "metrics_plot.png"


def epoch_page_name(epoch: int) -> str:
    return f"epoch{epoch:03d}.html"


class TrainingPage(Sink):
    """Writes visuals per epoch (newest first) and the loss curves into <web_dir>/index.html."""

    def __init__(self, web_dir: str, name: str, width: int = 256, keep_epochs: int = 10,
                 resume: bool = False) -> None:
        self.web_dir = web_dir
        self.description = f"the training page in '{web_dir}'"
        self.title = f"Experiment name = {name}"
        self.width = width
        self.keep_epochs = keep_epochs
        self.img_dir = os.path.join(web_dir, "images")
        self.fragment_dir = os.path.join(web_dir, "fragments")
        os.makedirs(self.img_dir, exist_ok=True)
        os.makedirs(self.fragment_dir, exist_ok=True)
        if not resume:  # a new run under an old name starts a new page
            for old in glob.glob(os.path.join(self.fragment_dir, "epoch*.html")):
                os.remove(old)
            for old in glob.glob(os.path.join(web_dir, "epoch*.html")):
                os.remove(old)
        self.epochs = sorted(int(m.group(1)) for f in os.listdir(self.fragment_dir)
                             if (m := re.fullmatch(r"epoch(\d+)\.html", f)))
        self.history = LossHistory(os.path.join(web_dir, "loss_history.jsonl"), resume=resume)
        self.metrics = LossHistory()  # one point per evaluation; a resumed run gets its history from its state
        self.latest_metrics: tuple[int, dict[str, float]] | None = None
        self.best: tuple[str, float, int] | None = None
        metrics_plot = os.path.join(web_dir, METRICS_PLOT_FILE)
        if os.path.exists(metrics_plot):
            os.remove(metrics_plot)

    def show_images(self, images: dict[str, np.ndarray], epoch: int, total_iters: int) -> None:
        """Save this epoch's images (replacing earlier ones of the same epoch) and refresh the index."""
        names = [f"epoch{epoch:03d}_{label}.png" for label in images]
        for name, image in zip(names, images.values(), strict=True):
            util.save_image(image, os.path.join(self.img_dir, name))
        if epoch not in self.epochs:
            self._write_epoch(epoch, names, list(images))
        self.write_index()

    def log_losses(self, epoch_progress: float, losses: dict[str, float], total_iters: int) -> None:
        self.history.append(epoch_progress, losses)

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int) -> None:
        self.metrics.append(epoch, values)
        self.latest_metrics = (epoch, values)
        self._draw_metrics()
        self.write_index()

    def show_best(self, metric: str, value: float, epoch: int) -> None:
        self.best = (metric, value, epoch)
        self.write_index()

    def restore_metrics(self, history: list[tuple[int, dict[str, float]]], best: tuple[str, float, int] | None
                        ) -> None:
        """The evaluations of a resumed run so far ((epoch, values) in order, at least one) and its best, before it
        goes on."""
        for epoch, values in history:
            self.metrics.append(epoch, values)
        self.latest_metrics = history[-1]
        self.best = best
        self._draw_metrics()

    def _draw_metrics(self) -> None:
        draw_loss_plot(self.metrics, os.path.join(self.web_dir, METRICS_PLOT_FILE), "evaluation metrics")

    def close(self) -> None:
        self.write_index()

    def _metrics_section(self) -> None:
        """The metrics plot, the latest values and the best epoch (inside the page being composed)."""
        tags.h2("metrics")
        tags.img(src=METRICS_PLOT_FILE, alt="metrics plot", id="metrics_plot", style="max-width:100%")
        epoch, values = self.latest_metrics
        tags.p(f"epoch {epoch}: " + ", ".join(f"{name} {value:.5g}" for name, value in values.items()),
               id="latest_metrics")
        if self.best is not None:
            metric, value, best_epoch = self.best
            tags.p(f"best {metric}: {value:.5g} at epoch {best_epoch} (saved as best_net_*.pth)", id="best_metric")

    def _write_epoch(self, epoch: int, names: list[str], labels: list[str]) -> None:
        """Write the epoch's fragment and its own page, once."""
        fragment = tags.div(id=f"epoch{epoch}")
        fragment.add(tags.h3(f"epoch [{epoch}]"))
        fragment.add(html.image_row(names, labels, names, self.width))
        text = fragment.render()
        with open(os.path.join(self.fragment_dir, epoch_page_name(epoch)), "w", encoding="utf-8") as f:
            f.write(text)
        older = [e for e in self.epochs if e < epoch]
        page = html.HTML(self.web_dir, f"{self.title}, epoch {epoch}")
        with page.doc:
            with tags.p():
                tags.a("training page", href="index.html")
                if older:
                    tags.span(" | ")
                    tags.a(f"older: epoch {older[-1]}", href=epoch_page_name(older[-1]))
            raw(text)
        page.save(epoch_page_name(epoch))
        self.epochs.append(epoch)
        self.epochs.sort()

    def write_index(self) -> str:
        """Compose index.html from the loss and metrics plots and the newest fragments."""
        page = html.HTML(self.web_dir, self.title)
        has_plot = draw_loss_plot(self.history, os.path.join(self.web_dir, PLOT_FILE), "training losses")
        with page.doc:
            if has_plot or self.latest_metrics is not None:
                with tags.div(style="display:flex; flex-wrap:wrap; gap:2em; align-items:flex-start"):
                    if has_plot:
                        with tags.div():
                            tags.h2("losses")
                            tags.img(src=PLOT_FILE, alt="loss plot", id="loss_plot", style="max-width:100%")
                    if self.latest_metrics is not None:
                        with tags.div():
                            self._metrics_section()
            shown = self.epochs[::-1][: self.keep_epochs]
            for epoch in shown:
                with open(os.path.join(self.fragment_dir, epoch_page_name(epoch)), encoding="utf-8") as f:
                    raw(f.read())
            if len(self.epochs) > len(shown):
                older = self.epochs[-len(shown) - 1]
                tags.p(tags.a(f"older epochs (from epoch {older} back)", href=epoch_page_name(older)))
        return page.save()
