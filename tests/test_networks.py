"""Networks: the original release's state-dict layout, its test vectors, and the architecture's properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

from models import networks
from tests.conftest import assert_state_dict_layout
from util.errors import UserError

REFERENCE = Path(__file__).resolve().parent / "reference"
LAYOUTS = json.loads((REFERENCE / "state_dicts.json").read_text())


def build_from_key(key: str) -> nn.Module:
    """Build the network a state_dicts.json key describes, e.g. 'D:basic:n_layers_D=3:norm=batch:ndf=64:in=3'."""
    kind, name, *fields = key.split(":")
    opts = dict(field.split("=") for field in fields)
    if kind == "G":
        return networks.define_G(int(opts["in"]), int(opts["out"]), int(opts["ngf"]), name, opts["norm"],
                                 opts["dropout"] == "True")
    return networks.define_D(int(opts["in"]), int(opts["ndf"]), name, int(opts["n_layers_D"]), opts["norm"])


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_state_dict_layout_matches_original(key):
    with torch.device("meta"):
        net = build_from_key(key)
    assert_state_dict_layout(net, LAYOUTS[key])


# file stem -> the network that produced it (widths 8)
VECTORS = {
    "unet_128_batch_ngf8": lambda: networks.define_G(3, 3, 8, "unet_128", "batch", use_dropout=True),
    "unet_256_batch_ngf8": lambda: networks.define_G(3, 3, 8, "unet_256", "batch", use_dropout=True),
    "resnet_6blocks_instance_ngf8": lambda: networks.define_G(3, 3, 8, "resnet_6blocks", "instance"),
    "resnet_9blocks_instance_ngf8": lambda: networks.define_G(3, 3, 8, "resnet_9blocks", "instance"),
    "basic_D_batch_ndf8_in6": lambda: networks.define_D(6, 8, "basic", norm="batch"),
    "basic_D_instance_ndf8_in3": lambda: networks.define_D(3, 8, "basic", norm="instance"),
    "n_layers5_D_instance_ndf8_in3": lambda: networks.define_D(3, 8, "n_layers", n_layers_D=5, norm="instance"),
    "pixel_D_batch_ndf8_in6": lambda: networks.define_D(6, 8, "pixel", norm="batch"),
}


def test_every_vector_file_is_covered():
    assert {p.stem for p in (REFERENCE / "vectors").glob("*.pt")} == set(VECTORS)


@pytest.mark.parametrize("stem", sorted(VECTORS))
def test_reference_vectors(stem):
    vector = torch.load(REFERENCE / "vectors" / f"{stem}.pt", weights_only=True)
    net = VECTORS[stem]()
    net.load_state_dict(vector["state_dict"], strict=True)
    net.eval()
    with torch.no_grad():
        output = net(vector["input"])
    torch.testing.assert_close(output, vector["output"], rtol=0, atol=1e-5)


def test_basic_patchgan_output_size_and_receptive_field():
    torch.manual_seed(0)
    net = networks.define_D(1, 2, "basic", norm="none").eval()
    image = torch.randn(1, 1, 256, 256, requires_grad=True)
    scores = net(image)
    assert scores.shape == (1, 1, 30, 30)
    scores[0, 0, 15, 15].backward()
    seen = image.grad[0, 0] != 0
    rows = seen.any(dim=1).nonzero().flatten()
    cols = seen.any(dim=0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70
    assert seen[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    assert seen.sum() == 70 * 70


@pytest.mark.parametrize(("netG", "downs"), [("unet_256", 8), ("unet_128", 7)])
def test_unet_shapes_and_bottleneck(netG, downs):
    side = networks.input_size_multiple(netG)
    assert side == 2**downs
    net = networks.define_G(2, 1, 2, netG, "instance")
    sizes = []
    innermost_down = [m for m in net.modules() if isinstance(m, nn.Conv2d)][-1]
    innermost_down.register_forward_hook(lambda module, inputs, output: sizes.append(output.shape[-2:]))
    out = net(torch.randn(1, 2, side, side))
    assert out.shape == (1, 1, side, side)
    assert out.abs().max() <= 1
    assert sizes == [(1, 1)]


def test_resnet_generator_keeps_size_and_range():
    net = networks.define_G(3, 2, 4, "resnet_6blocks", "instance")
    out = net(torch.randn(2, 3, 20, 28))
    assert out.shape == (2, 2, 20, 28)
    assert out.abs().max() <= 1
    assert networks.input_size_multiple("resnet_6blocks") == networks.input_size_multiple("resnet_9blocks") == 4


@pytest.mark.parametrize(("netG", "count"), [("unet_256", 3), ("unet_128", 2), ("resnet_9blocks", 9),
                                             ("resnet_6blocks", 6)])
def test_dropout_follows_use_dropout(netG, count):
    with torch.device("meta"):
        with_dropout = networks.define_G(3, 3, 8, netG, "batch", use_dropout=True)
        without = networks.define_G(3, 3, 8, netG, "batch", use_dropout=False)
    dropouts = [m for m in with_dropout.modules() if isinstance(m, nn.Dropout)]
    assert len(dropouts) == count
    assert all(m.p == 0.5 for m in dropouts)
    assert not any(isinstance(m, nn.Dropout) for m in without.modules())


def test_eval_mode_is_deterministic_with_dropout():
    net = networks.define_G(3, 3, 4, "unet_128", "batch", use_dropout=True).eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(net(x), net(x))


def test_pixel_discriminator_scores_every_pixel():
    net = networks.define_D(4, 4, "pixel", norm="instance")
    assert net(torch.randn(2, 4, 9, 7)).shape == (2, 1, 9, 7)


@pytest.mark.parametrize("norm", ["batch", "instance", "syncbatch"])
def test_norm_factories(norm):
    layer = networks.get_norm_layer(norm)(5)
    if norm == "instance":
        assert isinstance(layer, nn.InstanceNorm2d)
        assert not layer.affine and not layer.track_running_stats
        assert layer.state_dict() == {}
    else:
        assert isinstance(layer, nn.modules.batchnorm._BatchNorm)
        assert layer.affine and layer.track_running_stats
        assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_norm_none_gives_identity_and_biased_convs():
    assert isinstance(networks.get_norm_layer("none")(5), nn.Identity)
    for net in (networks.define_G(3, 3, 4, "resnet_6blocks", "none"), networks.define_G(3, 3, 4, "unet_128", "none"),
                networks.define_D(3, 4, "basic", norm="none"), networks.define_D(3, 4, "pixel", norm="none")):
        convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
        assert convs and all(m.bias is not None for m in convs)


def test_syncbatch_has_batch_layout():
    with torch.device("meta"):
        batch = networks.define_G(3, 3, 8, "resnet_6blocks", "batch")
        sync = networks.define_G(3, 3, 8, "resnet_6blocks", "syncbatch")
    assert {k: v.shape for k, v in sync.state_dict().items()} == {k: v.shape for k, v in batch.state_dict().items()}


def test_syncbatch_matches_batchnorm_on_cpu_with_and_without_process_group(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, 5)
    batch, sync = networks.get_norm_layer("batch")(3), networks.get_norm_layer("syncbatch")(3)
    sync.load_state_dict(batch.state_dict())
    expected = batch(x)
    torch.testing.assert_close(sync(x), expected)
    # Under torchrun with gloo, PyTorch's own SyncBatchNorm refuses CPU tensors; ours runs (one process: as batch).
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        with pytest.raises(ValueError):
            nn.SyncBatchNorm(3)(x)
        torch.testing.assert_close(sync(x), expected)
    finally:
        dist.destroy_process_group()
    assert sync.num_batches_tracked == 2


@pytest.mark.parametrize(("name", "call"), [
    ("--netG", lambda: networks.define_G(3, 3, 8, "unet_64")),
    ("--netD", lambda: networks.define_D(3, 8, "global")),
    ("--norm", lambda: networks.get_norm_layer("group")),
    ("--init_type", lambda: networks.define_D(3, 8, "basic", init_type="uniform")),
    ("--netG", lambda: networks.input_size_multiple("unet_64")),
])
def test_unknown_names_list_the_valid_ones(name, call):
    with pytest.raises(UserError) as info:
        call()
    message = str(info.value)
    assert name in message
    valid = {"--netG": networks.GENERATORS, "--netD": networks.DISCRIMINATORS, "--norm": networks.NORM_LAYERS,
             "--init_type": networks.INIT_TYPES}[name]
    assert all(v in message for v in valid)


def conv_and_norm(init_type: str, gain: float) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 128, 3), nn.BatchNorm2d(4096))
    networks.init_weights(net, init_type, gain)
    return net[0], net[1]


@pytest.mark.parametrize(("init_type", "std"), [
    ("normal", 0.02),
    ("xavier", 0.5 * math.sqrt(2 / (64 * 9 + 128 * 9))),
    ("kaiming", math.sqrt(2 / (64 * 9))),
])
def test_init_weight_statistics(init_type, std):
    conv, norm = conv_and_norm(init_type, 0.02 if init_type == "normal" else 0.5)
    assert conv.weight.mean().abs() < 0.05 * std
    assert conv.weight.std().item() == pytest.approx(std, rel=0.03)
    assert torch.equal(conv.bias, torch.zeros(128))
    gain = 0.02 if init_type == "normal" else 0.5
    assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.05 * gain)
    assert norm.weight.std().item() == pytest.approx(gain, rel=0.05)
    assert torch.equal(norm.bias, torch.zeros(4096))


def test_orthogonal_init_rows_are_orthogonal_with_norm_gain():
    conv, _ = conv_and_norm("orthogonal", 0.5)
    rows = conv.weight.flatten(1)
    torch.testing.assert_close(rows @ rows.T, 0.25 * torch.eye(128), atol=1e-5, rtol=0)


def test_init_net_returns_the_same_network():
    net = nn.Conv2d(1, 1, 1)
    assert networks.init_net(net, "xavier") is net
