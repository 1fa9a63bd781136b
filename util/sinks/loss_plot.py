"""Loss history with bounded memory and drawing cost, and its plot as a PNG (matplotlib, no display needed)."""

from __future__ import annotations

import json
import math
import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from util.atomic_files import write_atomically


class LossHistory:
    """Every logged loss, averaged into at most `max_bins` bins so that drawing costs the same at any length.

    When the bins fill up, neighbours merge in pairs and each bin covers twice as many points from then on.
    Points are also appended to a JSON-lines file so a resumed run plots its whole history.
    """

    def __init__(self, path: str | None = None, max_bins: int = 512, resume: bool = False) -> None:
        self.path = path
        self.max_bins = max_bins
        self.points_per_bin = 1
        self.bins: list[dict] = []
        if path and resume and os.path.isfile(path):
            with open(path) as f:
                for line in f:
                    try:
                        point = json.loads(line)
                        self._add(point["x"], point["losses"])
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a crash
        elif path and os.path.exists(path):
            os.remove(path)

    def __len__(self) -> int:
        return sum(b["count"] for b in self.bins)

    def append(self, x: float, losses: dict[str, float]) -> None:
        losses = {name: float(value) for name, value in losses.items()}
        self._add(x, losses)
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps({"x": x, "losses": losses}) + "\n")

    def _add(self, x: float, losses: dict[str, float]) -> None:
        if not self.bins or self.bins[-1]["count"] >= self.points_per_bin:
            self.bins.append({"count": 0, "x": 0.0, "sums": {}, "counts": {}})
        b = self.bins[-1]
        b["count"] += 1
        b["x"] += x
        for name, value in losses.items():
            b["sums"][name] = b["sums"].get(name, 0.0) + value
            b["counts"][name] = b["counts"].get(name, 0) + 1
        if len(self.bins) > self.max_bins:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        merged = []
        for first, second in zip(self.bins[0::2], self.bins[1::2], strict=False):
            for name in second["sums"]:
                first["sums"][name] = first["sums"].get(name, 0.0) + second["sums"][name]
                first["counts"][name] = first["counts"].get(name, 0) + second["counts"][name]
            first["count"] += second["count"]
            first["x"] += second["x"]
            merged.append(first)
        if len(self.bins) % 2:
            merged.append(self.bins[-1])
        self.bins = merged
        self.points_per_bin *= 2

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """For each loss name, the bins' mean x and mean value."""
        out: dict[str, tuple[list[float], list[float]]] = {}
        for b in self.bins:
            x = b["x"] / b["count"]
            for name, total in b["sums"].items():
                xs, ys = out.setdefault(name, ([], []))
                xs.append(x)
                ys.append(total / b["counts"][name])
        return out


def draw_loss_plot(history: LossHistory, path: str, title: str) -> bool:
    """Draw each loss over epochs in its own panel (losses differ in scale) into a PNG at `path`, atomically.

    Returns False when nothing was logged yet.
    """
    series = history.series()
    if not series:
        return False
    ncols = min(len(series), 4)
    nrows = math.ceil(len(series) / ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows + 0.4), dpi=100)
    FigureCanvasAgg(fig)
    fig.suptitle(title)
    for i, (name, (xs, ys)) in enumerate(series.items()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.plot(xs, ys, color=f"C{i}", marker="." if len(xs) < 30 else None)
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("epoch", fontsize="small")
        ax.tick_params(labelsize="small")
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    write_atomically(path, lambda f: fig.savefig(f, format="png"))
    return True
