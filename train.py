"""Train an image-to-image translation model: python train.py --dataroot DIR --name RUN --model pix2pix ...

Several GPUs or machines: torchrun --nproc_per_node=N train.py ... (see README, multi-GPU training).

The whole training loop is in this file, top to bottom: `main` wires the parts, `prepare` builds the model's
data-dependent parts and resumes a saved run, `train` runs the epochs (a step, logging, display, save points, the
schedule, evaluation, stop signals), `evaluate` scores the model on a held-out split (its machinery is in
train_evaluation.py, beside this file), `save` writes a save point. The model (models/), the data (data/), the
metrics (metrics/) and the options (options/) know nothing of it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time

import torch

from data import DatasetLoader, create_dataset
from data.checks import check_channels, find_unusable_images
from metrics import metric_info
from models import create_model, load_networks, networks, prepare_to_run
from models.base_model import BaseModel
from options.train_options import TrainOptions
from train_evaluation import HeldOutEvaluation
from util import checkpoint, distributed, messages
from util.allocator import keep_freed_memory
from util.errors import UserError, exit_on_user_error
from util.interrupts import StopRequest, resume_command
from util.nonfinite import NonFiniteCheck
from util.progress import progress_bar
from util.reproducibility import choose_cudnn_kernels, rng_state, seed_everything, set_rng_state
from util.threads import warn_if_oversubscribed
from util.visualizer import Visualizer

STATE_VERSION = 1  # of the training-state files written by `save` (later additions are optional keys)


@dataclasses.dataclass
class Progress:
    """Where the run stands: the epoch under way, how far into it, and the counters the loop keeps."""

    epoch: int  # the epoch under way, or about to start
    position: int = 0  # batches of this epoch done
    epoch_iter: int = 0  # images of this epoch done
    total_iters: int = 0  # images since the run began
    metric_sum: torch.Tensor | None = None  # plateau schedule: sum of this epoch's generator losses
    metric_count: int = 0
    epoch_skips: int = 0  # steps of this epoch skipped for a non-finite loss

    def start_epoch(self, epoch: int) -> None:
        """Move to the beginning of `epoch`."""
        self.epoch, self.position, self.epoch_iter = epoch, 0, 0
        self.metric_sum, self.metric_count, self.epoch_skips = None, 0, 0

    def add_metric(self, metric: torch.Tensor | None) -> None:
        if metric is not None:
            self.metric_sum = metric if self.metric_sum is None else self.metric_sum + metric
            self.metric_count += 1

    def mean_metric(self) -> float | None:
        return float(self.metric_sum / self.metric_count) if self.metric_count else None


@dataclasses.dataclass
class Run:
    """What the loop carries besides the model: where the run stands and the first epoch of its schedule."""

    progress: Progress
    first_epoch: int  # the epoch at which the learning-rate schedule starts (--epoch_count)
    folder: str  # <checkpoints_dir>/<name>
    state_path: str | None = None  # the training-state file the run resumed from
    schedule_change: str | None = None  # how the schedule options differ from the resumed run's (then rebuilt)
    rng_state: dict | None = None  # the random generators' states saved with the resumed run
    # --eval_freq: every evaluation so far, {"epoch", "total_iters", "values"}; --save_best: {"metric", "value",
    # "epoch"} of the weights saved as 'best'. Both are saved with the training state and come back on resume.
    evaluations: list[dict] = dataclasses.field(default_factory=list)
    best: dict | None = None


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    keep_freed_memory()
    distributed.silence_other_processes()
    options = TrainOptions()
    opt = options.parse(argv)
    if distributed.is_main_process():
        checkpoint.check_writable(os.path.join(opt.checkpoints_dir, opt.name))
    seed_everything(opt.seed)
    distributed.init_process_group(opt.device)
    choose_cudnn_kernels(opt.device, opt.seed, fixed_input_size="scale_width" not in opt.preprocess)
    warn_if_oversubscribed(opt.device.type)
    dataset = create_dataset(opt)
    if opt.check_data:
        check_data(opt, dataset)
    model = create_model(opt)
    run = prepare(opt, dataset, model)
    # The run really starts: only now does its folder get the options, the log and the displays.
    options.save_options(opt)
    visualizer = Visualizer(opt)
    try:
        train(opt, dataset, model, run, visualizer)
    finally:
        visualizer.close()
    # Only a finished run leaves the group politely; a failing process just exits and torchrun stops the others.
    distributed.destroy_process_group()


def prepare(opt: argparse.Namespace, dataset: DatasetLoader, model: BaseModel) -> Run:
    """Make the model ready to train: parts built from the first batch, the saved run restored (--continue_train),
    schedules and scalers for every optimizer, then compilation and DDP. Returns where the loop starts.

    The random generators are restored when the loop starts (`train`), so that the resumed loop draws exactly what the
    interrupted one would whatever happens in between.
    """
    folder = os.path.join(opt.checkpoints_dir, opt.name)
    batch = dataset.first_batch()
    check_channels(opt, batch)
    model.data_dependent_initialize(batch)
    if opt.continue_train:
        run, state = resume(opt, dataset, model, folder)
    else:
        run, state = Run(Progress(epoch=opt.epoch_count), opt.epoch_count, folder), None
    model.setup(run.first_epoch)
    if run.schedule_change:  # the new options' schedule, moved on to the epoch the run resumes in
        for scheduler in model.schedulers:
            networks.advance_scheduler(scheduler, run.progress.epoch - run.first_epoch)
    if state is not None:
        restore(model, state, run.state_path)
    if run.schedule_change and model.optimizers:
        messages.info(f"the learning-rate schedule options differ from the saved run's ({run.schedule_change}): "
                      f"schedule rebuilt for them at epoch {run.progress.epoch}, learning rate "
                      f"{model.optimizers[0].param_groups[0]['lr']:.7f}")
    prepare_to_run(model, opt, ddp=True)
    if state is not None:
        run.rng_state = state["rng"]
    return run


def train(opt: argparse.Namespace, dataset: DatasetLoader, model: BaseModel, run: Run,
          visualizer: Visualizer) -> None:
    """Run the epochs up to n_epochs + n_epochs_decay from where the run stands, logging, displaying, evaluating
    (--eval_freq) and saving at the frequencies. SIGINT or SIGTERM ends it after the current step with a save.
    """
    progress = run.progress
    if run.rng_state is not None:
        set_rng_state(run.rng_state)
    train_start, first_epoch = time.time(), progress.epoch
    last_epoch = opt.n_epochs + opt.n_epochs_decay
    if progress.epoch > last_epoch:
        messages.info(f"nothing to train: all {last_epoch} epochs are done; raise --n_epochs or --n_epochs_decay "
                      "to go on")
        return
    nonfinite = NonFiniteCheck()
    held_out = HeldOutEvaluation(opt, model) if opt.eval_freq else None
    visualizer.restore_metrics(run.evaluations, run.best)  # a resumed run's page goes on from its history
    with StopRequest() as stop:
        while progress.epoch <= last_epoch:
            epoch = progress.epoch
            epoch_start = time.time()
            dataset.set_epoch(epoch, progress.position)
            model.train()
            bar = progress_bar(len(dataset), f"epoch {epoch}/{last_epoch}", "img",
                               enabled=distributed.is_main_process(), initial=progress.epoch_iter)
            try:
                data_start = time.time()
                for batch in dataset:
                    # one step
                    step_start = time.time()
                    batch_size = len(batch["A"]) * distributed.get_world_size()  # images of all processes together
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

                    # display, log and save at their frequencies
                    if crossed(progress.total_iters, batch_size, opt.display_freq):
                        model.compute_visuals()
                        visualizer.display_current_results(
                            model.get_current_visuals(), epoch,
                            crossed(progress.total_iters, batch_size, opt.update_html_freq), progress.total_iters)
                    if crossed(progress.total_iters, batch_size, opt.print_freq):
                        losses = model.get_current_losses()
                        t_comp, t_data = (time.time() - step_start) / batch_size, step_start - data_start
                        message = visualizer.print_current_losses(epoch, progress.epoch_iter, losses, t_comp, t_data)
                        visualizer.plot_current_losses(epoch, progress.epoch_iter / len(dataset), losses,
                                                       progress.total_iters)
                        bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                        if opt.verbose:
                            messages.info(message)
                    if crossed(progress.total_iters, batch_size, opt.save_latest_freq):
                        nonfinite.flush()
                        save(opt, model, dataset, run, checkpoint.iter_suffix(progress.total_iters) if opt.save_by_iter
                             else "latest")
                    bar.update(batch_size)
                    if distributed.any_process(bool(stop), model.device):  # every process stops after the same step
                        break
                    data_start = time.time()
            finally:
                bar.close()

            # a stop signal: save where the run stands and leave
            if distributed.any_process(bool(stop), model.device):
                nonfinite.flush()
                save(opt, model, dataset, run, "latest")
                messages.info(stop_message(stop.signal_name or "a stop signal in another process", progress, run))
                return

            # the end of an epoch: the schedule steps, the evaluation, then the epoch's save point
            nonfinite.flush()
            if progress.epoch_skips:
                visualizer.log_message(f"epoch {epoch}: skipped {progress.epoch_skips} optimizer step(s) with a NaN "
                                       f"or Inf loss ({model.skipped_steps} in the run)")
            metric = progress.mean_metric()  # the plateau schedule's; every process must decide alike
            model.update_learning_rate(None if metric is None else distributed.mean_over_processes(metric, opt.device))
            progress.start_epoch(epoch + 1)
            if held_out is not None and (epoch % opt.eval_freq == 0 or epoch == last_epoch):
                evaluate(opt, model, dataset, run, visualizer, held_out, epoch)
            if epoch % opt.save_epoch_freq == 0 or epoch == last_epoch:
                save(opt, model, dataset, run, "latest", epoch)
            messages.info(f"end of epoch {epoch} / {last_epoch} \t time taken: {time.time() - epoch_start:.0f} s")
    messages.info(f"finished training: epochs {first_epoch}-{last_epoch}, {progress.total_iters} images in "
                  f"{time.time() - train_start:.0f} s; checkpoints in {run.folder}")


def check_data(opt: argparse.Namespace, dataset: DatasetLoader) -> None:
    """--check_data: load every sample before training and list all unusable images at once; stop if there are
    any (with --skip_bad_images, unreadable files are listed as a warning and skipped).
    """
    samples = len(dataset.dataset)
    messages.info(f"checking the {samples} samples of the dataset (--check_data) ...")
    problems = find_unusable_images(dataset.dataset, networks.input_size_multiple(opt.netG),
                                    same_size=opt.batch_size > 1, num_workers=opt.num_threads)
    if not problems:
        messages.info(f"checked {samples} samples: every image can be used")
        return
    listing = "\n".join(f"  {problem.path}: {problem.reason}" for problem in problems)
    if opt.skip_bad_images and all(problem.skippable for problem in problems):
        messages.warn(f"{len(problems)} image file(s) of {samples} samples cannot be read and will be skipped "
                      f"(--skip_bad_images):\n{listing}")
        return
    if distributed.is_main_process():
        print(f"unusable images:\n{listing}", file=sys.stderr)
    raise UserError(f"--check_data: {len(problems)} image file(s) of {samples} samples cannot be used (listed "
                    "above); fix or remove them" + ("" if opt.skip_bad_images else
                                                   ", or pass --skip_bad_images to skip the unreadable ones"))


def crossed(total: int, step: int, freq: int) -> bool:
    """True when a counter that just grew by `step` to `total` passed a multiple of `freq`."""
    return total // freq > (total - step) // freq


def evaluate(opt: argparse.Namespace, model: BaseModel, dataset: DatasetLoader, run: Run, visualizer: Visualizer,
             held_out: HeldOutEvaluation, epoch: int) -> None:
    """Score the model after `epoch` on the held-out split (the main process does; the others wait), log the values
    everywhere, add them to the run's history and, with --save_best, save a new best as the save point 'best'.
    """
    result = held_out.evaluate(model)
    if result is None:  # not the main process
        return
    values, description = result
    run.evaluations.append({"epoch": epoch, "total_iters": run.progress.total_iters, "values": values})
    visualizer.log_metrics(epoch, values, run.progress.total_iters, description)
    if opt.save_best and improves(opt.save_best, values[opt.save_best], run.best):
        run.best = {"metric": opt.save_best, "value": values[opt.save_best], "epoch": epoch}
        save(opt, model, dataset, run, "best")
        visualizer.log_best(opt.save_best, values[opt.save_best], epoch,
                            f"{checkpoint.network_file('best', '*')} in {run.folder}")


def improves(metric: str, value: float, best: dict | None) -> bool:
    """Whether `value` of `metric` beats the best so far (a NaN never does)."""
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value > best["value"] if metric_info(metric).higher_is_better else value < best["value"]


def save(opt: argparse.Namespace, model: BaseModel, dataset: DatasetLoader, run: Run, *suffixes: str | int) -> None:
    """Write save points `suffixes` (main process only), each with the weights and everything needed to carry on
    exactly; the state is gathered once for all of them."""
    if not distributed.is_main_process():
        return
    state = {
        "version": STATE_VERSION,
        "model_name": opt.model,
        "epoch_count": run.first_epoch,
        "schedule": networks.schedule_options(opt),
        "progress": dataclasses.asdict(run.progress),
        "model": model.state_dict(),
        "data_seed": dataset.seed,
        "rng": rng_state(),
        "evaluations": run.evaluations,
        "best": run.best,
    }
    weights = model.network_state_dicts()
    for suffix in suffixes:
        checkpoint.write_save_point(run.folder, suffix, weights, state)
        if suffix not in ("latest", "best"):
            checkpoint.prune_states(run.folder, opt.keep_state, suffix)


def resume(opt: argparse.Namespace, dataset: DatasetLoader, model: BaseModel, folder: str
           ) -> tuple[Run, dict | None]:
    """Load the weights of the save point to resume from, and read its training state (None when it has none:
    weights of a published model or of the original release, from which training starts afresh with a warning).

    Returns where the loop starts and the state for `restore`. With an explicit --epoch_count other than the saved
    epoch, training starts at the beginning of that epoch with the schedule recomputed for it. When the schedule
    options differ from the saved run's (e.g. more epochs to extend a finished run), the schedule is rebuilt for
    them at the saved epoch (`prepare` does it); with the same options it carries on exactly as saved.
    """
    suffix = checkpoint.load_suffix(opt.epoch, opt.load_iter)
    load_networks(model, folder, suffix)
    path = os.path.join(folder, checkpoint.state_file(suffix))
    state = checkpoint.read_state(folder, suffix, model.model_names)
    if state is None:
        first_epoch = opt.epoch_count or 1
        messages.warn(f"no training state '{path}': resuming from the weights alone; optimizer moments, "
                      f"learning-rate schedule and counters start fresh at epoch {first_epoch} "
                      "(set --epoch_count to start at another)")
        return Run(Progress(epoch=first_epoch), first_epoch, folder), None
    if state.get("version") != STATE_VERSION or state.get("model_name") != opt.model:
        raise UserError(f"'{path}' was saved by --model {state.get('model_name')} (state version "
                        f"{state.get('version')}), not --model {opt.model}; check --model and --name")
    progress = Progress(**state["progress"])
    if opt.epoch_count in (None, progress.epoch):
        first_epoch = state["epoch_count"]
        schedule_change = schedule_difference(state, opt, progress.epoch)
        new_schedule = schedule_change is not None
    else:
        first_epoch, schedule_change, new_schedule = opt.epoch_count, None, True
        progress.start_epoch(first_epoch)
    if new_schedule:  # the schedule is built for the options, not restored
        state = {**state, "model": {k: v for k, v in state["model"].items() if k != "schedulers"}}
    dataset.seed = state["data_seed"]
    messages.info(f"resuming from '{path}': epoch {progress.epoch}, {progress.epoch_iter} images into it, "
                  f"{progress.total_iters} images in all")
    best = state.get("best")
    if best is not None and best["metric"] != opt.save_best:
        best = None  # another --save_best metric (or none): its best starts afresh
    return Run(progress, first_epoch, folder, path, schedule_change, evaluations=state.get("evaluations", []),
               best=best), state


def schedule_difference(state: dict, opt: argparse.Namespace, epoch: int) -> str | None:
    """How the schedule options differ from those of the run that saved `state`, e.g. 'n_epochs 2 -> 4'; None
    when they are the same (the saved schedule then carries on exactly).

    State files written before the options were recorded do not say: their schedule carries on, unless it has
    run down to a learning rate of 0 with epochs still to train (a finished run being extended).
    """
    saved, current = state.get("schedule"), networks.schedule_options(opt)
    if saved is None:
        rates = [lr for scheduler in state["model"].get("schedulers", []) for lr in scheduler.get("_last_lr", [])]
        if rates and all(lr == 0 for lr in rates) and epoch <= opt.n_epochs + opt.n_epochs_decay:
            return "the saved schedule ended at learning rate 0"
        return None
    if saved == current:
        return None
    return ", ".join(f"{key} {saved.get(key, '-')} -> {current.get(key, '-')}"
                     for key in dict.fromkeys([*saved, *current]) if saved.get(key) != current.get(key))


def restore(model: BaseModel, state: dict, path: str) -> None:
    """Put the model's saved training state back: optimizers, schedules, image pools, grad scalers."""
    try:
        model.load_state_dict(state["model"])
    except (ValueError, KeyError, RuntimeError) as err:
        raise UserError(f"training state '{path}' does not fit this model: {str(err).splitlines()[0]}; "
                        "resume with the options of the run that saved it") from err


def stop_message(signal_name: str, progress: Progress, run: Run) -> str:
    """What a stopped run prints: where it stopped, where it saved, and how to carry on."""
    return (f"stopped by {signal_name} in epoch {progress.epoch} after {progress.epoch_iter} of its images; "
            f"saved the weights and training state as 'latest' in {run.folder}\n"
            f"resume with: {resume_command()}")


if __name__ == "__main__":
    main()
