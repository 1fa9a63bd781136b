"""Write a generator to ONNX or TorchScript for use outside this framework.

The exported model takes one float32 tensor `input` of shape (N, C, H, W) with values in [-1, 1] (RGB, or one
channel for --input_nc 1), where N, H and W may change from call to call (H and W must be multiples of the
generator's size multiple: 4 for the ResNets, 256 / 128 for unet_256 / unet_128), and returns `output` of shape
(N, output_nc, H, W) in [-1, 1]. To get 8-bit pixels: (output + 1) * 127.5, rounded and clipped.

The generator is exported in eval mode: dropout off, batch norm with its running statistics (test.py's --eval);
instance norm always uses each image's own statistics. The caller's module is not changed.

ONNX goes through torch.onnx's TorchScript-based exporter (`dynamo=False`, opset 17), which needs only the `onnx`
package, exports every generator here in under a second and keeps height and width dynamic; the torch.export-based
exporter (the default in torch 2.14) also needs `onnxscript`, takes seconds and specialises the U-Net to its
example size.
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

EXPORT_FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "input", "output"

# Notices the exporters print for every export of these networks; none asks for action here.
_EXPORT_NOTICES = (
    r".*legacy TorchScript-based ONNX export.*",  # we choose it on purpose (see the module docstring)
    r".*Constant folding.*",
    r".*operator 'instance_norm' is set to train=True.*",  # instance norm always uses the input's statistics
    r".*torch\.jit\.\w+` is deprecated.*",
    r".*The feature will be removed.*",  # the TorchScript-based exporter announcing its own retirement
    r".*TracerWarning.*|.*Converting a tensor to a Python boolean.*",  # shape checks inside norms, constant here
)


@contextmanager
def _without_notices() -> Iterator[None]:
    """Silence the exporters' routine notices (_EXPORT_NOTICES) inside the block."""
    with warnings.catch_warnings():
        for message in _EXPORT_NOTICES:
            warnings.filterwarnings("ignore", message=message)
        yield


def _eval_copy(netG: nn.Module) -> nn.Module:
    """A float32 CPU copy of the generator in eval mode, leaving the original as it was."""
    return copy.deepcopy(netG).float().cpu().eval()


def _write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Let `write` fill a temporary file beside `path`, then rename it over `path`: never a half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp_", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def export_onnx(netG: nn.Module, path: str, input_nc: int, example_size: int = 256) -> None:
    """Write `netG` as an ONNX model with dynamic batch, height and width (see the module docstring).

    `example_size`: the side of the square example image traced through the network (a multiple of its size
    multiple); the exported model accepts other sizes.
    """
    import onnx

    net = _eval_copy(netG)
    example = torch.zeros(1, input_nc, example_size, example_size)
    dynamic = {0: "batch", 2: "height", 3: "width"}

    def write(tmp_path: str) -> None:
        with torch.no_grad(), _without_notices():
            torch.onnx.export(net, (example,), tmp_path, dynamo=False, opset_version=ONNX_OPSET,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic})
        onnx.checker.check_model(tmp_path)

    _write_atomically(path, write)


def export_torchscript(netG: nn.Module, path: str) -> None:
    """Write `netG` as a scripted, frozen TorchScript module (any batch, height and width); load with torch.jit.load.

    Freezing (weights as constants) spares the TorchScript runtime seconds of re-optimising the graph on each of the
    first input shapes it sees; it takes a few seconds itself for the U-Nets.
    """
    net = _eval_copy(netG)
    with _without_notices():
        scripted = torch.jit.freeze(torch.jit.script(net))
        _write_atomically(path, lambda tmp_path: torch.jit.save(scripted, tmp_path))


def export_generator(netG: nn.Module, path: str, format: str, input_nc: int, example_size: int = 256) -> None:
    """Export `netG` to `path` in `format` (one of EXPORT_FORMATS)."""
    if format == "onnx":
        export_onnx(netG, path, input_nc, example_size)
    elif format == "torchscript":
        export_torchscript(netG, path)
    else:
        raise ValueError(f"unknown export format '{format}'; choose one of: {', '.join(EXPORT_FORMATS)}")
