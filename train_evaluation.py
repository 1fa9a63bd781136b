"""Evaluation during training (train.py --eval_freq): the generator(s) on a held-out split, scored by metrics/.

train.py builds one `HeldOutEvaluation` before its loop and calls `evaluate(model)` every --eval_freq epochs. The
main process evaluates alone while the others wait for it. An evaluation leaves the training run exactly as it
was: the held-out split has its own loader and seed, every random generator is put back afterwards, the networks
run without their DDP wrappers and each module returns to the train/eval mode it had.

Part of the training entry point: nothing in models/, data/, metrics/ or util/ imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

from data import DatasetLoader, create_dataset
from metrics import evaluator_for_options
from models import check_evaluation_pair
from models.base_model import BaseModel
from util import distributed
from util.errors import UserError
from util.progress import progress_bar
from util.reproducibility import preserved_rng


class HeldOutEvaluation:
    """The held-out split (--eval_phase, at most --eval_num images) and the metric networks (--eval_metrics),
    built once on the main process; building them leaves the random generators as they were.

    Missing metric weights or a missing split stop the run here, before training starts.
    """

    def __init__(self, opt: argparse.Namespace, model: BaseModel) -> None:
        self.phase = opt.eval_phase
        self.main = distributed.is_main_process()
        if not self.main:
            return
        check_evaluation_pair(model, "--eval_metrics")
        with preserved_rng():
            self.loader = held_out_loader(opt)
            self.count = len(self.loader)  # the split may hold fewer than --eval_num
            self.evaluator = evaluator_for_options(opt, opt.eval_metrics, self.count,
                                                   model.evaluation_unpaired_reason)

    def evaluate(self, model: BaseModel) -> tuple[dict[str, float], str] | None:
        """Run the model in eval mode over the held-out images and compute the metrics: (values, a description of
        what was evaluated) on the main process, None on the others (they wait until it is done).

        The real images' features for FID/KID are computed at the first evaluation and kept: the split is read
        the same way every time.
        """
        if not self.main:
            distributed.barrier()
            return None
        start = time.time()
        done = 0
        with preserved_rng(), alone_in_eval_mode(model), \
                progress_bar(self.count, f"evaluating on {self.phase}", "img") as bar:
            self.evaluator.reset(keep_real=True)
            self.loader.set_epoch(0)
            for batch in self.loader:
                model.set_input(batch)
                fake, real = model.evaluation_images()
                self.evaluator.add(fake[: self.count - done], real[: self.count - done])
                done += min(len(fake), self.count - done)
                bar.update(len(fake))
            values = self.evaluator.compute()
        distributed.barrier()
        return values, f"{done} {self.phase} images in {time.time() - start:.1f} s"


def held_out_loader(opt: argparse.Namespace) -> DatasetLoader:
    """The first --eval_num items of --eval_phase, read as test.py reads them: in file order, unflipped, resized to
    --crop_size (so a crop keeps the whole image), with seed 0, by this process alone.
    """
    held_out = argparse.Namespace(**{**vars(opt), "phase": opt.eval_phase, "serial_batches": True, "no_flip": True,
                                     "load_size": opt.crop_size, "max_dataset_size": opt.eval_num, "seed": 0})
    try:
        return create_dataset(held_out, shared=False)
    except UserError as err:
        raise UserError(f"--eval_freq evaluates on --eval_phase {opt.eval_phase}, but {err}") from None


@contextlib.contextmanager
def alone_in_eval_mode(model: BaseModel) -> Iterator[None]:
    """The model's networks in eval mode and without DDP wrappers (which would wait for the other processes) for
    the body; afterwards the wrappers are back and every module has its former mode.
    """
    wrapped = model.networks()
    modes = {module: module.training for net in wrapped.values() for module in net.modules()}
    model.wrap_networks(lambda name, net: distributed.unwrap_ddp(net))
    model.eval()
    try:
        yield
    finally:
        model.wrap_networks(lambda name, net: wrapped[name])
        for module, training in modes.items():
            module.training = training
