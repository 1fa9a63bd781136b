"""TensorBoard: losses and metrics as scalars, current visuals as images, in <checkpoints_dir>/<name>/tensorboard/."""

from __future__ import annotations

import os

import numpy as np

from util.sinks import Sink, import_optional


class TensorBoardSink(Sink):
    """Writes an event file that `tensorboard --logdir <checkpoints_dir>/<name>/tensorboard` shows."""

    def __init__(self, run_dir: str) -> None:
        import_optional("tensorboard", "tensorboard", "--use_tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = os.path.join(run_dir, "tensorboard")
        self.description = f"the TensorBoard log in '{self.log_dir}'"
        self.writer = SummaryWriter(log_dir=self.log_dir)

    def show_images(self, images: dict[str, np.ndarray], epoch: int, total_iters: int) -> None:
        for label, image in images.items():
            self.writer.add_image(f"visuals/{label}", image, total_iters, dataformats="HWC")

    def log_losses(self, epoch_progress: float, losses: dict[str, float], total_iters: int) -> None:
        for name, value in losses.items():
            self.writer.add_scalar(f"loss/{name}", float(value), total_iters)
        self.writer.add_scalar("epoch", epoch_progress, total_iters)

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int) -> None:
        for name, value in values.items():
            self.writer.add_scalar(f"metric/{name}", float(value), total_iters)

    def close(self) -> None:
        self.writer.close()
