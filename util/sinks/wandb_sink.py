"""Weights & Biases: losses, metrics and current visuals of a run (imported only when --use_wandb asks for it)."""

from __future__ import annotations

import argparse

import numpy as np

from util.errors import UserError
from util.sinks import Sink, import_optional


class WandbSink(Sink):
    """One W&B run per training run, its files under the run folder (WANDB_MODE=offline works as usual)."""

    def __init__(self, opt: argparse.Namespace, run_dir: str) -> None:
        self.wandb = import_optional("wandb", "wandb", "--use_wandb")
        self.description = "the Weights & Biases run (--use_wandb)"
        config = {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v)
                  for k, v in vars(opt).items()}
        try:
            self.run = self.wandb.run or self.wandb.init(project=opt.wandb_project_name, name=opt.name,
                                                         config=config, dir=run_dir)
        except self.wandb.errors.Error as err:
            raise UserError(f"--use_wandb: W&B could not start a run ({err}); log in with `wandb login` "
                            "or set WANDB_MODE=offline to keep the run on disk") from None

    def show_images(self, images: dict[str, np.ndarray], epoch: int, total_iters: int) -> None:
        self.run.log({f"visuals/{label}": self.wandb.Image(image, caption=label) for label, image in images.items()}
                     | {"total_iters": total_iters})

    def log_losses(self, epoch_progress: float, losses: dict[str, float], total_iters: int) -> None:
        self.run.log({f"loss/{name}": float(value) for name, value in losses.items()}
                     | {"epoch": epoch_progress, "total_iters": total_iters})

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int) -> None:
        self.run.log({f"metric/{name}": float(value) for name, value in values.items()}
                     | {"epoch": epoch, "total_iters": total_iters})

    def show_best(self, metric: str, value: float, epoch: int) -> None:
        self.run.summary[f"best/{metric}"] = value
        self.run.summary["best/epoch"] = epoch

    def close(self) -> None:
        self.run.finish()

