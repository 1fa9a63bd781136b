"""Model registry: `--model foo_bar` loads models/foo_bar_model.py and its BaseModel subclass `FooBarModel`."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

from models.base_model import BaseModel
from util.errors import unknown_name


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
    raise TypeError(f"models/{name}_model.py must define a BaseModel subclass named like '{wanted}'")


def get_option_setter(name: str) -> Callable[[argparse.ArgumentParser, bool], argparse.ArgumentParser]:
    """The model's hook that adds its options and rewrites defaults."""
    return find_model_using_name(name).modify_commandline_options


def create_model(opt: argparse.Namespace) -> BaseModel:
    """Build the model named by opt.model."""
    model = find_model_using_name(opt.model)(opt)
    print(f"model [{type(model).__name__}] was created")
    return model
