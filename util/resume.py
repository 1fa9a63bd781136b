"""Training state: where a run stands, saved with the weights at every save point and restored on --continue_train.

The state file `<suffix>_train_state.pth` holds plain tensors, numbers and dicts (it loads with weights_only=True):
the model's optimizers, schedulers, image pools and grad scalers (BaseModel.state_dict), the loop's Progress, the
data seed, the random-generator states and the first epoch of the learning-rate schedule.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys

import torch

from data import DatasetLoader
from models.base_model import BaseModel
from util import save_point
from util.errors import UserError
from util.reproducibility import rng_state, set_rng_state

STATE_VERSION = 1


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


def save_training(opt: argparse.Namespace, model: BaseModel, dataset: DatasetLoader, progress: Progress,
                  suffix: str | int) -> None:
    """Write save point `suffix`: the weights and everything needed to carry on exactly from here."""
    state = {
        "version": STATE_VERSION,
        "model_name": opt.model,
        "epoch_count": opt.epoch_count,
        "progress": dataclasses.asdict(progress),
        "model": model.state_dict(),
        "data_seed": dataset.seed,
        "rng": rng_state(),
    }
    save_point.write_save_point(model.save_dir, suffix, model.network_state_dicts(), state)


def resume(opt: argparse.Namespace, model: BaseModel, dataset: DatasetLoader) -> Progress:
    """Where to start: the beginning for a new run; for --continue_train the saved state, restored in full.

    Call it after model.setup() loaded the weights. Without a state file (weights from a published model or from
    the original release) training carries on from the weights alone, with a warning.
    """
    if not opt.continue_train:
        return Progress(epoch=opt.epoch_count)
    suffix = model.load_suffix()
    state = save_point.read_state(model.save_dir, suffix, model.model_names)
    path = os.path.join(model.save_dir, save_point.state_file(suffix))
    if state is None:
        opt.epoch_count = opt.epoch_count or 1
        print(f"warning: no training state '{path}': resuming from the weights alone; optimizer moments, "
              f"learning-rate schedule and counters start fresh at epoch {opt.epoch_count} "
              "(set --epoch_count to start at another)", file=sys.stderr)
        return Progress(epoch=opt.epoch_count)
    if state.get("version") != STATE_VERSION or state.get("model_name") != opt.model:
        raise UserError(f"'{path}' was saved by --model {state.get('model_name')} (state version "
                        f"{state.get('version')}), not --model {opt.model}; check --model and --name")
    progress = Progress(**state["progress"])
    restart_at = opt.epoch_count if opt.epoch_count not in (None, progress.epoch) else None
    model_state = dict(state["model"])
    if restart_at is not None:
        model_state.pop("schedulers")  # the schedules built for --epoch_count set the learning rates
    try:
        model.load_state_dict(model_state)
    except (ValueError, KeyError, RuntimeError) as err:
        raise UserError(f"training state '{path}' does not fit this model: {str(err).splitlines()[0]}; "
                        "resume with the options of the run that saved it") from err
    if restart_at is None:
        opt.epoch_count = state["epoch_count"]
    else:
        progress.start_epoch(restart_at)
    dataset.seed = state["data_seed"]
    set_rng_state(state["rng"])
    print(f"resuming from '{path}': epoch {progress.epoch}, {progress.epoch_iter} images into it, "
          f"{progress.total_iters} images in all")
    return progress


def resume_command() -> str:
    """The command line of this run, set to resume from the latest save point."""
    args = list(sys.argv)
    extra = [] if "--continue_train" in args else ["--continue_train"]
    if any(a.startswith("--epoch=") or a == "--epoch" for a in args):
        extra += ["--epoch", "latest"]
    if any(a.startswith("--load_iter") for a in args):
        extra += ["--load_iter", "0"]
    return shlex.join(["python", *args, *extra])


def stop_message(signal_name: str, progress: Progress, model: BaseModel) -> str:
    """What a stopped run prints: where it stopped, where it saved, and how to carry on."""
    return (f"stopped by {signal_name} in epoch {progress.epoch} after {progress.epoch_iter} of its images; "
            f"saved the weights and training state as 'latest' in {model.save_dir}\n"
            f"resume with: {resume_command()}")
