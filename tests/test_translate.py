"""Applying a trained model to real images: exact sizes in test.py, scripts/translate.py, the Python API
(models/translator.py), scripts/export.py, and their one-line errors.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data.aligned_dataset import split_pair
from data.image_folder import BadImageError
from models.inference import Translator
from models.translator import GENERATOR_DEFAULTS, load_generator
from options.test_options import TestOptions
from tests.conftest import ROOT, assert_user_error, build_model, installed_model, run_main, save_weights
from util.errors import UserError

TINY = ["--netG", "resnet_6blocks", "--ngf", "4", "--num_threads", "0", "--gpu_ids", "-1"]


def write_image(path: Path, height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A noise image of height x width (gray for one channel) saved at `path`; returns its pixels."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, 3)
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return np.asarray(Image.open(path))


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoints folder with 'cyc', a tiny CycleGAN run (train_opt.json and G_A, G_B, D_A, D_B weights, with a
    non-default --ngf and --no_dropout), and 'gray', one-channel published weights without options.
    """
    ck = tmp_path_factory.mktemp("ck")
    torch.manual_seed(0)
    _, model = build_model(ck, ck, "--name", "cyc", "--model", "cycle_gan", "--ndf", "4", *TINY, save_options=True)
    save_weights(model, ck / "cyc")
    _, model = build_model(ck, ck, "--name", "gray", "--model", "test", "--input_nc", "1", "--output_nc", "1",
                           "--no_dropout", *TINY, train=False)
    save_weights(model, ck / "gray")  # published weights come without options
    (ck / "empty").mkdir()  # a run folder without weights
    (ck / "empty" / "loss_log.txt").write_text("")
    return ck


# exact sizes in test.py ---------------------------------------------------------------------------------------------

def test_test_py_gives_each_input_its_own_size(runs: Path, tmp_path: Path) -> None:
    """--preprocess none: odd, non-square and tiny gray images come out at their size, shown at their aspect ratio."""
    sizes = {"wide": (23, 37), "tall": (64, 50), "tiny": (5, 9)}
    for name, (height, width) in sizes.items():
        write_image(tmp_path / "data" / f"{name}.png", height, width, channels=1)
    result = run_main("test.py", "--dataroot", str(tmp_path / "data"), "--name", "gray", "--checkpoints_dir", str(runs),
                      "--results_dir", str(tmp_path / "res"), "--model", "test", "--input_nc", "1", "--output_nc",
                      "1", "--no_dropout", "--preprocess", "none", *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    page = tmp_path / "res" / "gray" / "test_latest"
    for name, (height, width) in sizes.items():
        for visual in ("real", "fake"):
            assert Image.open(page / "images" / f"{name}_{visual}.png").size == (width, height), (name, visual)
    styles = re.findall(r'<img [^>]*style="([^"]*)"', (page / "index.html").read_text())
    assert styles and all(style == "width:256px" for style in styles)  # no height: the browser keeps the ratio


def test_pix2pix_pairs_of_odd_width_keep_both_halves(tmp_path: Path) -> None:
    """A 41|40-column pair is split as training splits pairs (B gets the extra column); the U-Net (sides multiples
    of 128) takes the 40x30 half by padding.
    """
    ck = tmp_path / "ck"
    args = ["--model", "pix2pix", "--netG", "unet_128", "--ngf", "4", "--num_threads", "0", "--gpu_ids", "-1"]
    _, model = build_model(ck, ck, "--name", "p2p", *args, train=False)
    save_weights(model, ck / "p2p")
    pair = write_image(tmp_path / "pairs" / "test" / "p.png", 30, 81)
    result = run_main("test.py", "--dataroot", str(tmp_path / "pairs"), "--name", "p2p", "--checkpoints_dir", str(ck),
                      "--results_dir", str(tmp_path / "res"), "--preprocess", "none", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "odd width 81" in result.stderr
    images = tmp_path / "res" / "p2p" / "test_latest" / "images"
    assert np.array_equal(pixels(images / "p_real_A.png"), pair[:, :40])
    assert np.array_equal(pixels(images / "p_real_B.png"), pair[:, 40:])
    assert Image.open(images / "p_fake_B.png").size == (40, 30)


def test_odd_pairs_are_still_refused_in_training() -> None:
    pair = Image.new("RGB", (9, 4))
    with pytest.raises(BadImageError, match="odd width 9"):
        split_pair(pair, "p.png")
    a, b = split_pair(pair, "p.png", odd_width_ok=True)
    assert (a.size, b.size) == ((4, 4), (5, 4))


@pytest.mark.parametrize(("args", "fragment"), [
    (["--tile", "30"], "--tile 30 must be a multiple of 4"),
    (["--tile", "32", "--tile_overlap", "20"], "--tile_overlap 20 is more than half of --tile 32"),
    (["--tile", "64", "--tile_stats", "global"], "unknown --tile_stats 'global'"),
    (["--netG", "unet_256", "--tile", "128"], "--tile 128 must be a multiple of 256"),
])
def test_tile_options_are_checked_when_parsed(tmp_path: Path, args: list[str], fragment: str) -> None:
    with pytest.raises(UserError, match=re.escape(fragment)) as err:
        TestOptions().parse(["--dataroot", str(tmp_path), "--checkpoints_dir", str(tmp_path), *args])
    assert "\n" not in str(err.value)


# scripts/translate.py -----------------------------------------------------------------------------------------------

def test_translate_py_reads_the_run_options_and_matches_test_py_with_tiles(runs: Path, tmp_path: Path) -> None:
    """No --netG/--ngf/--no_dropout needed; the result is test.py's, pixel for pixel, here in tiles."""
    image = write_image(tmp_path / "data" / "shot.png", 42, 53)
    tiles = ["--tile", "16", "--tile_overlap", "4"]
    result = run_main("scripts/translate.py", "--name", "cyc", "--checkpoints_dir", str(runs), "--model_suffix", "_A",
                      str(tmp_path / "data" / "shot.png"), "--output", str(tmp_path / "out"), *tiles)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = pixels(tmp_path / "out" / "shot_fake.png")
    assert ours.shape == image.shape
    result = run_main("test.py", "--dataroot", str(tmp_path / "data"), "--name", "cyc", "--checkpoints_dir", str(runs),
                      "--results_dir", str(tmp_path / "res"), "--model", "test", "--model_suffix", "_A",
                      "--no_dropout", "--preprocess", "none", *TINY, *tiles)
    assert result.returncode == 0, result.stderr[-3000:]
    assert np.array_equal(ours, pixels(tmp_path / "res" / "cyc" / "test_latest" / "images" / "shot_fake.png"))


def test_translate_py_names_results_and_skips_what_is_not_an_image(runs: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    for name, size in {"a/x.png": (20, 28), "b/x.png": (12, 12), "y.jpg": (9, 31)}.items():
        write_image(inputs / name, *size, channels=1)
    (inputs / "notes.txt").write_text("not an image")
    result = run_main("scripts/translate.py", "--name", "gray", "--checkpoints_dir", str(runs), "--input_nc", "1",
                      "--output_nc", "1", "--no_dropout", "--netG", "resnet_6blocks", "--ngf", "4",
                      str(inputs / "a"), str(inputs / "b"), str(inputs / "y.jpg"), str(inputs / "notes.txt"),
                      "--output", str(tmp_path / "out"), "--suffix", "_new")
    assert result.returncode == 1, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("notes.txt" in line and "not a readable image" in line for line in warnings), warnings
    expected = {"x_new.png": (28, 20), "x~2_new.png": (12, 12), "y_new.png": (31, 9)}  # file names as test.py's
    written = {p.name: Image.open(p) for p in (tmp_path / "out").iterdir()}
    assert {name: image.size for name, image in written.items()} == expected
    assert all(image.mode == "L" for image in written.values())  # a one-channel generator writes gray


@pytest.mark.parametrize(("case", "fragments"), [
    ("not an image", ["notes.txt", "not a readable image"]),
    ("no weights", ["no checkpoint", "latest_net_G.pth", "it holds loss_log.txt"]),
    ("wrong options", ["does not fit", "--ngf 8", "--netG resnet_6blocks"]),
    ("no such generator", ["has no generator G_C", "--model_suffix _A or --model_suffix _B"]),
    ("unwritable output", ["cannot write to --output", "choose a writable folder"]),
    ("tile", ["--tile 18 must be a multiple of 4"]),
    ("missing input", ["no file or folder", "nothere.png"]),
])
def test_translate_py_mistakes_are_one_line(runs: Path, tmp_path: Path, case: str, fragments: list[str]) -> None:
    image = tmp_path / "x.png"
    write_image(image, 8, 8)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "file").write_text("")
    run = ["--name", "cyc", "--checkpoints_dir", str(runs), "--model_suffix", "_A"]
    output = tmp_path / "out"
    args = {"not an image": [*run, str(tmp_path / "notes.txt")],
            "no weights": ["--name", "empty", "--checkpoints_dir", str(runs), str(image)],
            "wrong options": [*run, "--ngf", "8", str(image)],
            "no such generator": [*run[:-1], "_C", str(image)],
            "tile": [*run, "--tile", "18", str(image)],
            "missing input": [*run, str(image), str(tmp_path / "nothere.png")]}.get(case, [*run, str(image)])
    output = tmp_path / "file" / "out" if case == "unwritable output" else output
    assert_user_error(run_main("scripts/translate.py", *args, "--output", str(output)), *fragments)
    assert not (tmp_path / "out").exists()  # nothing written


# the Python API -----------------------------------------------------------------------------------------------------

def readme_api_example() -> str:
    """The Python block of the README's section on the Python API."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_example_runs(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = readme_api_example()
    assert len(code.strip().splitlines()) <= 6
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "demo_shapes_cyclegan").symlink_to(runs / "cyc")
    photo = write_image(tmp_path / "photo.jpg", 30, 45)
    exec(compile(code, "README.md", "exec"), {})
    assert pixels(tmp_path / "photo_fake.png").shape == photo.shape


def test_api_takes_tensors_and_weights_files_with_or_without_saved_options(runs: Path) -> None:
    net_b, opt = load_generator(str(runs / "cyc" / "latest_net_G_B.pth"))  # the run's options, network G_B
    assert (opt.model, opt.ngf, opt.no_dropout) == ("cycle_gan", 4, True)
    translator = Translator(net_b, 4).eval()
    images = torch.rand(2, 3, 21, 34) * 2 - 1
    out = translator(images)
    assert out.shape == images.shape and out.dtype == torch.float32
    with torch.no_grad():
        assert torch.equal(translator(images[:, :, :20, :32]), net_b(images[:, :, :20, :32]))
    _, published = load_generator(str(runs / "gray" / "latest_net_G.pth"), netG="resnet_6blocks", ngf=4,
                                  input_nc=1, output_nc=1, no_dropout=True)
    assert published.norm == GENERATOR_DEFAULTS["norm"]
    with pytest.raises(UserError, match="does not fit the network built with --netG resnet_9blocks"):
        load_generator(str(runs / "gray"), input_nc=1, output_nc=1)  # test.py's defaults: the wrong network


# scripts/export.py --------------------------------------------------------------------------------------------------

def test_export_py_writes_an_onnx_model_of_any_size(runs: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    target = tmp_path / "g.onnx"
    result = run_main("scripts/export.py", "--name", "cyc", "--checkpoints_dir", str(runs), "--model_suffix", "_A",
                      "--format", "onnx", "--output", str(target))
    assert result.returncode == 0, result.stderr[-3000:]
    net, _ = load_generator(str(runs / "cyc"), model_suffix="_A")
    net.eval()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    for shape in ((1, 3, 36, 52), (2, 3, 24, 24)):
        x = torch.rand(*shape) * 2 - 1
        with torch.no_grad():
            expected = net(x)
        assert float((torch.from_numpy(session.run(None, {"input": x.numpy()})[0]) - expected).abs().max()) <= 1e-4


def test_export_py_refuses_a_model_without_a_generator(tmp_path: Path) -> None:
    run = tmp_path / "critic"
    run.mkdir()
    options = {"model": "critic", "netG": "resnet_9blocks", "netD": "basic", "n_layers_D": 3, "norm": "instance",
               "input_nc": 3, "ndf": 4}
    (run / "train_opt.json").write_text(json.dumps(options))
    with installed_model("critic"):
        result = run_main("scripts/export.py", "--name", "critic", "--checkpoints_dir", str(tmp_path),
                          "--format", "onnx")
    assert_user_error(result, "--model critic has no generator", "networks: D")
    assert sorted(os.listdir(run)) == ["train_opt.json"]
