"""Options for train.py."""

from __future__ import annotations

import argparse
import os

import metrics
from models import find_model_using_name, losses, networks
from options.base_options import BaseOptions
from util import distributed, messages
from util.errors import UserError
from util.option_types import Range


class TrainOptions(BaseOptions):
    """Base options plus display frequencies, checkpointing, schedule and optimizer settings."""

    is_train = True

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = super().initialize(parser)
        # how often to show, log and save (counted in images, like the original)
        p.add_argument("--display_freq", type=Range(int, min=1), default=400,
                       help="show current results every N images")
        p.add_argument("--update_html_freq", type=Range(int, min=1), default=1000,
                       help="add results to the page every N images")
        p.add_argument("--print_freq", type=Range(int, min=1), default=100, help="print and log losses every N images")
        p.add_argument("--no_html", action="store_true", help="do not write the training HTML page")
        p.add_argument("--use_tensorboard", action="store_true",
                       help="log losses and visuals for TensorBoard under <checkpoints_dir>/<name>/tensorboard")
        p.add_argument("--save_latest_freq", type=Range(int, min=1), default=5000,
                       help="save latest checkpoints every N images")
        p.add_argument("--save_epoch_freq", type=Range(int, min=1), default=5,
                       help="save <epoch> checkpoints every N epochs")
        p.add_argument("--save_by_iter", action="store_true", help="name periodic checkpoints iter_<N>")
        p.add_argument("--keep_state", type=Range(int, min=0), default=3,
                       help="keep the training state of only the newest N <epoch>/iter_<N> save points (their weights "
                            "stay); 'latest' always keeps its state")
        p.add_argument("--continue_train", action="store_true",
                       help="resume from the checkpoint --epoch, with its training state when it has one")
        p.add_argument("--epoch_count", type=Range(int, min=1), default=None,
                       help="number of the first epoch (default: 1, or where the resumed run stopped)")
        p.add_argument("--skip_nonfinite", action="store_true",
                       help="skip optimizer steps whose loss is NaN or Inf instead of stopping the run")
        p.add_argument("--phase", type=str, default="train", help="data split folder")
        p.add_argument("--check_data", action="store_true",
                       help="before training, read every sample and list all unusable images (unreadable, wrong "
                            "size) at once; stop if there are any")
        # evaluation during training (see README: metrics)
        p.add_argument("--eval_freq", type=Range(int, min=0), default=0,
                       help="every N epochs (and after the last), score the generator on a held-out split (0 = off)")
        p.add_argument("--eval_metrics", type=str, default=None,
                       help=f"comma-separated, from: {', '.join(metrics.metric_names())} (default: fid,l1,psnr for "
                            "paired models such as pix2pix, fid for unpaired ones such as cycle_gan)")
        p.add_argument("--eval_phase", type=str, default=None,
                       help="held-out split folder (default: val when <dataroot> has one, else test)")
        p.add_argument("--eval_num", type=Range(int, min=1), default=200,
                       help="images of the held-out split to evaluate")
        p.add_argument("--save_best", type=str, default=None, metavar="METRIC",
                       help="keep best_net_*.pth and best_train_state.pth of the epoch with the best value of METRIC "
                            "(one of --eval_metrics)")
        # schedule and optimizer
        p.add_argument("--n_epochs", type=Range(int, min=0), default=100, help="epochs at the initial learning rate")
        p.add_argument("--n_epochs_decay", type=Range(int, min=0), default=100, help="epochs of linear decay to zero")
        p.add_argument("--beta1", type=Range(float, min=0, below=1), default=0.5, help="Adam beta1")
        p.add_argument("--lr", type=Range(float, above=0), default=0.0002, help="initial Adam learning rate")
        p.add_argument("--gan_mode", type=str, default="lsgan", choices=losses.GAN_MODES, help="GAN objective")
        p.add_argument("--pool_size", type=Range(int, min=0), default=50,
                       help="image-pool size for discriminator updates (0 = off)")
        p.add_argument("--lr_policy", type=str, default="linear", choices=networks.LR_POLICIES,
                       help="learning-rate schedule (see README)")
        p.add_argument("--lr_decay_iters", type=Range(int, min=1), default=50,
                       help="step size of the step schedule, in epochs")
        return p

    def validate(self, opt: argparse.Namespace) -> None:
        super().validate(opt)
        if opt.epoch_count is None and not opt.continue_train:
            opt.epoch_count = 1  # a resumed run takes it from its training state (train.py: resume)
        if opt.n_epochs + opt.n_epochs_decay < 1:
            raise UserError("--n_epochs and --n_epochs_decay must add up to at least 1")
        self.validate_evaluation(opt)
        for option in ("norm", "normG", "normD"):  # normG / normD: the separate norms of --model cut
            if getattr(opt, option, None) == "batch" and distributed.get_world_size() > 1:
                # Per-process batch statistics would make the model depend on how the batch is split across GPUs.
                messages.warn(f"--{option} batch with several processes: using --{option} syncbatch instead, so "
                              "batch statistics cover the whole batch across processes (checkpoints stay "
                              "interchangeable)")
                setattr(opt, option, "syncbatch")

    def validate_evaluation(self, opt: argparse.Namespace) -> None:
        """Check the evaluation options and fill in their defaults: the metrics from the model, the split from the
        dataroot.
        """
        if opt.eval_freq == 0:
            if opt.save_best:
                raise UserError("--save_best needs evaluations: add --eval_freq N (e.g. --eval_freq 1)")
            return
        if opt.eval_metrics is None:
            paired = find_model_using_name(opt.model).evaluation_unpaired_reason is None
            opt.eval_metrics = ",".join(metrics.default_metric_names(paired))
        opt.eval_metrics = self.validate_metrics(opt, "--eval_metrics", opt.eval_metrics, opt.eval_num)
        if opt.save_best:
            opt.save_best = opt.save_best.strip().lower()
        if opt.save_best and opt.save_best not in opt.eval_metrics.split(","):
            raise UserError(f"--save_best {opt.save_best} is not among --eval_metrics {opt.eval_metrics}; add it "
                            "there or choose one of those")
        if opt.eval_phase is None:
            has_val = any(os.path.isdir(os.path.join(opt.dataroot, folder)) for folder in ("val", "valA"))
            opt.eval_phase = "val" if has_val else "test"
