"""Metrics: how good a run is. `--metrics fid,kid,l1,psnr,ssim,lpips`.

- metrics/registry.py: metric names, from the MetricFamily classes of metrics/*_metrics.py.
- metrics/inception_metrics.py: FID and KID through torch-fidelity's Inception-v3.
- metrics/paired_metrics.py: L1, PSNR, SSIM, LPIPS of each generated image against its target.
- metrics/evaluator.py: Evaluator, the metrics over images given batch by batch (in memory, e.g. during training).
- metrics/folders.py: the metrics over image files (two folders, or a test.py results folder).
- metrics/report.py: a table and a JSON record of the values.
- metrics/weights.py: where the pretrained weights are looked for, and the error when they are missing.
"""

from __future__ import annotations

from metrics.base import MetricFamily, MetricInfo, MetricSettings, to_uint8
from metrics.evaluator import Evaluator, evaluator_for_options
from metrics.folders import RESULTS_PAIR, Evaluation, evaluate_folders, evaluate_results, results_images
from metrics.inception_metrics import check_set_sizes
from metrics.registry import (
    default_metric_names,
    metric_info,
    metric_names,
    paired_names,
    parse_metric_names,
    refuse_paired,
)
from metrics.report import evaluation_record, format_table, table_rows, write_json

__all__ = [
    "RESULTS_PAIR",
    "Evaluation",
    "Evaluator",
    "MetricFamily",
    "MetricInfo",
    "MetricSettings",
    "check_set_sizes",
    "default_metric_names",
    "evaluate_folders",
    "evaluate_results",
    "evaluation_record",
    "evaluator_for_options",
    "format_table",
    "metric_info",
    "metric_names",
    "paired_names",
    "parse_metric_names",
    "refuse_paired",
    "results_images",
    "table_rows",
    "to_uint8",
    "write_json",
]
