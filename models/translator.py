"""Apply a trained generator to your own images from Python (the API behind scripts/translate.py and export.py).

    from PIL import Image
    from models.translator import load_translator

    translator = load_translator("checkpoints/demo_shapes_cyclegan", model_suffix="_A")
    translator(Image.open("shapes.png")).save("shapes_fake.png")  # any size in, the same size out

- `load_generator(path, ...)`: the generator saved in a run folder, or in a weights file, built with the options
  that trained it and loaded with its weights (checked: a mismatch names the options).
- `load_translator(path, ...)`: the same, wrapped in a `Translator` (models/inference.py), which takes PIL images
  or (N, C, H, W) tensors in [-1, 1] of any size, optionally in tiles, and returns the same kind at the same size.

Options: a run folder's `train_opt.json` (written by train.py) gives them, so --netG, --norm, --ngf, --no_dropout
need not be repeated; a weights file uses the `train_opt.json` beside it when there is one. Weights without saved
options (published ones) take GENERATOR_DEFAULTS, test.py's defaults. Keyword options override both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

import torch
from torch import nn

from models import find_model_using_name, networks
from models.inference import Translator
from util import checkpoint
from util.errors import UserError

RUN_OPTIONS_FILE = "train_opt.json"
# The options that shape a generator, with test.py's defaults (--model test): what published weights get.
GENERATOR_DEFAULTS: dict[str, Any] = {"netG": "resnet_9blocks", "norm": "instance", "ngf": 64, "no_dropout": False,
                                      "input_nc": 3, "output_nc": 3, "init_type": "normal", "init_gain": 0.02,
                                      "antialias": False, "antialias_up": False}
NETWORK_FILE = re.compile(r"^(?P<suffix>.+)_net_(?P<name>\w+)\.pth$")


def saved_options(folder: str) -> dict[str, Any] | None:
    """The options of the run in `folder` (its train_opt.json), or None when it has none."""
    path = os.path.join(folder, RUN_OPTIONS_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            options = json.load(f)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read the run's options '{path}': {err}; repair or delete the file (then give "
                        "--netG, --norm, --ngf and --no_dropout yourself)") from None
    if not isinstance(options, dict) or "model" not in options:
        raise UserError(f"'{path}' holds no options saved by train.py; delete it and give --netG, --norm, --ngf "
                        "and --no_dropout yourself")
    return options


def generator_options(folder: str, overrides: dict[str, Any], device: str | torch.device = "cpu"
                      ) -> argparse.Namespace:
    """The options to build a generator saved in `folder`: the run's saved ones, else --model test with
    GENERATOR_DEFAULTS; then `overrides` (None values are ignored). Test-time: isTrain is False.
    """
    saved = saved_options(folder)
    options = dict(saved) if saved is not None else {"model": "test", "model_suffix": "", **GENERATOR_DEFAULTS}
    unknown = sorted(set(overrides) - set(options) - set(GENERATOR_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown generator options: {', '.join(unknown)}")
    options.update({key: value for key, value in overrides.items() if value is not None})
    options.update(isTrain=False, device=torch.device(device))
    networks.input_size_multiple(options["netG"])  # an unknown --netG is a one-line error here
    return argparse.Namespace(**options)


def build_generator(opt: argparse.Namespace, name: str) -> tuple[nn.Module, str]:
    """Network `name` (G, G_A, ...) of the model that `opt` names, freshly initialised, and the options that shape it
    (for mismatch messages). A model without that network is a UserError listing the generators it has.
    """
    if opt.model == "test":
        opt.model_suffix = name.removeprefix("G")
    model = find_model_using_name(opt.model)(opt)
    nets = model.networks()
    if name not in nets:
        generators = [n for n in nets if n.startswith("G")]
        if not generators:
            raise UserError(f"--model {opt.model} has no generator (its networks: {', '.join(nets) or 'none'}); "
                            "there is nothing to translate or export")
        choices = " or ".join(f"--model_suffix {g[1:] or repr('')}" for g in generators)
        raise UserError(f"--model {opt.model} has no generator {name}; its generators are {', '.join(generators)}: "
                        f"pick one with {choices}")
    return nets[name], model.network_options_hint(name)


def load_generator(path: str, model_suffix: str = "", epoch: str = "latest", load_iter: int = 0,
                   device: str | torch.device = "cpu", **options: Any) -> tuple[nn.Module, argparse.Namespace]:
    """The generator saved at `path` with its weights, on `device`, and the options it was built with.

    `path` is a run folder (the generator `<epoch>_net_G<model_suffix>.pth`, or `iter_<load_iter>_net_...` when
    `load_iter` > 0) or a weights file (`<...>_net_<name>.pth` picks network <name> of the run's model). `options`
    (netG, norm, ngf, no_dropout, input_nc, output_nc, init_type, init_gain, and antialias, antialias_up for CUT
    weights) override the saved ones (see the module docstring). The generator is in training mode, as test.py runs
    it without --eval: call `.eval()` for --eval.
    Problems (no such folder or file, missing weights, weights that do not fit the options) raise UserError.
    """
    name = "G" + model_suffix
    if os.path.isdir(path):
        folder, weights_file = path, None
    elif os.path.isfile(path):
        folder, weights_file = os.path.dirname(path) or os.curdir, path
        match = NETWORK_FILE.match(os.path.basename(path))
        if match and saved_options(folder) is not None:
            name = match.group("name")
    else:
        raise UserError(f"no run folder or weights file '{path}'; check --name and --checkpoints_dir")
    opt = generator_options(folder, options, device)
    net, hint = build_generator(opt, name)
    if weights_file is None:
        suffix = checkpoint.load_suffix(epoch, load_iter)
        weights = checkpoint.read_network_weights(folder, suffix, {name: net}, {name: hint},
                                                  ("G", "--model_suffix"))[name]
    else:
        weights = checkpoint.checked_weights(net, weights_file, hint)
    net.load_state_dict(weights, strict=True)
    return net.to(opt.device), opt


def load_translator(path: str, model_suffix: str = "", epoch: str = "latest", load_iter: int = 0,
                    device: str | torch.device = "cpu", eval_mode: bool = False, amp: str = "off", tile: int = 0,
                    tile_overlap: int = 32, tile_stats: str | None = None, **options: Any) -> Translator:
    """`load_generator(path, ...)` wrapped in a Translator with these settings (see models.inference.translate);
    `eval_mode` as test.py's --eval.
    """
    net, opt = load_generator(path, model_suffix, epoch, load_iter, device, **options)
    translator = Translator(net, networks.input_size_multiple(opt.netG), amp, tile, tile_overlap, tile_stats)
    return translator.eval() if eval_mode else translator
