"""The one training loop that every model shares."""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from data import DatasetLoader
from models.base_model import BaseModel
from util.distributed import any_process, get_world_size, is_main_process
from util.interrupts import StopRequest
from util.nonfinite import NonFiniteCheck
from util.progress import progress_bar
from util.resume import resume, save_training, stop_message
from util.save_point import check_writable
from util.visualizer import Visualizer


def crossed(total: int, step: int, freq: int) -> bool:
    """True when a counter that just grew by `step` to `total` passed a multiple of `freq`."""
    return total // freq > (total - step) // freq


def train(opt: argparse.Namespace, dataset: DatasetLoader, model: BaseModel, visualizer: Visualizer) -> None:
    """Run the epochs up to n_epochs + n_epochs_decay from where the run stands (see util/resume.py), logging,
    displaying and saving at the frequencies. SIGINT or SIGTERM ends it after the current step with a save.
    """
    if is_main_process():
        check_writable(model.save_dir)
    progress = resume(opt, model, dataset)
    train_start, first_epoch = time.time(), progress.epoch
    last_epoch = opt.n_epochs + opt.n_epochs_decay
    if progress.epoch > last_epoch and is_main_process():
        print(f"nothing to train: all {last_epoch} epochs are done; raise --n_epochs or --n_epochs_decay to go on")
    nonfinite = NonFiniteCheck()

    def save(suffix: str | int) -> None:
        nonfinite.flush()
        if is_main_process():
            save_training(opt, model, dataset, progress, suffix)

    with StopRequest() as stop:
        while progress.epoch <= last_epoch:
            epoch = progress.epoch
            epoch_start = time.time()
            dataset.set_epoch(epoch, progress.position)
            model.train()
            bar = progress_bar(len(dataset), f"epoch {epoch}/{last_epoch}", "img", enabled=is_main_process(),
                               initial=progress.epoch_iter)
            try:
                data_start = time.time()
                for batch in dataset:
                    step_start = time.time()
                    batch_size = len(batch["A"]) * get_world_size()  # images seen by all processes together
                    progress.total_iters += batch_size
                    progress.epoch_iter += batch_size
                    progress.position = dataset.position
                    skipped_before = model.skipped_steps
                    model.set_input(batch)
                    model.optimize_parameters()
                    progress.epoch_skips += model.skipped_steps - skipped_before
                    if not opt.skip_nonfinite:
                        nonfinite.add(model.loss_tensors(), epoch, progress.epoch_iter)

                    progress.add_metric(model.lr_metric() if opt.lr_policy == "plateau" else None)
                    if crossed(progress.total_iters, batch_size, opt.display_freq):
                        model.compute_visuals()
                        visualizer.display_current_results(
                            model.get_current_visuals(), epoch, progress.total_iters,
                            crossed(progress.total_iters, batch_size, opt.update_html_freq))
                    if crossed(progress.total_iters, batch_size, opt.print_freq):
                        losses = model.get_current_losses()
                        t_comp, t_data = (time.time() - step_start) / batch_size, step_start - data_start
                        message = visualizer.print_current_losses(epoch, progress.epoch_iter, losses, t_comp, t_data)
                        visualizer.plot_current_losses(epoch, progress.epoch_iter / len(dataset), losses,
                                                       progress.total_iters)
                        bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                        if opt.verbose:
                            tqdm.write(message)
                    if crossed(progress.total_iters, batch_size, opt.save_latest_freq):
                        save(f"iter_{progress.total_iters}" if opt.save_by_iter else "latest")
                    bar.update(batch_size)
                    if any_process(bool(stop), model.device):  # every process stops after the same step
                        break
                    data_start = time.time()
            finally:
                bar.close()
            if any_process(bool(stop), model.device):
                save("latest")
                if is_main_process():
                    print(stop_message(stop.signal_name or "a stop signal in another process", progress, model))
                return

            nonfinite.flush()
            if progress.epoch_skips:
                log_skips(visualizer, epoch, progress.epoch_skips, model.skipped_steps)
            model.update_learning_rate(progress.mean_metric())
            progress.start_epoch(epoch + 1)
            if epoch % opt.save_epoch_freq == 0 or epoch == last_epoch:
                save("latest")
                save(epoch)
            if is_main_process():
                print(f"end of epoch {epoch} / {last_epoch} \t time taken: {time.time() - epoch_start:.0f} s")
    if is_main_process():
        print(f"finished training: epochs {first_epoch}-{last_epoch}, {progress.total_iters} images in "
              f"{time.time() - train_start:.0f} s; checkpoints in {model.save_dir}")


def log_skips(visualizer: Visualizer, epoch: int, skips: int, total: int) -> None:
    """Report the steps skipped for non-finite losses (--skip_nonfinite) on the console and in loss_log.txt."""
    message = f"epoch {epoch}: skipped {skips} optimizer step(s) with a NaN or Inf loss ({total} in the run)"
    tqdm.write(message)
    if is_main_process():
        with open(visualizer.log_path, "a") as log:
            log.write(message + "\n")
