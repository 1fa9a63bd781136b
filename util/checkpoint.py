"""Checkpoint files: atomic writes, safe loads, legacy-key fixes and clear mismatch errors."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from util.errors import UserError

WRAPPER_PREFIXES = ("module.", "_orig_mod.")
INSTANCE_NORM_STATS = ("running_mean", "running_var", "num_batches_tracked")


def atomic_save(obj: Any, path: str) -> None:
    """torch.save to a temporary file in the same folder, fsync it, then rename over `path`.

    A crash at any moment leaves either the old complete file or the new complete file, never a truncated one.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp_", suffix=".pth", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), new_file_mode())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    fsync_dir(folder)


def new_file_mode() -> int:
    """The permissions open() would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(folder: str) -> None:
    """Make a rename inside `folder` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def safe_load(path: str, map_location: str | torch.device = "cpu") -> Any:
    """Load a checkpoint with weights_only=True; refuse anything that needs arbitrary code to unpickle."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UserError(f"refusing to load '{path}': it is not a plain tensor checkpoint "
                        f"(weights_only loading failed: {str(err).splitlines()[0]})") from err
    except (RuntimeError, EOFError, OSError) as err:
        raise UserError(f"cannot read checkpoint '{path}': {str(err).splitlines()[0]}; "
                        "the file is corrupt or truncated, delete it or load another --epoch") from err


def unwrap_model(net: nn.Module) -> nn.Module:
    """The plain network inside DistributedDataParallel and torch.compile wrappers."""
    while True:
        if isinstance(net, nn.parallel.DistributedDataParallel):
            net = net.module
        elif hasattr(net, "_orig_mod"):
            net = net._orig_mod
        else:
            return net


def clean_state_dict(state_dict: Mapping[str, torch.Tensor], net: nn.Module) -> dict[str, torch.Tensor]:
    """Fix keys of older or wrapped checkpoints for `net`.

    Strips `module.` / `_orig_mod.` prefixes and drops the running statistics that old releases stored for
    InstanceNorm layers, which track none.
    """
    cleaned: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        while key.startswith(WRAPPER_PREFIXES):
            key = key.split(".", 1)[1]
        cleaned[key] = value
    for module_name, module in net.named_modules():
        if isinstance(module, nn.modules.instancenorm._InstanceNorm) and not module.track_running_stats:
            for stat in INSTANCE_NORM_STATS:
                cleaned.pop(f"{module_name}.{stat}" if module_name else stat, None)
    return cleaned


def load_weights(net: nn.Module, path: str, option_hint: str) -> None:
    """Load the state dict at `path` into `net` strictly; a mismatch names the options that probably differ."""
    net.load_state_dict(checked_weights(net, path, option_hint), strict=True)


def checked_weights(net: nn.Module, path: str, option_hint: str) -> dict[str, torch.Tensor]:
    """The state dict at `path`, cleaned and checked to fit `net` exactly (UserError naming the options if not)."""
    state_dict = safe_load(path)
    if not isinstance(state_dict, Mapping):
        raise UserError(f"'{path}' holds a {type(state_dict).__name__}, not a network state dict")
    state_dict = clean_state_dict(state_dict, net)
    expected = net.state_dict()
    problems = [f"unexpected {k}" for k in state_dict if k not in expected]
    problems += [f"missing {k}" for k in expected if k not in state_dict]
    problems += [f"{k} has shape {list(v.shape)}, network wants {list(expected[k].shape)}"
                 for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise UserError(f"checkpoint '{path}' does not fit the network built with {option_hint}: {shown}; "
                        "these options probably differ from the run that saved it")
    return state_dict
