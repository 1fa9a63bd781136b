"""Learning-rate schedules, stepped once per epoch."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from torch.optim import Optimizer, lr_scheduler

from util.errors import choose


def linear(optimizer: Optimizer, opt: argparse.Namespace, first_epoch: int) -> lr_scheduler.LRScheduler:
    """Constant for opt.n_epochs epochs, then linear decay towards 0 over opt.n_epochs_decay epochs; a run whose
    first epoch is `first_epoch` > 1 starts at the matching point of the curve.
    """

    def factor(epoch: int) -> float:
        return 1.0 - max(0, epoch + first_epoch - opt.n_epochs) / float(opt.n_epochs_decay + 1)

    return lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)


# `--lr_policy` choices, built from (optimizer, options, first epoch of the schedule).
LR_POLICIES: dict[str, Callable[[Optimizer, argparse.Namespace, int], lr_scheduler.LRScheduler]] = {
    "linear": linear,
    # multiply by 0.1 every opt.lr_decay_iters epochs
    "step": lambda optimizer, opt, first: lr_scheduler.StepLR(optimizer, step_size=opt.lr_decay_iters, gamma=0.1),
    # multiply by 0.2 when the metric passed to step() stops improving by 1% for 5 epochs
    "plateau": lambda optimizer, opt, first: lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.2,
                                                                            threshold=0.01, patience=5),
    # one half cosine from the initial rate to 0 over all n_epochs + n_epochs_decay epochs (no restart)
    "cosine": lambda optimizer, opt, first: lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=opt.n_epochs + opt.n_epochs_decay, eta_min=0),
}


def get_scheduler(optimizer: Optimizer, opt: argparse.Namespace, first_epoch: int = 1) -> lr_scheduler.LRScheduler:
    """The schedule named by opt.lr_policy for a run whose first epoch is `first_epoch`."""
    return choose("--lr_policy", opt.lr_policy, LR_POLICIES)(optimizer, opt, first_epoch)


def step_scheduler(scheduler: lr_scheduler.LRScheduler, metric: float | None) -> None:
    """Advance a schedule by one epoch; the plateau schedule needs `metric` (e.g. the epoch's generator loss)."""
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        if metric is None:
            raise ValueError("the plateau learning-rate schedule needs a metric to step")
        scheduler.step(float(metric))
    else:
        scheduler.step()
