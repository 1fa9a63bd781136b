"""Evaluator: the chosen metrics over images given batch by batch, from memory (training) or from files."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

import torch

from metrics.base import ImageBatch, MetricFamily, MetricSettings, check_same_size, to_uint8
from metrics.inception_metrics import check_set_sizes
from metrics.registry import families, paired_names, parse_metric_names, refuse_paired
from util.errors import UserError


class Evaluator:
    """Computes metrics over images added batch by batch; each metric family's networks are loaded once.

        evaluator = Evaluator("fid,l1", MetricSettings(device=device))
        for fake, real in batches:        # tensors in [-1, 1] NCHW, uint8 tensors, or uint8 HWC arrays
            evaluator.add(fake, real)
        values = evaluator.compute()      # {'fid': ..., 'l1': ...}; kid also gives 'kid_std'
        evaluator.reset(keep_real=True)   # next evaluation: new generated images, the same real set

    With paired metrics, `real[i]` must be the target of `fake[i]` and every batch needs both. Without them,
    the generated and the real set may be added separately and differ in size. `unpaired_reason` (why the images
    have no aligned targets) refuses paired metrics with that reason.

    With `skip_unavailable`, a metric family whose networks cannot be loaded (weights neither on disk nor
    downloadable) is left out instead of stopping; `skipped` then holds one line per family saying why.

    Building and running it leaves torch's random generators as they were, so evaluating during training does not
    change the training run.
    """

    def __init__(self, names: str | Iterable[str], settings: MetricSettings | None = None,
                 unpaired_reason: str | None = None, skip_unavailable: bool = False) -> None:
        self.names = parse_metric_names(names)
        refuse_paired(self.names, unpaired_reason)
        self.settings = settings or MetricSettings()
        self.skipped: list[str] = []
        chosen: dict[type[MetricFamily], list[str]] = {}
        for name in self.names:
            chosen.setdefault(families()[name], []).append(name)
        self.families: list[MetricFamily] = []
        with torch.random.fork_rng(devices=[]):  # building networks draws their (overwritten) initial weights
            for family, family_names in chosen.items():
                try:
                    self.families.append(family(family_names, self.settings))
                except UserError as err:
                    if not skip_unavailable:
                        raise
                    self.skipped.append(f"left out {', '.join(family_names)}: {err}")
                    self.names = [name for name in self.names if name not in family_names]
        self.paired = bool(paired_names(self.names))
        self.num_fake = self.num_real = 0
        self.real_kept = False

    def add(self, fake: ImageBatch | None = None, real: ImageBatch | None = None) -> None:
        """Add a batch of generated images, of real images, or of aligned (generated, target) pairs.

        After reset(keep_real=True), the unpaired metrics (FID, KID) ignore real images: their real set is the one
        already added. Paired metrics always take each batch's targets.
        """
        fake_batch = None if fake is None else to_uint8(fake)
        real_batch = None if real is None else to_uint8(real)
        if self.paired:
            if fake_batch is None or real_batch is None:
                raise ValueError(f"{', '.join(paired_names(self.names))} need each generated image with its target")
            check_same_size(fake_batch, real_batch)
        for family in self.families:
            family.add(fake_batch, None if self.real_kept and not family.paired else real_batch)
        self.num_fake += 0 if fake_batch is None else len(fake_batch)
        if not self.real_kept:
            self.num_real += 0 if real_batch is None else len(real_batch)

    def compute(self) -> dict[str, float]:
        """Every requested metric (in the order asked) over the images added since the last reset."""
        if self.num_fake == 0:
            raise UserError("no generated images to evaluate")
        values: dict[str, float] = {}
        for family in self.families:
            values.update(family.compute())
        order = {name: i for i, name in enumerate(self.names)}
        return dict(sorted(values.items(), key=lambda item: order.get(item[0].split("_")[0], len(order))))

    def reset(self, keep_real: bool = False) -> None:
        """Forget the added images. keep_real keeps the real set of the unpaired metrics (FID's reference
        features, say) and ignores their real images in later add() calls; paired metrics always take both anew.
        """
        self.real_kept = keep_real and self.num_real > 0
        for family in self.families:
            family.reset(keep_real=self.real_kept and not family.paired)
        self.num_fake = 0
        if not self.real_kept:
            self.num_real = 0


def evaluator_for_options(opt: argparse.Namespace, names: str, count: int, unpaired_reason: str | None
                          ) -> Evaluator:
    """The Evaluator of a command's metric options (--metrics, --eval_metrics) for `count` images per set, its
    networks loaded: too few images for FID/KID or missing weights stop here, before any inference.
    """
    settings = MetricSettings(device=opt.device, amp=opt.amp, weights_dir=opt.metrics_weights_dir,
                              kid_subset_size=opt.kid_subset_size)
    chosen = names.split(",")
    check_set_sizes(chosen, count, count, settings)
    return Evaluator(chosen, settings, unpaired_reason=unpaired_reason)
