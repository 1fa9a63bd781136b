"""The one training loop that every model shares."""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from data import DatasetLoader
from models.base_model import BaseModel
from util.distributed import get_world_size, is_main_process
from util.visualizer import Visualizer


def crossed(total: int, step: int, freq: int) -> bool:
    """True when a counter that just grew by `step` to `total` passed a multiple of `freq`."""
    return total // freq > (total - step) // freq


def train(opt: argparse.Namespace, dataset: DatasetLoader, model: BaseModel, visualizer: Visualizer) -> None:
    """Run epochs epoch_count .. n_epochs + n_epochs_decay, logging, displaying and saving at the frequencies."""
    total_iters = 0
    last_epoch = opt.n_epochs + opt.n_epochs_decay
    for epoch in range(opt.epoch_count, last_epoch + 1):
        epoch_start = time.time()
        dataset.set_epoch(epoch)
        model.train()
        epoch_iter = 0
        metric_sum, metric_count = None, 0
        bar = tqdm(total=len(dataset), desc=f"epoch {epoch}/{last_epoch}", unit="img", disable=not is_main_process(),
                   dynamic_ncols=True, leave=False)
        try:
            data_start = time.time()
            for batch in dataset:
                step_start = time.time()
                batch_size = len(batch["A"]) * get_world_size()  # images seen by all processes together
                total_iters += batch_size
                epoch_iter += batch_size
                model.set_input(batch)
                model.optimize_parameters()

                metric = model.lr_metric() if opt.lr_policy == "plateau" else None
                if metric is not None:
                    metric_sum = metric if metric_sum is None else metric_sum + metric
                    metric_count += 1
                if crossed(total_iters, batch_size, opt.display_freq):
                    model.compute_visuals()
                    visualizer.display_current_results(model.get_current_visuals(), epoch, total_iters,
                                                       crossed(total_iters, batch_size, opt.update_html_freq))
                if crossed(total_iters, batch_size, opt.print_freq):
                    losses = model.get_current_losses()
                    t_comp, t_data = (time.time() - step_start) / batch_size, step_start - data_start
                    message = visualizer.print_current_losses(epoch, epoch_iter, losses, t_comp, t_data)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                    if opt.verbose:
                        tqdm.write(message)
                if crossed(total_iters, batch_size, opt.save_latest_freq) and is_main_process():
                    model.save_networks(f"iter_{total_iters}" if opt.save_by_iter else "latest")
                bar.update(batch_size)
                data_start = time.time()
        finally:
            bar.close()

        if is_main_process() and (epoch % opt.save_epoch_freq == 0 or epoch == last_epoch):
            model.save_networks("latest")
            model.save_networks(epoch)
        mean_metric = float(metric_sum / metric_count) if metric_count else None
        model.update_learning_rate(mean_metric)
        if is_main_process():
            print(f"end of epoch {epoch} / {last_epoch} \t time taken: {time.time() - epoch_start:.0f} s")
