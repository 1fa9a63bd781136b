"""Exported generators (ONNX through onnxruntime, TorchScript) compute what the PyTorch generator computes."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch

from models.export import INPUT_NAME, export_generator, export_onnx, export_torchscript
from models.networks import define_G

# (netG, norm, input_nc, output_nc, example side, two input sizes (H, W) of which one is not square)
GENERATORS = [
    ("resnet_6blocks", "instance", 3, 3, 32, [(32, 32), (44, 60)]),
    ("resnet_9blocks", "batch", 1, 2, 32, [(36, 36), (28, 52)]),
    ("unet_128", "batch", 3, 3, 128, [(128, 128), (128, 256)]),
]


def generator(netG: str, norm: str, input_nc: int, output_nc: int) -> torch.nn.Module:
    torch.manual_seed(0)
    net = define_G(input_nc, output_nc, 4, netG, norm, use_dropout=True, init_gain=0.1)
    with torch.no_grad():  # give batch norm running statistics that are not the identity
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return net  # left in training mode: the export must switch to eval mode on a copy


def reference(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    net.eval()
    try:
        with torch.no_grad():
            return net(x)
    finally:
        net.train()


@pytest.mark.parametrize(("netG", "norm", "input_nc", "output_nc", "example", "sizes"), GENERATORS)
def test_onnx_matches_pytorch_on_two_sizes(tmp_path: Path, netG: str, norm: str, input_nc: int, output_nc: int,
                                           example: int, sizes: list[tuple[int, int]]) -> None:
    import onnxruntime as ort

    net = generator(netG, norm, input_nc, output_nc)
    path = str(tmp_path / "g.onnx")
    export_onnx(net, path, input_nc, example_size=example)
    assert net.training  # the caller's module is untouched
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for batch, (height, width) in zip((1, 2), sizes, strict=True):
        x = torch.rand(batch, input_nc, height, width) * 2 - 1
        (out,) = session.run(None, {INPUT_NAME: x.numpy()})
        expected = reference(net, x)
        assert out.shape == (batch, output_nc, height, width)
        assert float((torch.from_numpy(out) - expected).abs().max()) <= 1e-4


# Freezing the scripted U-Net takes seconds (its nested levels are inlined one into another), so the TorchScript
# test covers the ResNets; the ONNX test covers the U-Net.
@pytest.mark.parametrize(("netG", "norm", "input_nc", "output_nc", "example", "sizes"), GENERATORS[:2])
def test_torchscript_matches_pytorch_on_two_sizes(tmp_path: Path, netG: str, norm: str, input_nc: int,
                                                  output_nc: int, example: int, sizes: list[tuple[int, int]]) -> None:
    net = generator(netG, norm, input_nc, output_nc)
    path = str(tmp_path / "g.pt")
    export_torchscript(net, path)
    assert net.training
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        loaded = torch.jit.load(path)
    for batch, (height, width) in zip((1, 2), sizes, strict=True):
        x = torch.rand(batch, input_nc, height, width) * 2 - 1
        with torch.no_grad():
            out = loaded(x)
        assert out.shape == (batch, output_nc, height, width)
        assert float((out - reference(net, x)).abs().max()) <= 1e-4


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    net = generator("resnet_6blocks", "instance", 3, 3)
    path = tmp_path / "g.onnx"
    with pytest.raises(RuntimeError):
        export_onnx(net, str(path), input_nc=5, example_size=32)  # wrong channel count: the trace fails
    assert os.listdir(tmp_path) == []


def test_unknown_format_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="onnx, torchscript"):
        export_generator(torch.nn.Identity(), str(tmp_path / "g"), "tflite", 3)
