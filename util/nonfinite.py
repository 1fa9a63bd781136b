"""Stopping at a NaN or Inf loss without waiting for the device at every step.

Each step's losses are stacked and tested with torch.isfinite on the device; the answer is read one step later,
when the device has finished that step anyway, or at once before a save, so a save never holds weights from a
step whose loss was not finite. (--skip_nonfinite instead checks in BaseModel.optimizer_step, before updating.)
"""

from __future__ import annotations

import torch

from util.errors import UserError


class NonFiniteLossError(UserError):
    """A loss became NaN or Inf; the run stops without saving, so the last save stays the last good one."""


class NonFiniteCheck:
    """Feed it each step's losses with `add`; it raises NonFiniteLossError naming the loss, epoch and image."""

    def __init__(self) -> None:
        self.pending: tuple[list[str], torch.Tensor, int, int] | None = None

    def add(self, losses: dict[str, torch.Tensor], epoch: int, epoch_iter: int) -> None:
        """Queue this step's check and settle the previous step's."""
        previous = self.pending
        finite = torch.isfinite(torch.stack([loss.float().reshape(()) for loss in losses.values()]))
        self.pending = (list(losses), finite, epoch, epoch_iter)
        if previous is not None:
            self.settle(previous)

    def flush(self) -> None:
        """Settle the queued check now (before a save)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.settle(pending)

    @staticmethod
    def settle(check: tuple[list[str], torch.Tensor, int, int]) -> None:
        names, finite, epoch, epoch_iter = check
        if bool(finite.all()):
            return
        bad = ", ".join(name for name, ok in zip(names, finite.tolist(), strict=True) if not ok)
        raise NonFiniteLossError(f"loss {bad} is NaN or Inf in epoch {epoch} at image {epoch_iter} of the epoch; "
                                 "stopped without saving, so the last save is intact; lower --lr or check the "
                                 "data, or pass --skip_nonfinite to skip such steps")
