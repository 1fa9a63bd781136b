"""Code written for the original release runs here unchanged: its model, dataset and script files, and the names they
import from models.networks, models.base_model, data, data.base_dataset, data.image_folder, util.util,
util.visualizer and util.html.

The acceptance test installs tests/user_models/denoise_gan_model.py and noisy_dataset.py (written against the
original's API), trains them with train.py, tests them with test.py and with an original-style test script.
"""

from __future__ import annotations

import argparse
import functools
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from data import CustomDatasetDataLoader
from data.base_dataset import get_transform
from data.image_folder import IMG_EXTENSIONS, ImageFolder, default_loader, is_image_file
from models import losses, networks
from tests.conftest import (
    build_model,
    installed_dataset,
    installed_model,
    load_script,
    make_opt,
    run_main,
    write_noise_images,
)
from util import html, messages, util
from util.checkpoint import safe_load
from util.visualizer import Visualizer, save_images

TINY = ["--ngf", "4", "--ndf", "4", "--num_threads", "0", "--gpu_ids", "-1"]


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which once-only warnings were shown, so this test sees its own."""
    monkeypatch.setattr(messages, "_shown_once", set())


# ---------------------------------------------------------------------------------------------------- acceptance

@pytest.fixture(scope="module")
def user_files():
    with installed_model("denoise_gan"), installed_dataset("noisy"):
        yield


@pytest.fixture(scope="module")
def trained(user_files, tmp_path_factory):
    """The user's model and dataset trained by train.py: 2 epochs of 4 images at 32 px."""
    tmp = tmp_path_factory.mktemp("porting")
    root = tmp / "photos"
    write_noise_images(root / "train", 4, size=36, seed=1)
    write_noise_images(root / "test", 2, size=32, seed=2)
    ck = tmp / "ck"
    shown, messages._shown_once = messages._shown_once, set()  # this run's once-only warnings are its own
    try:
        result = run_main("train.py", "--dataroot", str(root), "--checkpoints_dir", str(ck), "--name", "denoise",
                          "--model", "denoise_gan", *TINY, "--load_size", "36", "--crop_size", "32", "--n_epochs", "1",
                          "--n_epochs_decay", "1", "--print_freq", "2", "--no_html", "--seed", "3")
    finally:
        messages._shown_once = shown
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp, root, ck, result


def test_an_original_style_model_and_dataset_train(trained):
    tmp, root, ck, result = trained
    run = ck / "denoise"
    for name in ("latest_net_G.pth", "latest_net_D.pth", "2_net_G.pth", "2_net_D.pth", "latest_train_state.pth"):
        assert (run / name).is_file(), name
    log = (run / "loss_log.txt").read_text()
    assert "G_adv" in log and "G_rec" in log and "D_real" in log
    assert "use models.losses.GANLoss" in result.stderr  # the moved name worked, with a pointer to the new one
    # the discriminator built from the class with a norm-layer factory: two stride-2 layers, batch norm, no conv bias
    weights = safe_load(str(run / "latest_net_D.pth"))
    assert "model.3.num_batches_tracked" in weights and "model.2.bias" not in weights
    assert weights["model.0.weight"].shape == (4, 6, 4, 4)
    state = safe_load(str(run / "latest_train_state.pth"))
    assert len(state["model"]["optimizers"]) == 2 and state["progress"]["total_iters"] == 8


def test_test_py_and_an_original_style_script_give_the_same_results(trained, monkeypatch, capsys):
    tmp, root, ck, _ = trained
    args = ["--dataroot", str(root), "--checkpoints_dir", str(ck), "--name", "denoise", "--model", "denoise_gan",
            *TINY, "--load_size", "32", "--crop_size", "32", "--seed", "5"]
    result = run_main("test.py", *args, "--results_dir", str(tmp / "by_test_py"))
    assert result.returncode == 0, result.stderr[-3000:]

    monkeypatch.setattr(sys, "argv", ["translate_folder.py", *args, "--results_dir", str(tmp / "by_script")])
    load_script("tests/user_models/translate_folder.py").main()
    assert "translated 2 images" in capsys.readouterr().out

    ours, theirs = (tmp / folder / "denoise" / "test_latest" for folder in ("by_test_py", "by_script"))
    names = sorted(p.name for p in (ours / "images").iterdir())
    assert names == sorted(f"{i}_{v}.png" for i in range(2) for v in ("noisy", "denoised", "clean"))
    assert sorted(p.name for p in (theirs / "images").iterdir()) == names
    for name in names:
        assert np.array_equal(np.asarray(Image.open(ours / "images" / name)),
                              np.asarray(Image.open(theirs / "images" / name))), name
    assert "0_denoised.png" in (theirs / "index.html").read_text()


# ---------------------------------------------------------------------------------------------------- models.networks

def same_layout(a: nn.Module, b: nn.Module) -> bool:
    return {k: v.shape for k, v in a.state_dict().items()} == {k: v.shape for k, v in b.state_dict().items()}


@pytest.mark.parametrize("norm, factory", [
    ("batch", nn.BatchNorm2d),
    ("batch", functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)),
    ("instance", functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)),
    ("instance", networks.get_norm_layer("instance")),
])
def test_network_classes_take_the_original_norm_layer_factories(norm, factory):
    assert same_layout(networks.ResnetGenerator(3, 3, 4, norm_layer=factory, n_blocks=2),
                       networks.ResnetGenerator(3, 3, 4, norm, n_blocks=2))
    assert same_layout(networks.UnetGenerator(3, 3, 5, 4, norm_layer=factory), networks.UnetGenerator(3, 3, 5, 4, norm))
    assert same_layout(networks.NLayerDiscriminator(3, 4, 2, norm_layer=factory),
                       networks.define_D(3, 4, "n_layers", 2, norm))
    assert same_layout(networks.PixelDiscriminator(3, 4, norm_layer=factory),
                       networks.define_D(3, 4, "pixel", norm=norm))


def test_get_norm_layer_returns_factories():
    assert isinstance(networks.get_norm_layer()(4), nn.InstanceNorm2d)  # 'instance' by default, as in the original
    assert isinstance(networks.get_norm_layer("batch")(4), nn.BatchNorm2d)
    assert isinstance(networks.get_norm_layer("none")(4), nn.Identity)


def test_a_unet_built_from_skip_connection_blocks_is_the_framework_unet():
    """A U-Net assembled level by level, as user code builds variants of it, loads define_G's weights and agrees."""
    ngf, norm_layer = 4, networks.get_norm_layer("batch")
    block = networks.UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm_layer=norm_layer)
    for _ in range(2):  # unet_128 has 7 levels: 2 of them between the innermost and the 4ngf one
        block = networks.UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer,
                                                 use_dropout=True)
    for outer in (4, 2, 1):
        block = networks.UnetSkipConnectionBlock(ngf * outer, ngf * outer * 2, submodule=block, norm_layer=norm_layer)
    block = networks.UnetSkipConnectionBlock(3, ngf, input_nc=3, submodule=block, outermost=True,
                                             norm_layer=norm_layer)
    reference = networks.define_G(3, 3, ngf, "unet_128", "batch", use_dropout=True)
    assembled = nn.Sequential()
    assembled.add_module("model", block)
    assembled.load_state_dict(reference.state_dict())  # strict: same keys and shapes
    x = torch.randn(2, 3, 128, 128)
    reference.eval(), assembled.eval()
    assert torch.equal(assembled(x), reference(x))
    assert block.outermost and isinstance(block, networks.UnetBlock)


def test_resnet_block_keeps_the_original_signature():
    block = networks.ResnetBlock(8, "zero", nn.BatchNorm2d, False, True)  # positional, as the original's
    assert list(block.state_dict())[:2] == ["conv_block.0.weight", "conv_block.0.bias"]
    assert block(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)
    replicate = networks.ResnetBlock(8, padding_type="replicate", norm_layer=nn.BatchNorm2d, use_dropout=True,
                                   use_bias=False)
    assert isinstance(replicate.conv_block[0], nn.ReplicationPad2d) and isinstance(replicate.conv_block[4], nn.Dropout)


def test_define_and_init_take_gpu_ids():
    net = networks.define_G(3, 3, 4, "resnet_6blocks", "instance", False, "normal", 0.02, [])
    assert next(net.parameters()).device.type == "cpu"
    assert networks.init_net(nn.Conv2d(1, 1, 1), "xavier", 0.02, gpu_ids=[]) is not None
    assert networks.define_D(3, 4, "basic", 3, "batch", "normal", 0.02, []) is not None


def test_moved_names_are_the_new_objects_and_warn_once(fresh_warnings, capsys):
    assert networks.GANLoss is losses.GANLoss and networks.Identity is nn.Identity
    assert networks.GANLoss is losses.GANLoss
    err = capsys.readouterr().err
    assert err.count("models.networks.GANLoss is kept for code written for the original release; "
                     "use models.losses.GANLoss") == 1
    assert "use torch.nn.Identity" in err
    with pytest.raises(AttributeError):
        networks.NoSuchThing  # noqa: B018


def test_gan_loss_target_tensor():
    loss = networks.GANLoss("lsgan", target_real_label=0.9)
    assert torch.equal(loss.get_target_tensor(torch.zeros(2, 1, 3, 3), True), torch.full((2, 1, 3, 3), 0.9))


def test_cal_gradient_penalty_returns_the_penalty_and_the_gradients():
    netD = networks.define_D(3, 4, "basic", norm="instance")
    real, fake = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    torch.manual_seed(0)
    penalty, gradients = networks.cal_gradient_penalty(netD, real, fake, "cpu", type="mixed", lambda_gp=10.0)
    torch.manual_seed(0)
    assert torch.equal(penalty, losses.gradient_penalty(netD, real, fake, "mixed", lambda_gp=10.0))
    assert gradients.shape == (2, 3 * 32 * 32)
    penalty.backward()  # differentiable w.r.t. the discriminator
    assert next(netD.parameters()).grad is not None
    zero, none = networks.cal_gradient_penalty(netD, real, fake, "cpu", lambda_gp=0.0)
    assert float(zero) == 0.0 and none is None


# ---------------------------------------------------------------------------------------------------- BaseModel

def test_base_model_keeps_the_original_helpers(aligned_root, tmp_path, fresh_warnings, capsys):
    ck = tmp_path / "ck"
    opt, model = build_model(aligned_root, ck, "--model", "pix2pix", "--name", "run", *TINY, "--netG", "unet_128")
    assert model.gpu_ids == [] and model.save_dir == str(ck / "run")
    model.save_networks(7)
    assert sorted(p.name for p in (ck / "run").glob("7_net_*.pth")) == ["7_net_D.pth", "7_net_G.pth"]
    _, other = build_model(aligned_root, ck, "--model", "pix2pix", "--name", "run", *TINY, "--netG", "unet_128")
    other.load_networks("7")
    assert all(torch.equal(a, b) for a, b in zip(model.netG.state_dict().values(), other.netG.state_dict().values(),
                                                     strict=True))
    err = capsys.readouterr().err
    assert "BaseModel.save_networks(epoch) is kept" in err and "models.load_networks(model, folder, suffix)" in err

    other.set_requires_grad([other.netD, None])  # freezes by default; None is skipped
    assert not any(p.requires_grad for p in other.netD.parameters())
    other.set_requires_grad(other.netD, True)
    assert all(p.requires_grad for p in other.netD.parameters())


def test_setup_with_options_loads_the_weights_for_testing(aligned_root, tmp_path):
    ck = tmp_path / "ck"
    _, trained_model = build_model(aligned_root, ck, "--model", "pix2pix", "--name", "run", *TINY, "--netG",
                                   "unet_128")
    trained_model.save_networks("latest")
    from models import create_model
    from options.test_options import TestOptions
    opt = TestOptions().parse(["--dataroot", str(aligned_root), "--checkpoints_dir", str(ck), "--name", "run",
                               "--model", "pix2pix", *TINY, "--netG", "unet_128"])
    model = create_model(opt)
    model.setup(opt)
    assert all(torch.equal(a, b) for a, b in zip(trained_model.netG.state_dict().values(),
                                                 model.netG.state_dict().values(), strict=True))


# ---------------------------------------------------------------------------------------------------- data

def test_custom_dataset_data_loader(aligned_root):
    opt = make_opt(aligned_root, load_size=32, crop_size=32)
    loader = CustomDatasetDataLoader(opt).load_data()
    batches = list(loader)
    assert len(loader) == 6 and len(batches) == 6 and batches[0]["A"].shape == (1, 3, 32, 32)


def test_image_folder_and_default_loader(tmp_path):
    paths = write_noise_images(tmp_path / "imgs", 3, size=8)
    folder = ImageFolder(str(tmp_path / "imgs"), transform=lambda img: img.size, return_paths=True)
    assert len(folder) == 3 and folder[1] == ((8, 8), str(paths[1]))
    assert ImageFolder(str(tmp_path / "imgs"))[0].mode == "RGB"
    assert default_loader(str(paths[0])).mode == "RGB"


def test_image_extensions_can_be_extended():
    assert not is_image_file("scan.npy")
    IMG_EXTENSIONS.append(".npy")  # as code written for the original release does
    try:
        assert is_image_file("scan.npy") and is_image_file("a.PNG")
    finally:
        IMG_EXTENSIONS.remove(".npy")


def test_get_transform_takes_a_pil_interpolation_constant():
    opt = make_opt(load_size=16, crop_size=16, preprocess="resize_and_crop")
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).convert("RGB")
    nearest = get_transform(opt, method=Image.NEAREST)(image)
    assert nearest.shape == (3, 16, 16)
    assert len(torch.unique(nearest)) == 64  # nearest neighbour invents no new levels


# ---------------------------------------------------------------------------------------------------- util

def test_tensor2im_takes_what_the_original_took():
    batch = torch.linspace(-1, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    assert util.tensor2im(batch).shape == (4, 4, 3) and util.tensor2im(batch).dtype == np.uint8
    floats = util.tensor2im(batch, imtype=np.float32)
    assert floats.dtype == np.float32 and floats.max() == pytest.approx(255 * (1 + batch[0].max().item()) / 2)
    array = np.full((2, 2, 3), 7.6)
    assert util.tensor2im(array).dtype == np.uint8 and util.tensor2im(array)[0, 0, 0] == 7  # numpy passes through
    assert util.tensor2im("not an image") == "not an image"


def test_small_helpers(tmp_path, capsys):
    util.mkdirs([str(tmp_path / "a" / "b"), str(tmp_path / "c")])
    util.mkdir(str(tmp_path / "d"))
    util.mkdirs(str(tmp_path / "e"))
    assert all((tmp_path / name).is_dir() for name in ("a/b", "c", "d", "e"))
    util.print_numpy(np.array([1.0, 2.0, 3.0]), val=True, shp=True)
    net = nn.Linear(2, 1)
    util.diagnose_network(net, "untrained")
    net(torch.ones(1, 2)).sum().backward()
    util.diagnose_network(net, "trained")
    out = capsys.readouterr().out
    assert "shape, (3,)" in out and "mean = 2.000, min = 1.000, max = 3.000, median = 2.000" in out
    assert "untrained\n0.0\n" in out and "trained\n1.0\n" in out  # |grad| of weight (1, 1) and bias 1


def test_html_refresh_and_default_width(tmp_path):
    page = html.HTML(str(tmp_path), "live", refresh=5)
    page.add_images(["a.png"], ["a"], ["a.png"])
    with open(page.save()) as f:
        text = f.read()
    assert 'http-equiv="refresh"' in text and 'content="5"' in text and "width:400px" in text


def test_save_images_as_original_scripts_call_it(tmp_path, fresh_warnings, capsys):
    page = html.HTML(str(tmp_path / "web"), "results")
    visuals = {"real": torch.zeros(2, 3, 8, 8), "fake": np.full((8, 8, 3), 200, np.uint8)}
    save_images(page, visuals, ["in/cat.jpg", "in/dog.jpg"], aspect_ratio=2.0, width=64)
    page.save()
    real = Image.open(tmp_path / "web" / "images" / "cat_real.png")
    assert real.size == (16, 8) and np.asarray(real)[0, 0, 0] == 128
    assert np.asarray(Image.open(tmp_path / "web" / "images" / "cat_fake.png"))[0, 0, 0] == 200
    assert "width:64px" in (tmp_path / "web" / "index.html").read_text()
    assert "use util.results_page.save_images" in capsys.readouterr().err


def test_visualizer_takes_the_original_calls(tmp_path):
    opt = argparse.Namespace(checkpoints_dir=str(tmp_path), name="run", use_wandb=False, use_tensorboard=False,
                             display_id=0, no_html=False, display_winsize=32, continue_train=False)
    visualizer = Visualizer(opt)
    visualizer.reset()
    visualizer.display_current_results({"fake_B": torch.zeros(1, 3, 8, 8)}, 3, True)  # (visuals, epoch, save_result)
    visualizer.plot_current_losses(3, 0.5, {"G": 1.0})  # (epoch, counter_ratio, losses)
    assert (tmp_path / "run" / "web" / "images" / "epoch003_fake_B.png").is_file()
    assert '"G": 1.0' in (tmp_path / "run" / "web" / "loss_history.jsonl").read_text()

