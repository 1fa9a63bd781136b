"""Visualizer: losses to the console and loss_log.txt, current images to the training HTML page."""

from __future__ import annotations

import argparse
import os
import time
from collections import OrderedDict

import torch

from util import html, util
from util.distributed import is_main_process


class Visualizer:
    """Shows and records training progress; does nothing outside the main process."""

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.enabled = is_main_process()
        self.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        self.log_path = os.path.join(self.run_dir, "loss_log.txt")
        self.use_html = self.enabled and opt.isTrain and not opt.no_html
        self.web_dir = os.path.join(self.run_dir, "web")
        self.html_epochs: list[int] = []
        if not self.enabled:
            return
        os.makedirs(self.run_dir, exist_ok=True)
        with open(self.log_path, "a") as log:
            log.write(f"================ Training Loss ({time.strftime('%c')}) ================\n")

    def display_current_results(self, visuals: OrderedDict[str, torch.Tensor], epoch: int, total_iters: int,
                                save_result: bool) -> None:
        """Save the current visuals as this epoch's images and update the training page."""
        if not (self.use_html and save_result):
            return
        img_dir = os.path.join(self.web_dir, "images")
        os.makedirs(img_dir, exist_ok=True)
        for label, image in visuals.items():
            util.save_image(util.tensor2im(image), os.path.join(img_dir, f"epoch{epoch:03d}_{label}.png"))
        if epoch not in self.html_epochs:
            self.html_epochs.append(epoch)
        page = html.HTML(self.web_dir, f"Experiment name = {self.opt.name}", refresh=0)
        for shown in sorted(self.html_epochs, reverse=True):
            page.add_header(f"epoch [{shown}]")
            names = [f"epoch{shown:03d}_{label}.png" for label in visuals]
            page.add_images(names, list(visuals), names, width=self.opt.display_winsize)
        page.save()

    def print_current_losses(self, epoch: int, iters: int, losses: OrderedDict[str, float], t_comp: float,
                             t_data: float) -> str:
        """Append one line to loss_log.txt and return it (the caller prints it)."""
        message = f"(epoch: {epoch}, iters: {iters}, time: {t_comp:.3f}, data: {t_data:.3f}) "
        message += " ".join(f"{name}: {value:.3f}" for name, value in losses.items())
        if self.enabled:
            with open(self.log_path, "a") as log:
                log.write(message + "\n")
        return message
