"""Options shared by training and testing, with the original release's names, types and defaults."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

import data
import metrics
import models
from models import networks
from util import distributed, precision
from util.device import select_device
from util.errors import UserError, unknown_name
from util.option_types import Range, add_bool_option


class OptionParser(argparse.ArgumentParser):
    """An ArgumentParser whose mistakes become one-line UserErrors instead of usage dumps.

    A value outside an option's `choices` (the tables of networks, norms, schedules, ...) is refused here, once,
    with the list of valid names. It keeps the command line it parses, so that a model or dataset adding options
    can read what was given so far (`options_so_far`), e.g. for presets such as CUT's --CUT_mode.
    """

    def __init__(self, argv: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.argv = argv

    def options_so_far(self) -> argparse.Namespace:
        """The command line parsed with the options defined so far (the others are ignored): what a model's or
        dataset's `modify_commandline_options` reads to choose defaults that depend on other options.
        """
        return self.parse_known_args(self.argv)[0]

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see --help)")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            raise unknown_name(action.option_strings[0], value, action.choices)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default and, for a numeric option declared with a `Range`, its valid values."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = super()._get_help_string(action) or ""
        if isinstance(action.type, Range):
            text += f" [{action.type.describe()}]"
        return text


class BaseOptions:
    """Defines the options, resolves model and dataset additions, validates, prints and saves them."""

    is_train: bool = False
    folder_option = "--checkpoints_dir"  # the option that places `options_folder`

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
        p.add_argument("--input_nc", type=Range(int, min=1), default=3, help="input image channels: 3 RGB, 1 grayscale")
        p.add_argument("--output_nc", type=Range(int, min=1), default=3,
                       help="output image channels: 3 RGB, 1 grayscale")
        p.add_argument("--ngf", type=Range(int, min=1), default=64, help="generator filters in the last conv layer")
        p.add_argument("--ndf", type=Range(int, min=1), default=64,
                       help="discriminator filters in the first conv layer")
        p.add_argument("--netD", type=str, default="basic", choices=networks.DISCRIMINATORS,
                       help="discriminator: the 70x70 PatchGAN (basic), one with --n_layers_D layers, or per pixel")
        p.add_argument("--netG", type=str, default="resnet_9blocks", choices=networks.GENERATORS, help="generator")
        p.add_argument("--n_layers_D", type=Range(int, min=1), default=3,
                       help="discriminator depth when --netD n_layers")
        p.add_argument("--norm", type=str, default="instance", choices=networks.NORM_LAYERS, help="normalization")
        p.add_argument("--init_type", type=str, default="normal", choices=networks.INIT_TYPES, help="weight init")
        p.add_argument("--init_gain", type=Range(float, above=0), default=0.02,
                       help="scale for normal, xavier and orthogonal init")
        add_bool_option(p, "--no_dropout", False, "no dropout in the generator (also --no_dropout true|false)")
        # data
        p.add_argument("--dataset_mode", type=str, default="unaligned",
                       help=f"dataset: {', '.join(data.dataset_modes())}")
        p.add_argument("--direction", type=str, default="AtoB", choices=("AtoB", "BtoA"), help="translation direction")
        p.add_argument("--serial_batches", action="store_true", help="keep file order instead of shuffling")
        p.add_argument("--num_threads", type=Range(int, min=0), default=4, help="data-loading worker processes")
        p.add_argument("--batch_size", type=Range(int, min=1), default=1, help="batch size (per process)")
        p.add_argument("--load_size", type=Range(int, min=1), default=286, help="resize images to this size")
        p.add_argument("--crop_size", type=Range(int, min=1), default=256, help="then crop to this size")
        p.add_argument("--max_dataset_size", type=Range(int, min=1), default=float("inf"),
                       help="use at most this many samples")
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
        p.add_argument("--display_winsize", type=Range(int, min=1), default=256,
                       help="image width in pages and displays")
        # checkpoints and logging
        p.add_argument("--epoch", type=str, default="latest", help="checkpoint to load: latest or an epoch number")
        p.add_argument("--load_iter", type=Range(int, min=0), default=0,
                       help="if > 0, load iter_<load_iter> checkpoints")
        p.add_argument("--verbose", action="store_true", help="print network structures and more")
        p.add_argument("--suffix", type=str, default="", help="appended to --name, formatted with the options")
        p.add_argument("--seed", type=int, default=None, help="seed python, numpy and torch for repeatable runs")
        p.add_argument("--use_wandb", action="store_true", help="log to Weights & Biases")
        p.add_argument("--wandb_project_name", type=str, default="CycleGAN-and-pix2pix", help="W&B project")
        p.add_argument("--display_id", type=int, default=0, help="visdom window id; > 0 turns visdom on")
        p.add_argument("--display_server", type=str, default="http://localhost", help="visdom server")
        p.add_argument("--display_port", type=Range(int, min=1, max=65535), default=8097, help="visdom port")
        p.add_argument("--display_env", type=str, default="main", help="visdom environment")
        p.add_argument("--display_ncols", type=Range(int, min=0), default=4,
                       help="images per row in the visdom grid (0: all in one row)")
        # metrics (test.py --metrics, train.py --eval_freq)
        p.add_argument("--metrics_weights_dir", type=str, default=None,
                       help="folder with the metric networks' weight files (Inception for FID/KID, AlexNet for "
                            "LPIPS), searched before torch.hub's cache (see README: metrics)")
        p.add_argument("--kid_subset_size", type=Range(int, min=2), default=100,
                       help="images per KID subset (each set needs at least this many)")
        return p

    def gather_options(self, argv: list[str] | None) -> argparse.Namespace:
        """Parse in the original's order: base options, then the model's, then the dataset's; unknown flags fail."""
        parser = self.initialize(OptionParser(argv, formatter_class=HelpFormatter))
        opt, _ = parser.parse_known_args(argv)
        parser = models.get_option_setter(opt.model)(parser, self.is_train)
        opt, _ = parser.parse_known_args(argv)
        parser = data.get_option_setter(opt.dataset_mode)(parser, self.is_train)
        self.parser = parser
        return parser.parse_args(argv)

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        """Parse, validate, name the run, pick the device; print the options (main process only).

        Nothing is written here: the options are saved (`save_options`) once the command really starts.
        """
        opt = self.gather_options(sys.argv[1:] if argv is None else argv)
        self.option_names = set(vars(opt))
        opt.isTrain = self.is_train
        if opt.suffix:
            opt.name = f"{opt.name}_{format_suffix(opt.suffix, opt)}"
        self.validate(opt)
        opt.device = select_device(opt.gpu_ids)
        precision.check_amp(opt.amp, opt.device)
        if distributed.is_main_process():
            print(self.format_options(opt))
        return opt

    def validate(self, opt: argparse.Namespace) -> None:
        """Reject combinations that cannot work, each with a one-line fix; set derived values once.

        (Names outside an option's choices and numbers outside an option's `Range` were refused while parsing.)
        """
        check_run_name(opt.name)
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
        if opt.metrics_weights_dir is not None and not os.path.isdir(opt.metrics_weights_dir):
            raise UserError(f"--metrics_weights_dir '{opt.metrics_weights_dir}' is not a folder")

    def validate_metrics(self, opt: argparse.Namespace, option: str, names: str, num_images: int) -> str:
        """Check the metrics `names` given with `option` against the model and the images to be evaluated (at
        most `num_images` per set); returns them normalised ('fid,l1').
        """
        chosen = metrics.parse_metric_names(names)
        model_class = models.find_model_using_name(opt.model)
        if model_class.evaluation_pair is None:
            raise UserError(f"{option}: --model {opt.model} has no real images of its output domain to compare its "
                            "outputs with; score its results with scripts/evaluate.py REAL_FOLDER GENERATED_FOLDER")
        metrics.refuse_paired(chosen, model_class.evaluation_unpaired_reason)
        settings = metrics.MetricSettings(kid_subset_size=opt.kid_subset_size)
        metrics.check_set_sizes(chosen, num_images, num_images, settings)
        return ",".join(chosen)

    def format_options(self, opt: argparse.Namespace) -> str:
        """The options as a table, marking the ones that differ from their defaults."""
        lines = ["----------------- Options ---------------"]
        for key, value in sorted(vars(opt).items()):
            default = self.parser.get_default(key)
            note = f"\t[default: {default}]" if key in self.option_names and value != default else ""
            lines.append(f"{key:>25}: {str(value):<30}{note}")
        lines.append("----------------- End -------------------")
        return "\n".join(lines)

    def options_folder(self, opt: argparse.Namespace) -> str:
        """Where `save_options` writes: the run folder <checkpoints_dir>/<name> (test options go elsewhere)."""
        return os.path.join(opt.checkpoints_dir, opt.name)

    def save_options(self, opt: argparse.Namespace) -> str:
        """Save the options as <phase>_opt.txt and <phase>_opt.json in `options_folder` (main process only);
        returns the folder.
        """
        folder = self.options_folder(opt)
        if not distributed.is_main_process():
            return folder
        try:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"{opt.phase}_opt.txt"), "w") as f:
                f.write(self.format_options(opt) + "\n")
            with open(os.path.join(folder, f"{opt.phase}_opt.json"), "w") as f:
                json.dump(options_to_json(opt), f, indent=2, sort_keys=True)
        except OSError as err:
            raise UserError(f"cannot write the options to '{folder}': {err.strerror or err}; check "
                            f"{self.folder_option}, its permissions and free space") from err
        return folder

    def print_options(self, opt: argparse.Namespace) -> None:
        """Print the options and save them (the original release's name for both)."""
        print(self.format_options(opt))
        self.save_options(opt)


def format_suffix(suffix: str, opt: argparse.Namespace) -> str:
    """--suffix formatted with the options, e.g. '{model}_{netG}' -> 'pix2pix_unet_256'."""
    try:
        return suffix.format(**vars(opt))
    except KeyError as err:
        raise UserError(f"--suffix '{suffix}' names an unknown option {err}; use option names in braces, e.g. "
                        "'{model}_{netG}_size{load_size}'") from None
    except (IndexError, ValueError, AttributeError) as err:
        raise UserError(f"--suffix '{suffix}' is not a valid format ({err}); use option names in braces, e.g. "
                        "'{model}_{netG}_size{load_size}', and double braces for literal ones") from None


def check_run_name(name: str) -> None:
    """A run name must stay inside --checkpoints_dir and --results_dir: no absolute paths, no '..' that leaves."""
    normal = os.path.normpath(name) if name else ""
    if (not normal or normal == "." or os.path.isabs(name) or normal == ".." or normal.startswith(".." + os.sep)
            or (os.altsep and normal.startswith(".." + os.altsep))):
        raise UserError(f"--name '{name}' must name a folder inside --checkpoints_dir and --results_dir; use a "
                        "plain name such as 'facades_pix2pix' (sub/folders are fine, '..' and absolute paths are not)")


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

