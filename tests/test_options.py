"""Options: the original's names, defaults and resolution order, validation, printing and saving."""

from __future__ import annotations

import json

import pytest

from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.conftest import assert_user_error, run_main
from util.errors import UserError
from util.option_types import Range


def train_opt(tmp_path, *args: str):
    return TrainOptions().parse(["--dataroot", str(tmp_path), "--checkpoints_dir", str(tmp_path / "ck"), *args])


def test_original_defaults(tmp_path):
    opt = train_opt(tmp_path)
    expected = dict(name="experiment_name", model="cycle_gan", input_nc=3, output_nc=3, ngf=64, ndf=64, netD="basic",
                    netG="resnet_9blocks", n_layers_D=3, norm="instance", init_type="normal", init_gain=0.02,
                    no_dropout=True, dataset_mode="unaligned", direction="AtoB", serial_batches=False, num_threads=4,
                    batch_size=1, load_size=286, crop_size=256, max_dataset_size=float("inf"),
                    preprocess="resize_and_crop", no_flip=False, display_winsize=256, epoch="latest", load_iter=0,
                    suffix="", use_wandb=False, wandb_project_name="CycleGAN-and-pix2pix", display_freq=400,
                    update_html_freq=1000, print_freq=100, no_html=False, save_latest_freq=5000, save_epoch_freq=5,
                    save_by_iter=False, continue_train=False, epoch_count=1, phase="train", n_epochs=100,
                    n_epochs_decay=100, beta1=0.5, lr=0.0002, gan_mode="lsgan", pool_size=50, lr_policy="linear",
                    lr_decay_iters=50, lambda_A=10.0, lambda_B=10.0, lambda_identity=0.5, isTrain=True)
    # cycle_gan is the default model and turns dropout off
    actual = {k: getattr(opt, k) for k in expected}
    assert actual == expected


def test_pix2pix_rewrites_defaults(tmp_path):
    opt = train_opt(tmp_path, "--model", "pix2pix")
    assert (opt.norm, opt.netG, opt.dataset_mode, opt.pool_size, opt.gan_mode) == (
        "batch", "unet_256", "aligned", 0, "vanilla")
    assert opt.lambda_L1 == 100.0 and opt.no_dropout is False
    explicit = train_opt(tmp_path, "--model", "pix2pix", "--norm", "instance", "--gan_mode", "lsgan")
    assert (explicit.norm, explicit.gan_mode) == ("instance", "lsgan")


def test_test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the test options are saved under ./results/
    opt = TestOptions().parse(["--dataroot", str(tmp_path), "--checkpoints_dir", str(tmp_path / "ck")])
    assert (opt.model, opt.dataset_mode, opt.phase, opt.load_size, opt.num_test, opt.isTrain) == (
        "test", "single", "test", 256, 50, False)
    assert opt.results_dir == "./results/" and opt.aspect_ratio == 1.0 and opt.eval is False
    with pytest.raises(UserError, match="lambda_L1"):
        TestOptions().parse(["--dataroot", str(tmp_path), "--model", "pix2pix", "--lambda_L1", "5"])


def test_suffix_is_formatted_with_options(tmp_path):
    opt = train_opt(tmp_path, "--model", "pix2pix", "--name", "run", "--suffix", "{model}_{netG}_size{load_size}")
    assert opt.name == "run_pix2pix_unet_256_size286"


def test_options_saved_with_non_defaults_marked(tmp_path):
    options = TrainOptions()
    opt = options.parse(["--dataroot", str(tmp_path), "--checkpoints_dir", str(tmp_path / "ck"), "--model", "pix2pix",
                         "--name", "run", "--lr", "0.001"])
    assert not (tmp_path / "ck").exists()  # parsing writes nothing: train.py saves them when the run starts
    options.save_options(opt)
    text = (tmp_path / "ck" / "run" / "train_opt.txt").read_text()
    lr_line = next(line for line in text.splitlines() if line.strip().startswith("lr:"))
    assert "0.001" in lr_line and "[default: 0.0002]" in lr_line
    beta_line = next(line for line in text.splitlines() if line.strip().startswith("beta1:"))
    assert "[default" not in beta_line
    saved = json.loads((tmp_path / "ck" / "run" / "train_opt.json").read_text())  # plain JSON, never a pickle
    assert saved["lr"] == 0.001 and saved["max_dataset_size"] is None and saved["model"] == opt.model  # inf: null


def test_older_flags_are_accepted(tmp_path):
    opt = train_opt(tmp_path, "--gpu_ids", "-1", "--display_id", "0", "--display_port", "8098",
                    "--display_server", "http://example", "--display_env", "x", "--display_ncols", "3")
    assert opt.device.type == "cpu" and opt.display_port == 8098


@pytest.mark.parametrize(("flag", "value", "valid"), [
    ("--netG", "unet_512", "resnet_9blocks"),
    ("--netD", "huge", "n_layers"),
    ("--norm", "layer", "syncbatch"),
    ("--init_type", "zeros", "orthogonal"),
    ("--gan_mode", "hinge", "wgangp"),
    ("--lr_policy", "exp", "cosine"),
    ("--preprocess", "zoom", "scale_width_and_crop"),
    ("--direction", "AtoC", "BtoA"),
    ("--model", "pix3pix", "pix2pix"),
    ("--dataset_mode", "paired", "aligned"),
])
def test_unknown_choice_lists_valid_names(tmp_path, flag, value, valid):
    with pytest.raises(UserError, match=valid) as err:
        train_opt(tmp_path, flag, value)
    assert value in str(err.value)


def test_crop_larger_than_load_is_rejected(tmp_path):
    with pytest.raises(UserError, match="--load_size"):
        train_opt(tmp_path, "--load_size", "128", "--crop_size", "256")


def test_unet_size_multiple_is_checked(tmp_path):
    with pytest.raises(UserError, match="multiples of 256.*--crop_size 256"):
        train_opt(tmp_path, "--model", "pix2pix", "--crop_size", "200", "--load_size", "286")


def test_unknown_flag_is_one_line(tmp_path):
    with pytest.raises(UserError, match="unrecognized arguments: --bogus"):
        train_opt(tmp_path, "--bogus", "1")


@pytest.mark.parametrize("script, args, fragments", [
    ("train.py", ["--lr", "0"], ["--lr", "must be > 0", "got 0"]),
    ("train.py", ["--lr", "-0.1"], ["--lr", "must be > 0"]),
    ("train.py", ["--beta1", "1"], ["--beta1", "must be in [0, 1)", "got 1"]),
    ("train.py", ["--beta1", "-0.5"], ["--beta1", "must be in [0, 1)"]),
    ("train.py", ["--beta1", "nan"], ["--beta1", "must be in [0, 1)"]),
    ("train.py", ["--max_dataset_size", "0"], ["--max_dataset_size", "must be >= 1", "got 0"]),
    ("train.py", ["--batch_size", "x"], ["--batch_size", "expected an integer, got 'x'"]),
    ("train.py", ["--model", "pix2pix", "--lambda_L1", "-1"], ["--lambda_L1", "must be >= 0"]),
    ("train.py", ["--suffix", "{bogus}"], ["--suffix '{bogus}' names an unknown option 'bogus'"]),
    ("train.py", ["--suffix", "{model"], ["--suffix '{model' is not a valid format"]),
    ("train.py", ["--name", "../x"], ["--name '../x' must name a folder inside --checkpoints_dir and --results_dir"]),
    ("train.py", ["--name", "a/../../x"], ["--name 'a/../../x'"]),
    ("train.py", ["--name", "/tmp/x"], ["--name '/tmp/x'"]),
    ("train.py", ["--name", ""], ["--name ''"]),
    ("test.py", ["--aspect_ratio", "0"], ["--aspect_ratio", "must be > 0"]),
    ("test.py", ["--aspect_ratio", "-1.5"], ["--aspect_ratio", "must be > 0"]),
    ("test.py", ["--name", "../x"], ["--name '../x'"]),
])
def test_bad_values_are_one_line_before_anything_runs(tmp_path, script, args, fragments):
    results = ["--results_dir", str(tmp_path / "results")] if script == "test.py" else []
    result = run_main(script, "--dataroot", str(tmp_path / "missing"), "--checkpoints_dir", str(tmp_path / "ck"),
                      *results, *args)
    assert_user_error(result, *fragments)
    assert not (tmp_path / "ck").exists() and not (tmp_path / "results").exists()


def test_names_inside_the_folders_are_fine(tmp_path):
    assert train_opt(tmp_path, "--name", "group/run").name == "group/run"
    assert train_opt(tmp_path, "--name", "a/../b").name == "a/../b"


def test_every_numeric_option_declares_its_range(tmp_path):
    """Numbers are checked where they are defined; only these take any value (seed; visdom's id, <= 0 is off)."""
    unranged = {"seed", "display_id", "new_dataset_option"}
    for model in ("pix2pix", "cycle_gan", "template", "colorization"):
        options = TrainOptions()
        options.parse(["--dataroot", str(tmp_path), "--model", model])
        for action in options.parser._actions:
            numeric = action.type in (int, float) or isinstance(action.type, Range)
            if numeric and action.dest not in unranged:
                assert isinstance(action.type, Range), f"--{action.dest} of --model {model} has no Range"


def test_help_shows_the_ranges(tmp_path):
    options = TrainOptions()
    options.parse(["--dataroot", str(tmp_path)])
    text = options.parser.format_help()
    assert "initial Adam learning rate (default: 0.0002) [> 0]" in " ".join(text.split())
    assert "Adam beta1 (default: 0.5) [in [0, 1)]" in " ".join(text.split())
