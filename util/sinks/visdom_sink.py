"""Live display in a visdom server: a grid of the current visuals, a line plot of every loss over epochs, and one
of the evaluation metrics (train.py --eval_freq)."""

from __future__ import annotations

import argparse
import logging
import socket
from urllib.parse import urlparse

import numpy as np
from PIL import Image

from util import messages
from util.sinks import Sink, import_optional


def start_command(port: int) -> str:
    return f"python -m visdom.server -p {port}"


def reachable(server: str, port: int, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to the server opens within `timeout` seconds (visdom's client would wait longer)."""
    host = urlparse(server if "://" in server else f"http://{server}").hostname or "localhost"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class VisdomSink(Sink):
    """Sends to visdom windows `<display_id>` (losses) and `<display_id + 1>` (images), as the original did, and
    `<display_id + 2>` (metrics, one point per evaluation).

    If the server cannot be reached, at the start or later, it warns once with the command that starts a server
    and stops sending; training is never held up by it.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        visdom = import_optional("visdom", "visdom", "--display_id")
        logging.getLogger("visdom").setLevel(logging.ERROR)  # its connection chatter, not ours to show
        self.name = opt.name
        self.ncols = opt.display_ncols
        self.port = opt.display_port
        self.address = f"{opt.display_server}:{opt.display_port}"
        self.description = f"to the visdom server at {self.address}"
        self.loss_win = str(opt.display_id)
        self.image_win = str(opt.display_id + 1)
        self.metric_win = str(opt.display_id + 2)
        self.loss_names: list[str] | None = None
        self.metric_names: list[str] | None = None
        self.vis = None
        if not reachable(opt.display_server, opt.display_port):
            self._give_up()
            return
        try:
            self.vis = visdom.Visdom(server=opt.display_server, port=opt.display_port, env=opt.display_env,
                                     raise_exceptions=True, use_incoming_socket=False)
            if not self.vis.check_connection():
                self._give_up()
        except (ConnectionError, OSError):
            self._give_up()

    def _give_up(self) -> None:
        self.vis = None
        messages.warn(f"cannot reach the visdom server at {self.address}; start one with "
                      f"`{start_command(self.port)}` to watch training there (training goes on without it)")

    def show_images(self, images: dict[str, np.ndarray], epoch: int, total_iters: int) -> None:
        if self.vis is None:
            return
        first = next(iter(images.values()))
        size = (first.shape[1], first.shape[0])
        grid = [np.asarray(Image.fromarray(a).resize(size)) if a.shape[:2] != first.shape[:2] else a
                for a in images.values()]
        chw = np.stack(grid).transpose(0, 3, 1, 2)
        ncols = self.ncols if self.ncols > 0 else len(grid)
        caption = " | ".join(images)
        self._send(self.vis.images, chw, nrow=ncols, win=self.image_win, padding=2,
                   opts={"title": f"{self.name} images (epoch {epoch})", "caption": caption})

    def log_losses(self, epoch_progress: float, losses: dict[str, float], total_iters: int) -> None:
        self.loss_names = self._add_points(self.loss_win, epoch_progress, losses, "loss over time", "loss",
                                           self.loss_names)

    def log_metrics(self, epoch: int, values: dict[str, float], total_iters: int) -> None:
        self.metric_names = self._add_points(self.metric_win, epoch, values, "metrics", "value", self.metric_names)

    def _add_points(self, win: str, x_value: float, values: dict[str, float], title: str, ylabel: str,
                    sent_names: list[str] | None) -> list[str] | None:
        """Add one point per line to the line plot in window `win`: the window is (re)created when its lines
        differ from `sent_names`, otherwise only the new points are sent. Returns the lines the window now has.
        """
        if self.vis is None:
            return sent_names
        names = list(values)
        y = np.array([[float(values[n]) for n in names]])
        x = np.full_like(y, x_value)
        if len(names) == 1:
            x, y = x[:, 0], y[:, 0]
        opts = {"title": f"{self.name} {title}", "legend": names, "xlabel": "epoch", "ylabel": ylabel}
        self._send(self.vis.line, X=x, Y=y, win=win, opts=opts, update=None if sent_names != names else "append")
        return names

    def _send(self, method, *args, **kwargs) -> None:
        try:
            method(*args, **kwargs)
        except (ConnectionError, OSError):
            self._give_up()
