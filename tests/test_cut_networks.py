"""CUT's networks and loss: the CUT release's state-dict layouts and test vectors, and their behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from models import networks
from models.antialias import BlurDownsample, BlurUpsample
from models.losses import patch_nce_loss
from tests.conftest import assert_state_dict_layout
from util.errors import UserError

CUT_REFERENCE = Path(__file__).resolve().parent / "reference" / "cut"
LAYOUTS = json.loads((CUT_REFERENCE / "state_dicts.json").read_text())
NCE_LAYERS = [0, 4, 8, 12, 16]


def load_vector(stem: str) -> dict:
    return torch.load(CUT_REFERENCE / "vectors" / f"{stem}.pt", weights_only=True)


def cut_generator(netG: str = "resnet_6blocks", ngf: int = 8, antialias: bool = True, antialias_up: bool = True,
                  norm: str = "instance") -> nn.Module:
    return networks.define_G(3, 3, ngf, netG, norm, init_type="xavier", antialias=antialias,
                             antialias_up=antialias_up)


def build_from_key(key: str) -> nn.Module:
    """Build the network a CUT state_dicts.json key describes (F: built from its generator's features)."""
    kind, name, *fields = key.split(":")
    opts = dict(field.split("=") for field in fields if "=" in field)
    if kind == "G":
        return cut_generator(name, int(opts["ngf"]), opts["no_antialias"] == "False",
                             opts["no_antialias_up"] == "False", opts["norm"])
    if kind == "D":
        return networks.define_D(int(opts["in"]), int(opts["ndf"]), name, int(opts.get("n_layers_D", 3)),
                                 opts["norm"], antialias=opts["no_antialias"] == "False")
    netG = key.split(":")[4]  # 'F:mlp_sample:netF_nc=256:for=G:resnet_9blocks:ngf=64:nce_layers=0,4,8,12,16'
    layers = [int(i) for i in opts["nce_layers"].split(",")]
    feats = cut_generator(netG, int(opts["ngf"]))(torch.empty(1, 3, 64, 64), layers, encode_only=True)
    projector = networks.define_F(name, int(opts["netF_nc"]), "xavier")
    projector(feats, num_patches=4)
    return projector


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_state_dict_layout_matches_cut_release(key):
    with torch.device("meta"):
        net = build_from_key(key)
    assert_state_dict_layout(net, LAYOUTS[key])


def test_blur_filters_are_the_binomial_ones():
    down, up = BlurDownsample(2), BlurUpsample(3)
    torch.testing.assert_close(down.filt[1, 0], torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    row = torch.tensor([1.0, 3, 3, 1])
    torch.testing.assert_close(up.filt[2, 0], torch.outer(row, row) / 16)
    assert list(down.state_dict()) == list(up.state_dict()) == ["filt"]


@pytest.mark.parametrize(("height", "width"), [(8, 8), (9, 14), (31, 6)])
def test_blur_resampling_sizes_and_constant_images(height, width):
    flat = torch.full((1, 2, height, width), 0.25)
    down = BlurDownsample(2)(flat)
    assert down.shape[-2:] == ((height + 1) // 2, (width + 1) // 2)
    up = BlurUpsample(2)(flat)
    assert up.shape[-2:] == (2 * height, 2 * width)
    torch.testing.assert_close(down, torch.full_like(down, 0.25))
    torch.testing.assert_close(up, torch.full_like(up, 0.25))


G_VECTORS = {
    "G_resnet_6blocks_aa_ngf8": lambda: cut_generator("resnet_6blocks"),
    "G_resnet_6blocks_noaa_up_ngf8": lambda: cut_generator("resnet_6blocks", antialias_up=False),
    "G_resnet_9blocks_aa_ngf8": lambda: cut_generator("resnet_9blocks"),
}


def test_every_cut_vector_file_is_covered():
    stems = {p.stem for p in (CUT_REFERENCE / "vectors").glob("*.pt")}
    assert stems == set(G_VECTORS) | {"D_basic_aa_ndf8", "F_patchnce_ngf8"}


@pytest.mark.parametrize("stem", sorted(G_VECTORS))
def test_generator_vectors(stem):
    vector = load_vector(stem)
    net = G_VECTORS[stem]()
    net.load_state_dict(vector["state_dict"], strict=True)
    net.eval()
    layers = list(vector["nce_layers"])
    with torch.no_grad():
        output = net(vector["input"])
        encoded = net(vector["input"], layers, encode_only=True)
        output_too, features = net(vector["input"], layers)
    torch.testing.assert_close(output, vector["output"], rtol=0, atol=1e-5)
    torch.testing.assert_close(output_too, vector["output"], rtol=0, atol=1e-5)
    assert len(encoded) == len(features) == len(vector["encode_only_features"]) == len(layers)
    for mine, theirs, also in zip(encoded, vector["encode_only_features"], features, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-5)
        torch.testing.assert_close(also, theirs, rtol=0, atol=1e-5)


def test_antialiased_discriminator_vector():
    vector = load_vector("D_basic_aa_ndf8")
    net = networks.define_D(3, 8, "basic", norm="instance", antialias=True)
    net.load_state_dict(vector["state_dict"], strict=True)
    with torch.no_grad():
        output = net.eval()(vector["input"])
    torch.testing.assert_close(output, vector["output"], rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def patchnce_vector():
    return load_vector("F_patchnce_ngf8")


def test_projector_vectors_for_the_given_patch_ids(patchnce_vector):
    vector = patchnce_vector
    generator = cut_generator("resnet_6blocks")
    generator.load_state_dict(vector["G_state_dict"], strict=True)
    projector = networks.define_F("mlp_sample", vector["netF_nc"], "xavier")
    projector.load_state_dict(vector["F_state_dict"], strict=True)  # builds the MLPs from the stored shapes
    layers = list(vector["nce_layers"])
    with torch.no_grad():
        feat_k = generator.eval()(vector["src"], layers, encode_only=True)
        feat_q = generator(vector["tgt"], layers, encode_only=True)
        keys, ids = projector(feat_k, vector["num_patches"], vector["patch_ids"])
        queries, same_ids = projector(feat_q, vector["num_patches"], ids)
    for index in range(len(layers)):
        assert torch.equal(ids[index], vector["patch_ids"][index])
        assert torch.equal(same_ids[index], ids[index])
        torch.testing.assert_close(keys[index], vector["feat_k_sampled"][index], rtol=0, atol=1e-5)
        torch.testing.assert_close(queries[index], vector["feat_q_sampled"][index], rtol=0, atol=1e-5)


def test_patchnce_loss_vectors_for_both_negative_modes(patchnce_vector):
    vector = patchnce_vector
    assert {case["all_negatives_from_minibatch"] for case in vector["patchnce"]} == {False, True}
    for case in vector["patchnce"]:
        for q, k, expected in zip(vector["feat_q_sampled"], vector["feat_k_sampled"], case["per_layer_loss_mean"],
                                  strict=True):
            loss = patch_nce_loss(q, k, case["batch_size"], case["nce_T"], case["all_negatives_from_minibatch"])
            torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-5)


def test_patchnce_loss_trains_queries_not_keys():
    torch.manual_seed(0)
    keys = nn.functional.normalize(torch.randn(2 * 8, 16), dim=1).requires_grad_()
    queries = nn.functional.normalize(torch.randn(2 * 8, 16), dim=1).requires_grad_()
    loss = patch_nce_loss(queries, keys, num_images=2)
    loss.backward()
    assert keys.grad is None and queries.grad.abs().sum() > 0
    # A query equal to its key and far from the others is the easy case; more negatives make any case harder.
    assert patch_nce_loss(keys.detach(), keys.detach(), 2) < loss
    assert patch_nce_loss(queries, keys, 2, negatives_from_minibatch=True) > loss
    with pytest.raises(ValueError):
        patch_nce_loss(queries, keys, num_images=3)


def test_encode_only_stops_after_the_last_layer():
    net = cut_generator("resnet_9blocks", ngf=4)
    ran = []
    for index, layer in enumerate(net.model):
        layer.register_forward_hook(lambda module, inputs, output, index=index: ran.append(index))
    image = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        encoded = net(image, [8, 4], encode_only=True)
        assert ran == list(range(9))
        ran.clear()
        output, features = net(image, [8, 4])
    assert ran == list(range(len(net.model)))
    assert output.shape == image.shape
    assert [f.shape[1] for f in encoded] == [16, 8]  # layer 8: conv to 4 * ngf, layer 4: conv to 2 * ngf
    for mine, full in zip(encoded, features, strict=True):
        torch.testing.assert_close(mine, full)


def test_features_follow_the_release_in_place_relu_without_antialiasing():
    # Without anti-aliasing layer 8 is a norm whose output the next (in-place) ReLU rectifies, as in the release,
    # unless the pass stops at layer 8.
    net = cut_generator(ngf=4, antialias=False, antialias_up=False)
    image = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        (stopped,) = net(image, [8], encode_only=True)
        (rectified, _) = net(image, [8, 12], encode_only=True)
    assert stopped.min() < 0
    torch.testing.assert_close(rectified, stopped.clamp(min=0))


@pytest.mark.parametrize(("antialias", "antialias_up"), [(True, True), (True, False), (False, True)])
def test_generator_keeps_sizes_that_are_multiples_of_four(antialias, antialias_up):
    net = cut_generator(ngf=2, antialias=antialias, antialias_up=antialias_up)
    out = net(torch.randn(2, 3, 8, 20))
    assert out.shape == (2, 3, 8, 20)
    assert out.abs().max() <= 1


@pytest.mark.parametrize("size", [(30, 32), (32, 18), (4, 8), (33, 33)])
def test_sizes_the_generator_cannot_keep_are_refused(size):
    net = cut_generator(ngf=2)
    for call in (lambda x: net(x), lambda x: net(x, NCE_LAYERS, encode_only=True)):
        with pytest.raises(UserError) as info:
            call(torch.randn(1, 3, *size))
        message = str(info.value)
        assert "\n" not in message
        assert "multiples of 4" in message and f"{size[1]}x{size[0]}" in message and "--crop_size" in message


def test_out_of_range_nce_layers_are_refused():
    net = cut_generator("resnet_6blocks", ngf=2)
    assert len(net.model) == 29
    with pytest.raises(UserError, match="--nce_layers index 29 .* 0 to 28"):
        net(torch.randn(1, 3, 8, 8), [0, 29], encode_only=True)


def test_antialiased_discriminator_keeps_the_patchgan_map_size():
    net = networks.define_D(3, 2, "basic", norm="instance", antialias=True)
    assert net(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert net(torch.randn(1, 3, 37, 45)).shape[-2:] == (2, 3)


def feature_maps(widths=(3, 5), sides=((6, 7), (3, 4)), batch=2):
    torch.manual_seed(0)
    return [torch.randn(batch, width, *side) for width, side in zip(widths, sides, strict=True)]


def test_projector_builds_its_mlps_from_the_first_features():
    projector = networks.define_F("mlp_sample", netF_nc=16, init_type="normal", init_gain=0.02)
    assert projector.needs_build and not list(projector.parameters())
    rows, ids = projector(feature_maps(), num_patches=5)
    assert not projector.needs_build
    assert list(projector.state_dict()) == [f"mlp_{i}.{j}.{p}" for i in (0, 1) for j in (0, 2)
                                             for p in ("weight", "bias")]
    assert projector.mlp_0[0].weight.shape == (16, 3) and projector.mlp_1[0].weight.shape == (16, 5)
    assert projector.mlp_1[2].weight.std() < 0.03  # init_type 'normal', gain 0.02, applied at build time
    assert torch.equal(projector.mlp_1[0].bias, torch.zeros(16))
    assert [r.shape for r in rows] == [(10, 16), (10, 16)]
    for r in rows:
        torch.testing.assert_close(r.norm(dim=1), torch.ones(10), rtol=1e-3, atol=0)  # eps 1e-7 on tiny rows
    assert all(len(i) == 5 and len(set(i.tolist())) == 5 for i in ids)
    assert ids[0].max() < 42 and ids[1].max() < 12


def test_projector_samples_the_same_locations_when_given_ids():
    feats = feature_maps()
    sampler = networks.define_F("sample")
    first, ids = sampler(feats, num_patches=4)
    again, same = sampler(feats, num_patches=4, patch_ids=ids)
    for a, b, i, j in zip(first, again, ids, same, strict=True):
        torch.testing.assert_close(a, b)
        assert torch.equal(i, j)
    # Rows are image-major: image 1's rows are the same locations of image 1's map.
    location = feats[1][1].flatten(1)[:, ids[1][2]]
    torch.testing.assert_close(first[1][4 + 2], location / location.norm())


def test_projector_all_locations_and_more_patches_than_locations():
    feats = feature_maps()
    sampler = networks.define_F("sample")
    every, ids = sampler(feats, num_patches=0)
    assert torch.equal(ids[1], torch.arange(12)) and every[1].shape == (2 * 12, 5)
    capped, ids = sampler(feats, num_patches=1000)
    assert sorted(ids[1].tolist()) == list(range(12)) and capped[0].shape == (2 * 42, 3)
    with pytest.raises(UserError, match="--num_patches"):
        sampler(feats, num_patches=-1)


def test_reshape_projector_uses_a_four_by_four_grid():
    feats = feature_maps(sides=((8, 8), (5, 6)))
    rows, ids = networks.define_F("reshape")(feats, num_patches=3)
    assert [r.shape for r in rows] == [(2 * 16, 3), (2 * 16, 5)]
    pooled = feats[0][1, :, 2:4, 4:6].mean(dim=(1, 2))  # image 1, grid cell (1, 2)
    torch.testing.assert_close(rows[0][16 + 1 * 4 + 2], pooled / pooled.norm())
    assert not list(networks.define_F("reshape").parameters())


def test_unknown_projector_is_refused():
    with pytest.raises(UserError) as info:
        networks.define_F("strided_conv")
    assert "--netF" in str(info.value) and all(name in str(info.value) for name in networks.PROJECTOR_NAMES)


def test_antialiased_generator_scripts_for_export():
    net = cut_generator(ngf=2).eval()
    with pytest.warns(FutureWarning):  # torch.jit.script's deprecation notice
        scripted = torch.jit.script(net)
    image = torch.randn(1, 3, 12, 16)
    with torch.no_grad():
        torch.testing.assert_close(scripted(image), net(image))
