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
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from util.atomic_files import write_atomically

EXPORT_FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}  # format -> file extension
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


def export_onnx(netG: nn.Module, path: str, input_nc: int, example_size: int = 256) -> None:
    """Write `netG` as an ONNX model with dynamic batch, height and width (see the module docstring).

    `example_size`: the side of the square example image traced through the network (a multiple of its size
    multiple); the exported model accepts other sizes.
    """
    import onnx

    net = _eval_copy(netG)
    example = torch.zeros(1, input_nc, example_size, example_size)
    dynamic = {0: "batch", 2: "height", 3: "width"}

    buffer = io.BytesIO()
    with torch.no_grad(), _without_notices():
        torch.onnx.export(net, (example,), buffer, dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic})
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    write_atomically(path, lambda f: f.write(buffer.getvalue()))


def export_torchscript(netG: nn.Module, path: str) -> None:
    """Write `netG` as a scripted, frozen TorchScript module (any batch, height and width); load with torch.jit.load.

    Freezing (weights as constants) spares the TorchScript runtime seconds of re-optimising the graph on each of the
    first input shapes it sees; it takes a few seconds itself for the U-Nets.
    """
    net = _eval_copy(netG)
    with _without_notices():
        scripted = torch.jit.freeze(torch.jit.script(net))
        write_atomically(path, lambda f: torch.jit.save(scripted, f))


def export_generator(netG: nn.Module, path: str, format: str, input_nc: int, example_size: int = 256) -> None:
    """Export `netG` to `path` in `format` (one of EXPORT_FORMATS)."""
    if format == "onnx":
        export_onnx(netG, path, input_nc, example_size)
    elif format == "torchscript":
        export_torchscript(netG, path)
    else:
        raise ValueError(f"unknown export format '{format}'; choose one of: {', '.join(EXPORT_FORMATS)}")
