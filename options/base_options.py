"""Options shared by training and testing, with the original release's names, types and defaults."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

import data
import models
from models import networks
from util import distributed, precision
from util.device import select_device
from util.errors import UserError, unknown_name


class OptionParser(argparse.ArgumentParser):
    """An ArgumentParser whose mistakes become one-line UserErrors instead of usage dumps.

    A value outside an option's `choices` (the tables of networks, norms, schedules, ...) is refused here, once,
    with the list of valid names.
    """

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see --help)")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            raise unknown_name(action.option_strings[0], value, action.choices)


class BaseOptions:
    """Defines the options, resolves model and dataset additions, validates, prints and saves them."""

    is_train: bool = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """Add the options common to train.py and test.py."""
        p = parser
        p.add_argument("--dataroot", required=True, help="dataset folder (see README: dataset layout)")
        p.add_argument("--name", type=str, default="experiment_name", help="run name: folder under checkpoints_dir")
        p.add_argument("--checkpoints_dir", type=str, default="./checkpoints", help="where runs are stored")
        p.add_argument("--gpu_ids", type=str, default="",
                       help="'' picks CUDA when present, '-1' forces CPU, '0' picks cuda:0 (use torchrun for more)")
        # model
        p.add_argument("--model", type=str, default="cycle_gan", help=f"model: {', '.join(models.model_names())}")
        p.add_argument("--input_nc", type=int, default=3, help="input image channels: 3 RGB, 1 grayscale")
        p.add_argument("--output_nc", type=int, default=3, help="output image channels: 3 RGB, 1 grayscale")
        p.add_argument("--ngf", type=int, default=64, help="generator filters in the last conv layer")
        p.add_argument("--ndf", type=int, default=64, help="discriminator filters in the first conv layer")
        p.add_argument("--netD", type=str, default="basic", choices=networks.DISCRIMINATORS,
                       help="discriminator: the 70x70 PatchGAN (basic), one with --n_layers_D layers, or per pixel")
        p.add_argument("--netG", type=str, default="resnet_9blocks", choices=networks.GENERATORS, help="generator")
        p.add_argument("--n_layers_D", type=int, default=3, help="discriminator depth when --netD n_layers")
        p.add_argument("--norm", type=str, default="instance", choices=networks.NORM_LAYERS, help="normalization")
        p.add_argument("--init_type", type=str, default="normal", choices=networks.INIT_TYPES, help="weight init")
        p.add_argument("--init_gain", type=float, default=0.02, help="scale for normal, xavier and orthogonal init")
        p.add_argument("--no_dropout", action="store_true", help="no dropout in the generator")
        # data
        p.add_argument("--dataset_mode", type=str, default="unaligned",
                       help=f"dataset: {', '.join(data.dataset_modes())}")
        p.add_argument("--direction", type=str, default="AtoB", choices=("AtoB", "BtoA"), help="translation direction")
        p.add_argument("--serial_batches", action="store_true", help="keep file order instead of shuffling")
        p.add_argument("--num_threads", type=int, default=4, help="data-loading worker processes")
        p.add_argument("--batch_size", type=int, default=1, help="batch size (per process)")
        p.add_argument("--load_size", type=int, default=286, help="resize images to this size")
        p.add_argument("--crop_size", type=int, default=256, help="then crop to this size")
        p.add_argument("--max_dataset_size", type=int, default=float("inf"), help="use at most this many samples")
        p.add_argument("--preprocess", type=str, default="resize_and_crop", choices=data.PREPROCESS_MODES,
                       help="how images are resized and cropped (see README: datasets)")
        p.add_argument("--no_flip", action="store_true", help="no horizontal-flip augmentation")
        p.add_argument("--skip_bad_images", action="store_true",
                       help="skip unreadable image files (one warning each) instead of stopping")
        # speed
        p.add_argument("--amp", type=str, default="off", choices=precision.AMP_MODES,
                       help="mixed precision: off (float32), bf16 (CPU or recent GPU) or fp16 (CUDA, gradient scaling)")
        p.add_argument("--compile", action="store_true",
                       help="torch.compile the networks (falls back to eager with a warning when it cannot)")
        p.add_argument("--channels_last", action="store_true",
                       help="channels-last memory layout (usually faster on GPUs with tensor cores, slower on CPUs)")
        p.add_argument("--display_winsize", type=int, default=256, help="image width in pages and displays")
        # checkpoints and logging
        p.add_argument("--epoch", type=str, default="latest", help="checkpoint to load: latest or an epoch number")
        p.add_argument("--load_iter", type=int, default=0, help="if > 0, load iter_<load_iter> checkpoints")
        p.add_argument("--verbose", action="store_true", help="print network structures and more")
        p.add_argument("--suffix", type=str, default="", help="appended to --name, formatted with the options")
        p.add_argument("--seed", type=int, default=None, help="seed python, numpy and torch for repeatable runs")
        p.add_argument("--use_wandb", action="store_true", help="log to Weights & Biases")
        p.add_argument("--wandb_project_name", type=str, default="CycleGAN-and-pix2pix", help="W&B project")
        p.add_argument("--display_id", type=int, default=0, help="visdom window id; > 0 turns visdom on")
        p.add_argument("--display_server", type=str, default="http://localhost", help="visdom server")
        p.add_argument("--display_port", type=int, default=8097, help="visdom port")
        p.add_argument("--display_env", type=str, default="main", help="visdom environment")
        p.add_argument("--display_ncols", type=int, default=4, help="images per row in the visdom grid")
        return p

    def gather_options(self, argv: list[str] | None) -> argparse.Namespace:
        """Parse in the original's order: base options, then the model's, then the dataset's; unknown flags fail."""
        parser = self.initialize(OptionParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter))
        opt, _ = parser.parse_known_args(argv)
        parser = models.get_option_setter(opt.model)(parser, self.is_train)
        opt, _ = parser.parse_known_args(argv)
        parser = data.get_option_setter(opt.dataset_mode)(parser, self.is_train)
        self.parser = parser
        return parser.parse_args(argv)

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        """Parse, validate, name the run, pick the device; print and save the options (main process only)."""
        opt = self.gather_options(sys.argv[1:] if argv is None else argv)
        self.option_names = set(vars(opt))
        opt.isTrain = self.is_train
        if opt.suffix:
            opt.name = f"{opt.name}_{opt.suffix.format(**vars(opt))}"
        self.validate(opt)
        opt.device = select_device(opt.gpu_ids)
        precision.check_amp(opt.amp, opt.device)
        if distributed.is_main_process():
            self.print_options(opt)
        return opt

    def validate(self, opt: argparse.Namespace) -> None:
        """Reject combinations and ranges that cannot work, each with a one-line fix; set derived values once.

        (Names outside an option's choices were refused while parsing.)
        """
        crops = "crop" in opt.preprocess
        resizes = "resize" in opt.preprocess or "scale_width" in opt.preprocess
        if crops and resizes and opt.crop_size > opt.load_size:
            raise UserError(f"--crop_size {opt.crop_size} is larger than --load_size {opt.load_size}; "
                            "make --load_size at least --crop_size")
        multiple = networks.input_size_multiple(opt.netG)
        if opt.isTrain and crops and opt.crop_size % multiple:  # at test time the generators pad (models/inference.py)
            fitting = max(multiple, opt.crop_size // multiple * multiple)
            raise UserError(f"--netG {opt.netG} needs image sides that are multiples of {multiple}, "
                            f"but --crop_size is {opt.crop_size}; use --crop_size {fitting} or another --netG")
        for option in ("batch_size", "crop_size", "load_size", "ngf", "ndf", "input_nc", "output_nc"):
            if getattr(opt, option) < 1:
                raise UserError(f"--{option} must be a positive number, got {getattr(opt, option)}")
        if opt.num_threads < 0:
            raise UserError(f"--num_threads must be 0 or more, got {opt.num_threads}")

    def format_options(self, opt: argparse.Namespace) -> str:
        """The options as a table, marking the ones that differ from their defaults."""
        lines = ["----------------- Options ---------------"]
        for key, value in sorted(vars(opt).items()):
            default = self.parser.get_default(key)
            note = f"\t[default: {default}]" if key in self.option_names and value != default else ""
            lines.append(f"{key:>25}: {str(value):<30}{note}")
        lines.append("----------------- End -------------------")
        return "\n".join(lines)

    def print_options(self, opt: argparse.Namespace) -> None:
        """Print the options and save them as <phase>_opt.txt and <phase>_opt.json in the run folder."""
        text = self.format_options(opt)
        print(text)
        run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        try:
            os.makedirs(run_dir, exist_ok=True)
            with open(os.path.join(run_dir, f"{opt.phase}_opt.txt"), "w") as f:
                f.write(text + "\n")
            with open(os.path.join(run_dir, f"{opt.phase}_opt.json"), "w") as f:
                json.dump(options_to_json(opt), f, indent=2, sort_keys=True)
        except OSError as err:
            raise UserError(f"cannot write to the run folder '{run_dir}': {err.strerror}; "
                            "check --checkpoints_dir and its permissions") from err


def options_to_json(opt: argparse.Namespace) -> dict[str, Any]:
    """The options as JSON-safe values (infinity becomes null, devices become strings)."""
    out: dict[str, Any] = {}
    for key, value in vars(opt).items():
        if isinstance(value, float) and value == float("inf"):
            value = None
        elif not isinstance(value, str | int | float | bool | type(None) | list):
            value = str(value)
        out[key] = value
    return out

