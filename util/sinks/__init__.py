"""Places the Visualizer sends training progress to; each one optional and independent of the others."""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from util.errors import UserError


class Sink:
    """A destination for the current visuals, losses and evaluation metrics. Subclasses override what they show."""

    description = "a display"  # for messages: "cannot write <description> (...)"

    def show_images(self, images: dict[str, np.ndarray], epoch: int, total_iters: int) -> None:
        """The current visuals as HxWx3 uint8 arrays, keyed by visual name."""

    def log_losses(self, epoch_progress: float, losses: dict[str, float], total_iters: int) -> None:
        """The current losses; epoch_progress is the epoch plus the fraction of it done (e.g. 3.25)."""

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int) -> None:
        """The metric values of the evaluation after `epoch` (train.py --eval_freq), e.g. {'fid': 31.2}."""

    def show_best(self, metric: str, value: float, epoch: int) -> None:
        """The best value of `metric` so far and its epoch (--save_best kept that epoch's weights)."""

    def close(self) -> None:
        """Flush and release whatever the sink holds."""


def import_optional(module: str, package: str, option: str) -> ModuleType:
    """Import a package that only one option needs, or tell the user how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise UserError(f"{option} needs the '{package}' package, which cannot be imported ({err}); "
                        f"install it with `pip install {package}` or drop {option}") from None
