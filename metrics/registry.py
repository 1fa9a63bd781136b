"""Metric registry: `--metrics fid,l1` names metrics declared by the MetricFamily classes of metrics/*_metrics.py.

To add a metric, add its name to the `metrics` table of a family, or drop a new metrics/<family>_metrics.py file
with a MetricFamily subclass; the names, the help and the error messages follow.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from metrics.base import MetricFamily, MetricInfo
from util.errors import UserError, unknown_name

DEFAULT_PAIRED = ("fid", "l1", "psnr")  # default metrics where each generated image has its own target
DEFAULT_UNPAIRED = ("fid",)  # default metrics otherwise


@functools.cache
def families() -> dict[str, type[MetricFamily]]:
    """Metric name -> the family that computes it, from every metrics/*_metrics.py module."""
    found: dict[str, type[MetricFamily]] = {}
    for path in sorted(Path(__file__).parent.glob("*_metrics.py")):
        module = importlib.import_module(f"metrics.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, MetricFamily) and value.__module__ == module.__name__:
                for name in value.metrics:
                    if name in found:
                        raise TypeError(f"metric '{name}' is declared by both {found[name].__name__} and "
                                        f"{value.__name__}")
                    found[name] = value
    return found


def metric_names() -> list[str]:
    """Every metric name, sorted."""
    return sorted(families())


def metric_info(name: str) -> MetricInfo:
    """What the registry knows of `name`; an unknown name is a UserError listing the known ones."""
    if name not in families():
        raise unknown_name("metric", name, metric_names())
    return families()[name].metrics[name]


def parse_metric_names(names: str | Iterable[str]) -> list[str]:
    """'fid, l1' or ['fid', 'l1'] -> ['fid', 'l1'], checked against the registry, duplicates dropped."""
    items = names.split(",") if isinstance(names, str) else list(names)
    parsed = list(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    if not parsed:
        raise UserError(f"no metric named; choose from: {', '.join(metric_names())}")
    for name in parsed:
        metric_info(name)
    return parsed


def paired_names(names: Sequence[str]) -> list[str]:
    """Those of `names` that compare each generated image with its own target."""
    return [name for name in names if metric_info(name).paired]


def refuse_paired(names: Sequence[str], unpaired_reason: str | None) -> None:
    """When the images have no aligned targets (`unpaired_reason` says why), refuse the metrics that need them."""
    needing = paired_names(names)
    if unpaired_reason and needing:
        usable = [name for name in metric_names() if not metric_info(name).paired]
        verb = "needs" if len(needing) == 1 else "need"
        raise UserError(f"metric {', '.join(needing)} {verb} each generated image's own target, but "
                        f"{unpaired_reason}; use {', '.join(usable)} instead")


def default_metric_names(paired: bool) -> list[str]:
    """The metrics computed when none are named: FID always, L1 and PSNR too when pairs exist."""
    return list(DEFAULT_PAIRED if paired else DEFAULT_UNPAIRED)
