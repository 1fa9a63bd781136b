"""Visualizer: one object the training loop talks to, fanning out to loss_log.txt and the sinks.

Sinks (util/sinks/): the training HTML page (unless --no_html), visdom (--display_id > 0), Weights & Biases
(--use_wandb) and TensorBoard (--use_tensorboard). Only the main process shows or writes anything.
`save_images` is kept here for test scripts written for the original release.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from util import html, messages, results_page, util
from util.distributed import is_main_process
from util.sinks import Sink


def save_images(webpage: html.HTML, visuals: Mapping[str, torch.Tensor | np.ndarray], image_path: str | Sequence[str],
                aspect_ratio: float = 1.0, width: int = 256, use_wandb: bool = False) -> None:
    """The original release's call: save the first image of each visual as images/<stem>_<visual>.png and add a
    row for them to `webpage`. `image_path` may be the batch's list of paths (its first one names the files).
    Deprecated: util.results_page.save_images. W&B logging of test images (`use_wandb`) is not supported.
    """
    messages.deprecated("util.visualizer.save_images", "util.results_page.save_images")
    if use_wandb:
        messages.warn("save_images(use_wandb=True): test images are not logged to W&B", once="save_images wandb")
    path = image_path if isinstance(image_path, str) else image_path[0]
    results_page.save_images(webpage, visuals, path, aspect_ratio, width)


class Visualizer:
    """Shows and records training progress; does nothing outside the main process.

    Displays never stop training: a sink or the loss log that cannot be written (disk full, permissions) gives one
    warning and training goes on without it.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        self.enabled = is_main_process()
        self.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        self.log_path: str | None = os.path.join(self.run_dir, "loss_log.txt")
        self.web_dir = os.path.join(self.run_dir, "web")
        self.page = None
        self.sinks: list[Sink] = []
        if not self.enabled:
            return
        os.makedirs(self.run_dir, exist_ok=True)
        self._append_to_log(f"================ Training Loss ({time.strftime('%c')}) ================")
        self.sinks = self._open_sinks(opt)

    def _open_sinks(self, opt: argparse.Namespace) -> list[Sink]:
        """The sinks the options ask for; optional packages are imported here, so a missing one fails at start."""
        sinks: list[Sink] = []
        if opt.use_wandb:
            from util.sinks.wandb_sink import WandbSink
            sinks.append(WandbSink(opt, self.run_dir))
        if opt.use_tensorboard:
            from util.sinks.tensorboard_sink import TensorBoardSink
            sinks.append(TensorBoardSink(self.run_dir))
        if opt.display_id > 0:
            from util.sinks.visdom_sink import VisdomSink
            sinks.append(VisdomSink(opt))
        if not opt.no_html:
            from util.sinks.html_page import TrainingPage
            try:
                self.page = TrainingPage(self.web_dir, opt.name, opt.display_winsize, resume=opt.continue_train)
                sinks.append(self.page)
            except OSError as err:
                self._warn_unwritable(f"the training page in '{self.web_dir}'", err)
        return sinks

    def reset(self) -> None:
        """The original release's per-step reset; nothing to do here (the training page decides what it keeps)."""

    def display_current_results(self, visuals: OrderedDict[str, torch.Tensor], epoch: int, save_result: bool,
                                total_iters: int = 0) -> None:
        """Show the current visuals in the live sinks; with save_result, also add them to the training page.

        `total_iters` (images seen) is the step for W&B and TensorBoard.
        """
        targets = [s for s in self.sinks if save_result or s is not self.page]
        if not targets:
            return
        images = {label: util.tensor2im(image) for label, image in visuals.items()}
        self._to_sinks(lambda s: s.show_images(images, epoch, total_iters), targets)

    def plot_current_losses(self, epoch: int, counter_ratio: float, losses: OrderedDict[str, float],
                            total_iters: int = 0) -> None:
        """Add the current losses to the plots; counter_ratio is the fraction of the epoch done; `total_iters` (images
        seen) is the step for W&B and TensorBoard.
        """
        self._to_sinks(lambda s: s.log_losses(epoch + counter_ratio, dict(losses), total_iters))

    def print_current_losses(self, epoch: int, iters: int, losses: OrderedDict[str, float], t_comp: float,
                             t_data: float) -> str:
        """Append one line to loss_log.txt and return it (the caller prints it)."""
        message = f"(epoch: {epoch}, iters: {iters}, time: {t_comp:.3f}, data: {t_data:.3f}) "
        message += " ".join(f"{name}: {value:.3f}" for name, value in losses.items())
        self._append_to_log(message)
        return message

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int, description: str) -> None:
        """Show the metrics of the evaluation after `epoch` on the console, append them to loss_log.txt and send
        them to every sink; `description` says what was evaluated (e.g. '200 val images in 41 s').
        """
        message = f"(epoch: {epoch}, iters: {total_iters}, evaluation: {description}) "
        message += " ".join(f"{name}: {value:.5g}" for name, value in values.items())
        self.log_message(message)
        self._to_sinks(lambda s: s.log_metrics(epoch, values, total_iters))

    def log_best(self, metric: str, value: float, epoch: int, saved_as: str) -> None:
        """A new best value of `metric` (train.py --save_best): log line, console and sinks."""
        self.log_message(f"best {metric} so far: {value:.5g} at epoch {epoch}; saved as {saved_as}")
        self._to_sinks(lambda s: s.show_best(metric, value, epoch))

    def restore_metrics(self, evaluations: list[dict], best: dict | None) -> None:
        """Give the training page the evaluations of a resumed run ({"epoch", "values", ...} each) and its best
        ({"metric", "value", "epoch"}), so that its metrics plot goes on from them.
        """
        if self.page is not None and evaluations:
            self.page.restore_metrics([(e["epoch"], e["values"]) for e in evaluations],
                                      None if best is None else (best["metric"], best["value"], best["epoch"]))

    def log_message(self, message: str) -> None:
        """Show a line about the run on the console and append it to loss_log.txt."""
        messages.info(message)
        self._append_to_log(message)

    def close(self) -> None:
        """Finish every sink (final page and plot, W&B run, TensorBoard file)."""
        sinks, self.sinks = self.sinks, []
        self._to_sinks(lambda s: s.close(), sinks)

    def _append_to_log(self, line: str) -> None:
        if not self.enabled or self.log_path is None:
            return
        try:
            with open(self.log_path, "a") as log:
                log.write(line + "\n")
        except OSError as err:
            self._warn_unwritable(f"the loss log '{self.log_path}'", err)
            self.log_path = None

    def _to_sinks(self, action: Callable[[Sink], None], sinks: list[Sink] | None = None) -> None:
        """Run `action` on each of `sinks` (default: all); one that cannot write warns once and is dropped, so a
        display never stops training."""
        for sink in list(self.sinks if sinks is None else sinks):
            try:
                action(sink)
            except OSError as err:
                self._warn_unwritable(sink.description, err)
                if sink in self.sinks:
                    self.sinks.remove(sink)
                if sink is self.page:
                    self.page = None

    @staticmethod
    def _warn_unwritable(what: str, err: OSError) -> None:
        messages.warn(f"cannot write {what} ({err.strerror or err}); training goes on without it")
