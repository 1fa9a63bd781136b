"""Metrics (metrics/, scripts/evaluate.py): values against direct computations, weight loading, bad input.

Offline: torch.hub's cache is an empty temporary folder and downloads fail at once. The Inception and LPIPS
backbone weights are random, built here and put where the libraries' own loading code looks, so every code path
runs (the values are not comparable with published ones).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from data.image_folder import load_image
from metrics import Evaluator, MetricSettings, metric_info, metric_names, results_images, to_uint8
from metrics.folders import read_image
from metrics.inception_metrics import (
    InceptionFeatures,
    extraction_rate,
    frechet_distance,
    frechet_distance_full,
    frechet_distance_low_rank,
    inception_url,
    random_inception,
)
from metrics.paired_metrics import alexnet_url
from metrics.weights import file_name
from models import check_evaluation_pair
from models.base_model import BaseModel
from tests.conftest import (
    ROOT,
    TINY_PIX2PIX,
    assert_user_error,
    run_main,
    write_aligned_images,
    write_noise_images,
)
from util.errors import UserError
from util.util import save_image, tensor2im

_spec = importlib.util.spec_from_file_location("evaluate_script", ROOT / "scripts" / "evaluate.py")
evaluate_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(evaluate_script)

INCEPTION_FILE = file_name(inception_url())
ALEXNET_FILE = file_name(alexnet_url())


@pytest.fixture(autouse=True)
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch.hub cache for each test, and no network: a download attempt fails as it does offline."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return home / "hub" / "checkpoints"


def run_evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """scripts/evaluate.py in this process: (exit code, stdout, stderr)."""
    try:
        evaluate_script.main([*map(str, argv), "--no_progress"])
        code = 0
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def write_results(folder: Path, fakes: list[np.ndarray], reals: list[np.ndarray], extra: str = "") -> Path:
    """A test.py-like results folder: images/<stem>_fake_B.png and <stem>_real_B.png (and <stem>_<extra>.png)."""
    images = folder / "images"
    images.mkdir(parents=True)
    for i, (fake, real) in enumerate(zip(fakes, reals, strict=True)):
        Image.fromarray(fake).save(images / f"img{i}_fake_B.png")
        Image.fromarray(real).save(images / f"img{i}_real_B.png")
        if extra:
            Image.fromarray(real).save(images / f"img{i}_{extra}.png")
    return folder


def noisy_pairs(count: int, height: int = 40, width: int = 48, seed: int = 0) -> tuple[list, list]:
    """(generated, target) uint8 HWC images: targets are noise, generated ones the targets plus noise."""
    rng = np.random.default_rng(seed)
    reals = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]
    fakes = [np.clip(r.astype(int) + rng.integers(-40, 41, r.shape), 0, 255).astype(np.uint8) for r in reals]
    return fakes, reals


# --- registry ---------------------------------------------------------------------------------------------------

def test_registry_names_and_pairing() -> None:
    assert metric_names() == ["fid", "kid", "l1", "lpips", "psnr", "ssim"]
    assert [name for name in metric_names() if metric_info(name).paired] == ["l1", "lpips", "psnr", "ssim"]
    assert metric_info("psnr").higher_is_better and not metric_info("fid").higher_is_better


def test_paired_metrics_refused_on_unpaired_images() -> None:
    with pytest.raises(Exception, match="psnr need each generated image's own target, but it is unaligned"):
        Evaluator("fid,l1,psnr", unpaired_reason="it is unaligned")


# --- FID and KID ------------------------------------------------------------------------------------------------

def known_features(images: torch.Tensor) -> torch.Tensor:
    """A feature extractor whose output is known: per channel, the mean, the mean square and the top half's mean."""
    x = images.double() / 255
    top = x[:, :, : x.shape[2] // 2]
    return torch.cat([x.mean(dim=(2, 3)), (x**2).mean(dim=(2, 3)), top.mean(dim=(2, 3))], dim=1)


def known_features_numpy(images: list[np.ndarray]) -> np.ndarray:
    """known_features computed independently with NumPy on HWC arrays, as float32 like extracted features."""
    rows = []
    for image in images:
        x = image.astype(np.float64) / 255
        top = x[: x.shape[0] // 2]
        rows.append(np.concatenate([x.mean(axis=(0, 1)), (x**2).mean(axis=(0, 1)), top.mean(axis=(0, 1))]))
    return np.array(rows, dtype=np.float32).astype(np.float64)


def closed_form_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def image_sets() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Generated images of two sizes and a differently distributed real set."""
    rng = np.random.default_rng(3)
    fakes = [rng.integers(0, 200, (16, 16, 3), dtype=np.uint8) for _ in range(7)]
    fakes += [rng.integers(0, 200, (20, 24, 3), dtype=np.uint8) for _ in range(6)]
    reals = []
    for _ in range(15):
        image = rng.integers(30, 256, (16, 16, 3), dtype=np.uint8)
        image[:8] //= np.uint8(rng.integers(1, 4))
        reals.append(image)
    return fakes, reals


def test_fid_equals_closed_form_frechet_distance() -> None:
    fakes, reals = image_sets()
    settings = MetricSettings(feature_extractor=known_features, batch_size=4)
    evaluator = Evaluator("fid", settings)
    evaluator.add(fake=np.stack(fakes[:7]))
    evaluator.add(fake=np.stack(fakes[7:]))
    for start in range(0, 15, 5):
        evaluator.add(real=np.stack(reals[start:start + 5]))
    fid = evaluator.compute()["fid"]
    expected = closed_form_fid(known_features_numpy(fakes), known_features_numpy(reals))
    assert expected > 0.01
    assert fid == pytest.approx(expected, rel=1e-6)
    evaluator.reset(keep_real=True)  # e.g. the next epoch: new generated images, the same real set
    evaluator.add(fake=np.stack(reals[:8]), real=np.stack(fakes[:3]))  # the kept real set ignores new ones
    assert evaluator.compute()["fid"] == pytest.approx(
        closed_form_fid(known_features_numpy(reals[:8]), known_features_numpy(reals)), rel=1e-6)


@pytest.mark.parametrize(("n", "m"), [(12, 30), (70, 90)])
def test_low_rank_frechet_distance_equals_the_full_computation(n: int, m: int) -> None:
    """Fewer images than features (12 < 48: rank-deficient covariances) and more (70, 90 > 48: full rank)."""
    generator = torch.Generator().manual_seed(n)
    mixing = torch.randn(48, 48, generator=generator)
    fake = (torch.randn(n, 48, generator=generator) @ mixing).abs()  # correlated, non-negative, like pool features
    real = (torch.randn(m, 48, generator=generator) @ mixing * 1.2 + 0.5).abs()
    low_rank, full = frechet_distance_low_rank(fake, real), frechet_distance_full(fake, real)
    assert low_rank > 1
    assert low_rank == pytest.approx(full, rel=1e-9 if n > 48 else 1e-7)
    assert low_rank == pytest.approx(closed_form_fid(fake.double().numpy(), real.double().numpy()), rel=1e-7)
    assert frechet_distance(fake, real) == (low_rank if n < 48 else full)  # the small path below 48 images
    assert frechet_distance_low_rank(fake, fake) == pytest.approx(0, abs=1e-9 * full)


def test_fid_reference_is_kept_beside_paired_metrics() -> None:
    """reset(keep_real=True) keeps FID's real features, while L1 keeps taking each batch's targets."""
    fakes, reals = image_sets()
    fakes, reals = np.stack(fakes[:7]), np.stack(reals[:7])
    evaluator = Evaluator("l1,fid", MetricSettings(feature_extractor=known_features))
    evaluator.add(fakes, reals)
    first = evaluator.compute()
    evaluator.reset(keep_real=True)
    evaluator.add(reals, fakes)  # new pairs: L1 is symmetric, FID now compares `reals` with the kept `reals`
    second = evaluator.compute()
    assert second["l1"] == pytest.approx(first["l1"], rel=1e-12)
    assert first["fid"] > 0.01 and second["fid"] == pytest.approx(0, abs=1e-9)


def unbiased_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with KID's kernel k(a, b) = (a.b / d + 1)^3, written out from its definition."""
    m, d = len(x), x.shape[1]
    kernel = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(off_diagonal - 2 * k_xy.sum() / m**2)


def test_kid_matches_unbiased_mmd() -> None:
    fakes, reals = image_sets()
    fakes = fakes[:7]
    f, r = known_features_numpy(fakes), known_features_numpy(reals)

    whole = Evaluator("kid", MetricSettings(feature_extractor=known_features, kid_subset_size=7, kid_subsets=1))
    whole.add(fake=np.stack(fakes))
    whole.add(real=np.stack(reals[:7]))
    values = whole.compute()
    assert values["kid"] == pytest.approx(unbiased_mmd(f, r[:7]), rel=1e-6)
    assert values["kid_std"] == 0

    settings = MetricSettings(feature_extractor=known_features, kid_subset_size=5, kid_subsets=20, kid_seed=7)
    subsets = Evaluator("kid", settings)
    subsets.add(fake=np.stack(fakes))
    subsets.add(real=np.stack(reals))
    rng = np.random.RandomState(7)
    mmds = [unbiased_mmd(f[rng.choice(7, 5, replace=False)], r[rng.choice(15, 5, replace=False)]) for _ in range(20)]
    values = subsets.compute()
    assert values["kid"] == pytest.approx(np.mean(mmds), rel=1e-6)
    assert values["kid_std"] == pytest.approx(np.std(mmds), rel=1e-6)
    assert values["kid_std"] > 0


def test_fid_of_a_folder_against_itself_is_zero(tmp_path: Path, weights_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "images"
    write_noise_images(folder, 2, size=32, seed=4)
    report = tmp_path / "fid.json"
    code, out, err = run_evaluate(capsys, folder, folder, "--metrics", "fid", "--metrics_weights_dir", weights_dir,
                                  "--json", report)
    assert code == 0, err
    record = json.loads(report.read_text())
    assert abs(record["values"]["fid"]) < 1e-3
    assert record["num_fake"] == record["num_real"] == 2 and not record["paired"]
    assert "fid" in out and "lower is better" in out


def test_skip_unavailable_leaves_out_fid_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     offline_hub: Path) -> None:
    """As the demo scripts run it: L1 always, FID only when its weights are found (here they are not)."""
    results = write_results(tmp_path / "results", *noisy_pairs(2, 32, 32))
    code, out, err = run_evaluate(capsys, results, "--metrics", "fid,l1", "--skip_unavailable")
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "left out fid" in notes[0] and inception_url() in notes[0]
    assert json.loads((results / "metrics.json").read_text())["values"].keys() == {"l1"}


@pytest.mark.parametrize("where", ["weights_dir", "hub_cache"])
def test_inception_weights_are_loaded_from_each_place(where: str, weights_dir: Path, offline_hub: Path) -> None:
    if where == "hub_cache":
        offline_hub.mkdir(parents=True)
        shutil.copy(weights_dir / INCEPTION_FILE, offline_hub / INCEPTION_FILE)
    settings = MetricSettings(weights_dir=str(weights_dir) if where == "weights_dir" else None)
    loaded = InceptionFeatures(settings).inception.state_dict()
    saved = torch.load(weights_dir / INCEPTION_FILE, weights_only=True)
    assert loaded.keys() == saved.keys()
    assert all(torch.equal(loaded[key], saved[key]) for key in saved)


def test_feature_extraction_rate_runs_in_both_precisions() -> None:
    network = random_inception()
    for amp in ("off", "bf16"):
        assert extraction_rate(network, size=32, batch_size=1, amp=amp, batches=1, warmup=0) > 0


# --- paired metrics ---------------------------------------------------------------------------------------------

def test_psnr_and_ssim_agree_with_scikit_image() -> None:
    fakes, reals = noisy_pairs(3)
    small_fakes, small_reals = noisy_pairs(2, height=24, width=20, seed=1)
    evaluator = Evaluator("psnr,ssim")
    evaluator.add(np.stack(fakes), np.stack(reals))
    evaluator.add(np.stack(small_fakes), np.stack(small_reals))
    values = evaluator.compute()
    pairs = list(zip(fakes + small_fakes, reals + small_reals, strict=True))
    psnr = np.mean([peak_signal_noise_ratio(r, f, data_range=255) for f, r in pairs])
    ssim = np.mean([structural_similarity(f, r, channel_axis=-1, data_range=255, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False) for f, r in pairs])
    assert values["psnr"] == pytest.approx(psnr, rel=1e-9)
    assert values["ssim"] == pytest.approx(ssim, rel=1e-7)


def test_l1_matches_numpy_on_saved_pngs_and_in_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generator = torch.Generator().manual_seed(5)
    fake = torch.rand(4, 3, 32, 32, generator=generator) * 2 - 1  # generator outputs, in [-1, 1]
    real = torch.rand(4, 3, 32, 32, generator=generator) * 2 - 1
    images = tmp_path / "results" / "images"
    images.mkdir(parents=True)
    for i in range(4):  # as test.py saves its visuals
        save_image(tensor2im(fake[i]), str(images / f"s{i}_fake_B.png"))
        save_image(tensor2im(real[i]), str(images / f"s{i}_real_B.png"))
    code, out, err = run_evaluate(capsys, tmp_path / "results", "--metrics", "l1,psnr")
    assert code == 0, err
    record = json.loads((tmp_path / "results" / "metrics.json").read_text())
    read = lambda path: np.asarray(Image.open(path)).astype(np.float64)  # noqa: E731
    expected = np.mean([np.abs(read(images / f"s{i}_fake_B.png") - read(images / f"s{i}_real_B.png")).mean()
                        for i in range(4)])
    assert record["values"]["l1"] == pytest.approx(expected, rel=1e-12)
    assert record["paired"] and record["num_fake"] == 4

    in_memory = Evaluator("l1,psnr")  # training-time evaluation: the tensors, no PNGs
    in_memory.add(fake, real)
    assert in_memory.compute() == pytest.approx(record["values"], rel=1e-12)


def test_to_uint8_converts_like_saved_images() -> None:
    image = torch.linspace(-1.2, 1.2, 3 * 5 * 7).reshape(1, 3, 5, 7)
    assert np.array_equal(to_uint8(image)[0].permute(1, 2, 0).numpy(), tensor2im(image))
    gray = torch.zeros(2, 1, 4, 4, dtype=torch.uint8)
    assert to_uint8(gray).shape == (2, 3, 4, 4)
    hwc = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    assert torch.equal(to_uint8(hwc)[0], torch.from_numpy(hwc).permute(2, 0, 1))


def test_lpips_loads_backbone_from_weights_dir_and_hub_cache(weights_dir: Path, offline_hub: Path) -> None:
    fakes, reals = noisy_pairs(2, height=64, width=64)
    from_dir = Evaluator("lpips", MetricSettings(weights_dir=str(weights_dir)))
    from_dir.add(np.stack(fakes), np.stack(reals))
    offline_hub.mkdir(parents=True)
    shutil.copy(weights_dir / ALEXNET_FILE, offline_hub / ALEXNET_FILE)
    from_cache = Evaluator("lpips")
    from_cache.add(np.stack(fakes), np.stack(reals))
    distance = from_dir.compute()["lpips"]
    assert distance > 0
    assert from_cache.compute()["lpips"] == pytest.approx(distance, rel=1e-5)
    from_dir.reset()
    from_dir.add(np.stack(reals), np.stack(reals))
    assert from_dir.compute()["lpips"] == pytest.approx(0, abs=1e-7)


def test_evaluation_leaves_torch_randomness_alone(weights_dir: Path) -> None:
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    evaluator = Evaluator("lpips,ssim", MetricSettings(weights_dir=str(weights_dir)))
    evaluator.add(*map(np.stack, noisy_pairs(1, height=32, width=32)))
    evaluator.compute()
    assert torch.equal(torch.random.get_rng_state(), before)


# --- pairing and bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("remove, named", [("img1_real_B.png", "img1_real_B.png"),
                                           ("img0_fake_B.png", "img0_fake_B.png")])
def test_results_pairing_names_the_first_missing_partner(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         remove: str, named: str) -> None:
    results = write_results(tmp_path / "results", *noisy_pairs(3, 16, 16))
    (results / "images" / remove).unlink()
    code, _, err = run_evaluate(capsys, results, "--metrics", "l1")
    assert_one_line_error(code, err, f"no partner '{named}'")


def test_cycle_gan_results_are_unpaired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results", *noisy_pairs(3, 16, 16), extra="rec_A")
    assert not results_images(results).paired
    code, _, err = run_evaluate(capsys, results, "--metrics", "fid,psnr")
    assert_one_line_error(code, err, "psnr needs each generated image's own target", "CycleGAN", "use fid, kid")


def test_results_in_subfolders_and_only_the_named_ones(tmp_path: Path) -> None:
    """test.py names results by their path inside the input folder (images/a/x_fake_B.png) and scores only the
    results it just wrote, not older files of the same folder.
    """
    fakes, reals = noisy_pairs(3, 16, 16)
    images = tmp_path / "results" / "images"
    for name, fake, real in zip(("a/x", "y", "old"), fakes, reals, strict=True):
        (images / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(fake).save(images / f"{name}_fake_B.png")
        Image.fromarray(real).save(images / f"{name}_real_B.png")
    every = results_images(tmp_path / "results")
    assert [p.relative_to(images).as_posix() for p in every.fake] == ["a/x_fake_B.png", "old_fake_B.png",
                                                                      "y_fake_B.png"]
    written = results_images(tmp_path / "results", result_names=["y", "a/x"])
    assert [p.relative_to(images).as_posix() for p in written.real] == ["a/x_real_B.png", "y_real_B.png"]


def test_two_folders_pair_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fakes, reals = noisy_pairs(2, 16, 16)
    for folder, images in (("real", reals), ("fake", fakes)):
        (tmp_path / folder).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / folder / f"p{i}.png")
    code, out, err = run_evaluate(capsys, tmp_path / "real", tmp_path / "fake", "--metrics", "l1",
                                  "--json", tmp_path / "m.json")
    assert code == 0, err
    expected = np.mean([np.abs(f.astype(float) - r).mean() for f, r in zip(fakes, reals, strict=True)])
    assert json.loads((tmp_path / "m.json").read_text())["values"]["l1"] == pytest.approx(expected)
    (tmp_path / "real" / "p1.png").rename(tmp_path / "real" / "q1.png")
    code, _, err = run_evaluate(capsys, tmp_path / "real", tmp_path / "fake", "--metrics", "l1")
    assert_one_line_error(code, err, "p1.png' has no partner 'p1.*'")


@pytest.mark.parametrize("metric", ["fid", "lpips"])
def test_missing_weights_name_file_places_and_url(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  offline_hub: Path, metric: str) -> None:
    results = write_results(tmp_path / "results", *noisy_pairs(2, 32, 32))
    empty = tmp_path / "weights"
    empty.mkdir()
    code, _, err = run_evaluate(capsys, results, "--metrics", metric, "--metrics_weights_dir", empty)
    name, url = (INCEPTION_FILE, inception_url()) if metric == "fid" else (ALEXNET_FILE, alexnet_url())
    assert_one_line_error(code, err, f"'{name}'", str(empty), str(offline_hub), url, "--metrics_weights_dir")


def test_unreadable_weights_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results", *noisy_pairs(2, 32, 32))
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / INCEPTION_FILE).write_bytes(b"not a checkpoint")
    code, _, err = run_evaluate(capsys, results, "--metrics", "fid", "--metrics_weights_dir", weights)
    assert_one_line_error(code, err, f"'{weights / INCEPTION_FILE}', which cannot be loaded", inception_url())


def bad_input(tmp_path: Path, case: str) -> tuple[list, tuple[str, ...]]:
    """(evaluate.py arguments, fragments of the expected error line) for one kind of bad input."""
    results = write_results(tmp_path / "results", *noisy_pairs(3, 16, 16))
    images = results / "images"
    if case == "empty folder":
        (tmp_path / "empty").mkdir()
        return [tmp_path / "empty", images], ("real folder", "holds no images")
    if case == "missing folder":
        return [images, tmp_path / "nowhere"], ("generated folder", "does not exist")
    if case == "unreadable image":
        (images / "img1_fake_B.png").write_bytes(b"garbage")
        return [results, "--metrics", "l1"], ("cannot read image", "img1_fake_B.png")
    if case == "too few images for KID":
        return [results, "--metrics", "kid", "--kid_subset_size", "5"], ("--kid_subset_size 5", "only 3")
    if case == "unknown metric":
        return [results, "--metrics", "fid,sharpness"], ("unknown metric 'sharpness'",
                                                         "fid, kid, l1, lpips, psnr, ssim")
    if case == "pair of two sizes":
        Image.fromarray(np.zeros((20, 16, 3), np.uint8)).save(images / "img2_real_B.png")
        return [results, "--metrics", "psnr"], ("img2_fake_B.png' is 16x16", "img2_real_B.png' is 16x20")
    if case == "results without fake_B":
        for path in images.glob("*_fake_B.png"):
            path.unlink()
        return [results], ("no *_fake_B.png images",)
    assert case == "three folders"
    return [images, images, images], ("not 3",)


@pytest.mark.parametrize("case", ["empty folder", "missing folder", "unreadable image", "too few images for KID",
                                  "unknown metric", "pair of two sizes", "results without fake_B", "three folders"])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    argv, fragments = bad_input(tmp_path, case)
    code, _, err = run_evaluate(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


# --- where metrics run: refusals before any work -----------------------------------------------------------------

def refusal(case: str) -> tuple[str, list[str], tuple[str, ...]]:
    """(entry point, arguments, fragments of the expected error line) for one refused metrics request."""
    cycle_gan = ["--model", "cycle_gan", "--gpu_ids", "-1"]
    if case == "paired metric of an unpaired model (test.py)":
        return "test.py", [*cycle_gan, "--metrics", "fid,l1"], (
            "l1 needs each generated image's own target", "--model cycle_gan learns from unpaired images")
    if case == "paired metric of an unpaired model (train.py)":
        return "train.py", [*cycle_gan, "--eval_freq", "1", "--eval_metrics", "psnr,ssim"], (
            "psnr, ssim need each generated image's own target", "use fid, kid instead")
    if case == "a model without real outputs":
        return "test.py", ["--model", "test", "--metrics", "fid"], ("--model test has no real images",)
    if case == "too few test images for KID":
        return "test.py", [*TINY_PIX2PIX, "--metrics", "kid", "--num_test", "5"], ("--kid_subset_size 100", "only 5")
    if case == "best of a metric not evaluated":
        return "train.py", [*TINY_PIX2PIX, "--eval_freq", "1", "--eval_metrics", "l1", "--save_best", "psnr"], (
            "--save_best psnr is not among --eval_metrics l1",)
    if case == "best without evaluations":
        return "train.py", [*TINY_PIX2PIX, "--save_best", "psnr"], ("--save_best needs evaluations",)
    assert case == "unknown metric"
    return "train.py", [*TINY_PIX2PIX, "--eval_freq", "2", "--eval_metrics", "fid,sharpness"], (
        "unknown metric 'sharpness'", "fid, kid, l1, lpips, psnr, ssim")


@pytest.mark.parametrize("case", ["paired metric of an unpaired model (test.py)",
                                  "paired metric of an unpaired model (train.py)", "a model without real outputs",
                                  "too few test images for KID", "best of a metric not evaluated",
                                  "best without evaluations", "unknown metric"])
def test_metric_requests_are_refused_before_any_work(tmp_path: Path, case: str) -> None:
    script, args, fragments = refusal(case)
    result = run_main(script, "--dataroot", str(tmp_path / "nowhere"), "--checkpoints_dir", str(tmp_path / "ck"),
                      *args)
    assert_user_error(result, *fragments)
    assert "was created" not in result.stdout  # refused while parsing the options: no dataset, no model


def test_a_model_without_the_compared_visuals_is_told_how_to_name_them() -> None:
    class DenoiseModel:  # a user's model, written for the original release, names its visuals its own way
        evaluation_pair = BaseModel.evaluation_pair
        visual_names = ["noisy", "denoised", "clean"]
        opt = argparse.Namespace(model="denoise")

    with pytest.raises(UserError, match=r"--metrics compares the visuals fake_B and real_B, but --model denoise "
                                        r"shows noisy, denoised, clean; set evaluation_pair .* in DenoiseModel"):
        check_evaluation_pair(DenoiseModel(), "--metrics")
    DenoiseModel.evaluation_pair = ("denoised", "clean")
    assert check_evaluation_pair(DenoiseModel(), "--metrics") == ("denoised", "clean")


def test_training_stops_before_its_first_step_without_fid_weights(tmp_path: Path, offline_hub: Path) -> None:
    """pix2pix evaluates fid,l1,psnr by default; FID's weights are checked when training starts."""
    write_aligned_images(tmp_path / "pairs" / "train", 1, seed=1)
    write_aligned_images(tmp_path / "pairs" / "val", 2, seed=2)
    result = run_main("train.py", "--dataroot", str(tmp_path / "pairs"), "--checkpoints_dir", str(tmp_path / "ck"),
                      *TINY_PIX2PIX, "--eval_freq", "1")
    assert_user_error(result, f"'{INCEPTION_FILE}'", inception_url(), "--metrics_weights_dir")
    assert "eval_metrics: fid,l1,psnr" in result.stdout and "eval_phase: val" in result.stdout
    assert "epoch 1/" not in result.stderr


def test_metrics_read_16_bit_and_transparent_images_as_the_datasets_do(tmp_path: Path) -> None:
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 4), 30000, np.uint16)).save(deep)
    clear = tmp_path / "clear.png"
    Image.fromarray(np.array([[[200, 0, 0, 0]] * 4] * 4, np.uint8), "RGBA").save(clear)
    for path in (deep, clear):
        assert np.array_equal(read_image(path), np.asarray(load_image(str(path)))), path
