"""Options for applying a trained generator: tiles (test.py and scripts/translate.py) and which saved generator to
load (scripts/translate.py and scripts/export.py).

translate.py and export.py read the generator's options from the run's train_opt.json (models/translator.py), so
their --netG, --norm, --ngf, --no_dropout, --input_nc and --output_nc default to nothing: given, they override the
saved ones; for weights without saved options (published ones) they default to test.py's.
"""

from __future__ import annotations

import argparse
import os

from models import networks
from models.export import EXPORT_FORMATS
from models.inference import TILE_STATS, check_tile_settings
from models.translator import GENERATOR_DEFAULTS, generator_options
from options.base_options import HelpFormatter as BaseHelpFormatter
from options.base_options import OptionParser, check_run_name
from util import checkpoint, precision
from util.device import select_device
from util.errors import UserError
from util.option_types import Range


class HelpFormatter(BaseHelpFormatter):
    """Shows defaults and ranges, except None defaults (options whose help says where their value comes from)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def add_tile_options(p: argparse.ArgumentParser) -> None:
    """--tile, --tile_overlap and --tile_stats."""
    p.add_argument("--tile", type=Range(int, min=0), default=0,
                   help="run the generator on overlapping tiles of this many pixels, blended (0: whole images); "
                        "for images too large to run whole. A multiple of the generator's size multiple")
    p.add_argument("--tile_overlap", type=Range(int, min=0), default=32,
                   help="pixels by which neighbouring tiles overlap and fade into each other (at most --tile / 2)")
    p.add_argument("--tile_stats", type=str, default=None, choices=TILE_STATS,
                   help="with --tile, where layers that normalise with their input's statistics take them: "
                        "'thumbnail', once from a half-size copy of the whole image (the default for instance "
                        "norm, and for batch norm without --eval), or 'tile', each tile its own (the default "
                        "otherwise, where it makes no difference)")


def check_tile_options(opt: argparse.Namespace, netG: str) -> None:
    """Reject tile settings that cannot work for generator `netG`, in one line naming the option."""
    check_tile_settings(opt.tile, opt.tile_overlap, opt.tile_stats, networks.input_size_multiple(netG))


def add_saved_generator_options(p: argparse.ArgumentParser) -> None:
    """Which saved generator to load, and the options that shape it when they are not saved with it."""
    p.add_argument("--name", required=True, help="the run: its folder under --checkpoints_dir")
    p.add_argument("--checkpoints_dir", default="./checkpoints", help="where runs are stored")
    p.add_argument("--epoch", default="latest", help="checkpoint to load: latest or an epoch number")
    p.add_argument("--load_iter", type=Range(int, min=0), default=0, help="if > 0, load iter_<load_iter> checkpoints")
    p.add_argument("--model_suffix", default="",
                   help="load <epoch>_net_G<model_suffix>.pth, e.g. _A for G_A of a CycleGAN run")
    shaped = "when not given: the run's train_opt.json, else"
    p.add_argument("--netG", default=None, choices=networks.GENERATORS,
                   help=f"generator ({shaped} {GENERATOR_DEFAULTS['netG']})")
    p.add_argument("--norm", default=None, choices=networks.NORM_LAYERS,
                   help=f"normalization ({shaped} {GENERATOR_DEFAULTS['norm']})")
    p.add_argument("--ngf", type=Range(int, min=1), default=None,
                   help=f"generator filters ({shaped} {GENERATOR_DEFAULTS['ngf']})")
    p.add_argument("--no_dropout", action="store_true", default=None,
                   help=f"no dropout in the generator ({shaped} off)")
    p.add_argument("--input_nc", type=Range(int, min=1), default=None, help=f"input channels ({shaped} 3)")
    p.add_argument("--output_nc", type=Range(int, min=1), default=None, help=f"output channels ({shaped} 3)")
    p.add_argument("--antialias", action="store_true", default=None,
                   help=f"blur-pool downsampling in the ResNet generator, as in CUT weights ({shaped} off)")
    p.add_argument("--antialias_up", action="store_true", default=None,
                   help=f"blur upsampling in the ResNet generator, as in CUT weights ({shaped} off)")


def generator_overrides(opt: argparse.Namespace) -> dict:
    """The generator-shaping options given on the command line (the others stay None: the run's apply)."""
    shaping = ("netG", "norm", "ngf", "no_dropout", "input_nc", "output_nc", "antialias", "antialias_up")
    return {key: getattr(opt, key) for key in shaping if getattr(opt, key) is not None}


def check_generator_options(opt: argparse.Namespace) -> None:
    """A run name that stays inside --checkpoints_dir, and the run folder is there."""
    check_run_name(opt.name)
    if not os.path.isdir(opt.run_dir):
        raise UserError(f"no run folder '{opt.run_dir}'; check --name and --checkpoints_dir")


class TranslateOptions:
    """scripts/translate.py: apply a run's generator to image files and folders."""

    def parser(self) -> argparse.ArgumentParser:
        p = OptionParser(description="Translate images of any size with a trained generator.",
                         formatter_class=HelpFormatter)
        p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and folders (searched recursively)")
        p.add_argument("--output", required=True, help="folder for the results (made if missing)")
        p.add_argument("--suffix", default="_fake", help="result file names: <input stem><suffix>.png")
        add_saved_generator_options(p)
        p.add_argument("--gpu_ids", default="", help="'' picks CUDA when present, '-1' forces CPU, '0' picks cuda:0")
        p.add_argument("--eval", action="store_true",
                       help="eval mode (off keeps dropout and batch statistics, as test.py without --eval)")
        p.add_argument("--amp", default="off", choices=precision.AMP_MODES,
                       help="mixed precision: off (float32), bf16 (CPU or recent GPU) or fp16 (CUDA)")
        add_tile_options(p)
        return p

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        opt = self.parser().parse_args(argv)
        opt.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        check_generator_options(opt)
        if "/" in opt.suffix or os.sep in opt.suffix:
            raise UserError(f"--suffix '{opt.suffix}' must not hold a folder separator")
        opt.device = select_device(opt.gpu_ids)
        precision.check_amp(opt.amp, opt.device)
        netG = generator_options(opt.run_dir, generator_overrides(opt)).netG
        check_tile_options(opt, netG)
        return opt


class ExportOptions:
    """scripts/export.py: write a run's generator as ONNX or TorchScript."""

    def parser(self) -> argparse.ArgumentParser:
        p = OptionParser(description="Export a trained generator to ONNX or TorchScript.",
                         formatter_class=HelpFormatter)
        p.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to write")
        p.add_argument("--output", default=None,
                       help="the file to write (default: <run folder>/<epoch>_net_G<model_suffix>.onnx or .pt)")
        add_saved_generator_options(p)
        return p

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        opt = self.parser().parse_args(argv)
        opt.run_dir = os.path.join(opt.checkpoints_dir, opt.name)
        check_generator_options(opt)
        if opt.output is None:
            stem = checkpoint.network_file(checkpoint.load_suffix(opt.epoch, opt.load_iter), "G" + opt.model_suffix)
            extension = EXPORT_FORMATS[opt.format]
            opt.output = os.path.join(opt.run_dir, stem.removesuffix(".pth") + extension)
        opt.device = select_device("-1")  # exports are made on the CPU
        return opt
