"""Model registry: `--model foo_bar` loads models/foo_bar_model.py and its BaseModel subclass `FooBarModel`.

To add a model, drop such a file here (models/template_model.py shows the house style). The entry points also
find here what they do with any model: load its weights from a run folder and prepare its networks to run.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.base_model import BaseModel, load_networks, wrap_generators
from util import checkpoint, distributed, messages
from util.compilation import CompiledNetwork
from util.errors import UserError, unknown_name


def model_names() -> list[str]:
    """Names accepted by --model: one per models/<name>_model.py file."""
    return sorted(p.name.removesuffix("_model.py") for p in Path(__file__).parent.glob("*_model.py")
                  if p.name != "base_model.py")


def find_model_using_name(name: str) -> type[BaseModel]:
    """Import models/<name>_model.py and return the BaseModel subclass named like it (case-insensitive)."""
    if name not in model_names():
        raise unknown_name("--model", name, model_names())
    module = importlib.import_module(f"models.{name}_model")
    wanted = name.replace("_", "").lower() + "model"
    for attr, value in vars(module).items():
        if attr.lower() == wanted and isinstance(value, type) and issubclass(value, BaseModel):
            return value
    raise UserError(f"models/{name}_model.py must define a BaseModel subclass named like '{wanted}' "
                    "(case-insensitive)")


def get_option_setter(name: str) -> Callable[[argparse.ArgumentParser, bool], argparse.ArgumentParser]:
    """The model's hook that adds its options and rewrites defaults."""
    return find_model_using_name(name).modify_commandline_options


def create_model(opt: argparse.Namespace) -> BaseModel:
    """Build the model named by opt.model."""
    model = find_model_using_name(opt.model)(opt)
    messages.info(f"model [{type(model).__name__}] was created")
    return model


def prepare_to_run(model: BaseModel, opt: argparse.Namespace, ddp: bool) -> None:
    """Apply --channels_last and --compile to every network and, with `ddp` inside a process group, wrap it in
    DistributedDataParallel. Call it after loading weights, so checkpoints always meet the plain networks.
    """

    def wrap(name: str, net: nn.Module) -> nn.Module:
        if opt.channels_last:
            net = net.to(memory_format=torch.channels_last)
        if opt.compile:
            net = CompiledNetwork(net, f"net{name}")
        return distributed.wrap_ddp(net, model.device) if ddp else net

    model.wrap_networks(wrap)


def setup_for_test(model: BaseModel, opt: argparse.Namespace, first_batch: dict[str, Any]) -> None:
    """Ready a model for inference as test.py runs it: parts built from the first batch, the weights of --epoch
    (or --load_iter) loaded from the run folder, --compile applied, every generator (a network named G...) made to
    take any image size (and --tile) by wrapping it in a models.inference.Translator, and eval mode with --eval.
    """
    model.data_dependent_initialize(first_batch)
    load_networks(model, os.path.join(opt.checkpoints_dir, opt.name), checkpoint.load_suffix(opt.epoch, opt.load_iter))
    model.setup()
    prepare_to_run(model, opt, ddp=False)
    wrap_generators(model, opt)
    if opt.eval:
        model.eval()


def check_evaluation_pair(model: BaseModel, option: str) -> tuple[str, str]:
    """The (generated, real) visuals that the metrics of `option` compare (the model's `evaluation_pair`); a model
    whose visuals do not include them is a UserError saying how to name them.
    """
    pair = model.evaluation_pair
    if pair is None or not set(pair) <= set(model.visual_names):
        wanted = "its evaluation pair" if pair is None else f"the visuals {pair[0]} and {pair[1]}"
        raise UserError(f"{option} compares {wanted}, but --model {model.opt.model} shows "
                        f"{', '.join(model.visual_names)}; set evaluation_pair = (generated, real) to two of "
                        f"those in {type(model).__name__}")
    return pair
