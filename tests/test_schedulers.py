"""Learning-rate schedules: the lr used in each epoch, for every policy."""

from __future__ import annotations

import argparse
import math

import pytest
import torch

from models.networks import LR_POLICIES, get_scheduler, step_scheduler
from util.errors import UserError


def make(policy: str, **fields: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    opt = argparse.Namespace(lr_policy=policy, n_epochs=3, n_epochs_decay=4, lr_decay_iters=2)
    first_epoch = fields.pop("epoch_count", 1)
    vars(opt).update(fields)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return optimizer, get_scheduler(optimizer, opt, first_epoch)


def end_epoch(optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
              metric: float | None = None) -> None:
    """An epoch's optimizer steps happen before the schedule steps (PyTorch warns otherwise)."""
    optimizer.step()
    step_scheduler(scheduler, metric)


def lr_per_epoch(policy: str, epochs: int, metrics: list[float] | None = None, **fields: int) -> list[float]:
    """The lr each epoch trains with, stepping the schedule at every epoch's end as the train loop does."""
    optimizer, scheduler = make(policy, **fields)
    lrs = []
    for epoch in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        end_epoch(optimizer, scheduler, metrics[epoch] if metrics else None)
    return lrs


def test_linear_holds_then_decays():
    assert lr_per_epoch("linear", 7) == pytest.approx([1, 1, 1, 0.8, 0.6, 0.4, 0.2])


def test_linear_resumed_at_a_later_epoch_count():
    # Epochs 3..7 of the same curve as above.
    assert lr_per_epoch("linear", 5, epoch_count=3) == pytest.approx([1, 0.8, 0.6, 0.4, 0.2])


def test_step_divides_by_ten_every_lr_decay_iters():
    assert lr_per_epoch("step", 6) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_cosine_spans_all_epochs_without_restart():
    optimizer, scheduler = make("cosine")
    total = 3 + 4
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        end_epoch(optimizer, scheduler)
    assert lrs == pytest.approx([0.5 * (1 + math.cos(math.pi * e / total)) for e in range(total)])
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_plateau_reduces_only_after_a_flat_stretch():
    improving = [1.0 * 0.9**e for e in range(12)]
    assert lr_per_epoch("plateau", 12, improving) == pytest.approx([1.0] * 12)
    flat = lr_per_epoch("plateau", 12, [1.0] * 12)
    # First epoch sets the best value; after more than 5 epochs without a 1% improvement the lr drops by 0.2.
    assert flat == pytest.approx([1.0] * 7 + [0.2] * 5)


def test_plateau_needs_a_metric():
    _, scheduler = make("plateau")
    with pytest.raises(ValueError, match="metric"):
        step_scheduler(scheduler, None)


def test_plateau_accepts_a_tensor_metric():
    _, scheduler = make("plateau")
    step_scheduler(scheduler, torch.tensor(0.5))
    assert scheduler.best == pytest.approx(0.5)


def test_schedules_resume_from_their_state_dict():
    optimizer, scheduler = make("linear")
    for _ in range(4):
        end_epoch(optimizer, scheduler)
    resumed_optimizer, resumed = make("linear")
    resumed.load_state_dict(scheduler.state_dict())
    end_epoch(optimizer, scheduler)
    end_epoch(resumed_optimizer, resumed)
    assert resumed_optimizer.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"]) == 0.4


def test_unknown_policy_lists_the_policies():
    with pytest.raises(UserError) as info:
        make("exponential")
    assert all(policy in str(info.value) for policy in LR_POLICIES)
