"""Learning-rate schedules, stepped once per epoch."""

from __future__ import annotations

import argparse

from torch.optim import Optimizer, lr_scheduler

from util.errors import unknown_name

LR_POLICIES = ("linear", "step", "plateau", "cosine")


def get_scheduler(optimizer: Optimizer, opt: argparse.Namespace) -> lr_scheduler.LRScheduler:
    """The schedule named by opt.lr_policy.

    linear:  constant for opt.n_epochs epochs, then linear decay towards 0 over opt.n_epochs_decay epochs; training
             that starts at opt.epoch_count > 1 starts at the matching point of the curve (None counts as 1
             until a resumed run sets it).
    step:    multiply by 0.1 every opt.lr_decay_iters epochs.
    plateau: multiply by 0.2 when the metric passed to step() stops improving by 1% for 5 epochs.
    cosine:  one half cosine from the initial rate to 0 over all n_epochs + n_epochs_decay epochs (no restart).
    """
    policy = opt.lr_policy
    if policy == "linear":

        def factor(epoch: int) -> float:
            first_epoch = opt.epoch_count or 1
            return 1.0 - max(0, epoch + first_epoch - opt.n_epochs) / float(opt.n_epochs_decay + 1)

        return lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)
    if policy == "step":
        return lr_scheduler.StepLR(optimizer, step_size=opt.lr_decay_iters, gamma=0.1)
    if policy == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.2, threshold=0.01, patience=5)
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=opt.n_epochs + opt.n_epochs_decay, eta_min=0)
    raise unknown_name("--lr_policy", policy, LR_POLICIES)


def step_scheduler(scheduler: lr_scheduler.LRScheduler, metric: float | None) -> None:
    """Advance a schedule by one epoch; the plateau schedule needs `metric` (e.g. the epoch's generator loss)."""
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        if metric is None:
            raise ValueError("the plateau learning-rate schedule needs a metric to step")
        scheduler.step(float(metric))
    else:
        scheduler.step()
