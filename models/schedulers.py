"""Learning-rate schedules, stepped once per epoch."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch.optim import Optimizer, lr_scheduler

from util.errors import choose


def linear(optimizer: Optimizer, opt: argparse.Namespace, first_epoch: int) -> lr_scheduler.LRScheduler:
    """Constant for opt.n_epochs epochs, then linear decay towards 0 over opt.n_epochs_decay epochs; a run whose
    first epoch is `first_epoch` > 1 starts at the matching point of the curve.
    """

    def factor(epoch: int) -> float:
        return 1.0 - max(0, epoch + first_epoch - opt.n_epochs) / float(opt.n_epochs_decay + 1)

    return lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)


@dataclass(frozen=True)
class Policy:
    """A `--lr_policy` choice: how to build it from (optimizer, options, first epoch of the schedule), and the
    options besides --lr that shape its curve (a resumed run whose values differ gets the schedule rebuilt).
    """

    build: Callable[[Optimizer, argparse.Namespace, int], lr_scheduler.LRScheduler]
    options: tuple[str, ...]


LR_POLICIES: dict[str, Policy] = {
    "linear": Policy(linear, ("n_epochs", "n_epochs_decay")),
    # multiply by 0.1 every opt.lr_decay_iters epochs
    "step": Policy(lambda optimizer, opt, first: lr_scheduler.StepLR(optimizer, step_size=opt.lr_decay_iters,
                                                                     gamma=0.1), ("lr_decay_iters",)),
    # multiply by 0.2 when the metric passed to step() stops improving by 1% for 5 epochs
    "plateau": Policy(lambda optimizer, opt, first: lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=0.2, threshold=0.01, patience=5), ()),
    # one half cosine from the initial rate to 0 over all n_epochs + n_epochs_decay epochs (no restart)
    "cosine": Policy(lambda optimizer, opt, first: lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=opt.n_epochs + opt.n_epochs_decay, eta_min=0), ("n_epochs", "n_epochs_decay")),
}


def get_scheduler(optimizer: Optimizer, opt: argparse.Namespace, first_epoch: int = 1) -> lr_scheduler.LRScheduler:
    """The schedule named by opt.lr_policy for a run whose first epoch is `first_epoch`."""
    return choose("--lr_policy", opt.lr_policy, LR_POLICIES).build(optimizer, opt, first_epoch)


def schedule_options(opt: argparse.Namespace) -> dict[str, Any]:
    """The options that shape the learning-rate curve: --lr_policy, --lr and those the policy reads."""
    policy = choose("--lr_policy", opt.lr_policy, LR_POLICIES)
    return {"lr_policy": opt.lr_policy, "lr": opt.lr, **{name: getattr(opt, name) for name in policy.options}}


def step_scheduler(scheduler: lr_scheduler.LRScheduler, metric: float | None) -> None:
    """Advance a schedule by one epoch; the plateau schedule needs `metric` (e.g. the epoch's generator loss)."""
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        if metric is None:
            raise ValueError("the plateau learning-rate schedule needs a metric to step")
        scheduler.step(float(metric))
    else:
        scheduler.step()


def advance_scheduler(scheduler: lr_scheduler.LRScheduler, epochs: int) -> None:
    """Step a new schedule through `epochs` epochs, as if it had run from its first epoch; the plateau schedule,
    which depends on the losses it watched, stays where it starts.
    """
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        return
    with warnings.catch_warnings():  # no optimizer step happens in between, on purpose
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
        for _ in range(epochs):
            scheduler.step()
