"""Metric values as a table (text, or rows for a page) and as a JSON record (evaluate.py and test.py)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

from metrics.base import MetricSettings
from metrics.folders import Evaluation
from metrics.registry import metric_info
from util.atomic_files import write_atomically


def format_value(value: float) -> str:
    """Five significant digits; infinity (PSNR of identical images) as 'inf'."""
    return "inf" if math.isinf(value) else f"{value:.5g}"


def table_rows(values: dict[str, float]) -> list[tuple[str, str, str]]:
    """(name, value, which way is better) per metric; KID's std joins its mean as 'mean ± std'."""
    rows = []
    for name, value in values.items():
        if name.endswith("_std"):
            continue
        text = format_value(value)
        if f"{name}_std" in values:
            text += f" ± {format_value(values[name + '_std'])}"
        better = "higher is better" if metric_info(name).higher_is_better else "lower is better"
        rows.append((name, text, better))
    return rows


def format_table(values: dict[str, float]) -> str:
    """One line per metric: name, value (KID with its std), and which way is better."""
    rows = table_rows(values)
    width = max(len(row[1]) for row in rows)
    return "\n".join(f"{name:<6} {text:>{width}}   ({better})" for name, text, better in rows)


def evaluation_record(evaluation: Evaluation, settings: MetricSettings) -> dict:
    """What a metrics.json holds: the values, what they were computed on, and the protocol's settings."""
    record = asdict(evaluation)
    record["settings"] = {"amp": settings.amp, "kid_subset_size": settings.kid_subset_size,
                          "kid_subsets": settings.kid_subsets, "kid_seed": settings.kid_seed,
                          "feature_extractor": "torch-fidelity inception-v3-compat, 2048-d pool features"}
    return record


def write_json(record: dict, path: str | Path) -> None:
    """Write `record` as indented JSON, atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(str(path), lambda f: f.write((json.dumps(record, indent=2) + "\n").encode()))
