"""Metrics over image files: two folders (real, generated) or the images/ folder of a test.py results page.

Images are read as 8-bit RGB at their saved size; FID/KID resize them as torch-fidelity defines, paired metrics
need both images of a pair at one size (a mismatch is refused, naming both files).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from metrics.base import MetricSettings
from metrics.evaluator import Evaluator
from metrics.inception_metrics import check_set_sizes
from metrics.registry import default_metric_names, paired_names, parse_metric_names, refuse_paired
from util.errors import UserError
from util.image_files import IMAGE_EXTENSIONS, is_image_file, to_8bit
from util.progress import progress_bar

RESULTS_PAIR = ("fake_B", "real_B")  # the visuals compared by default: test.py saves <stem>_<visual>.png
CYCLE_SUFFIX = "_rec_A"  # only CycleGAN writes reconstructions: its real_B is not the target of its fake_B


@dataclass
class ImageSets:
    """The files to evaluate: generated and real images; with `paired`, real[i] is the target of fake[i]."""

    fake: list[Path]
    real: list[Path]
    paired: bool
    unpaired_reason: str | None = None


def list_images(folder: Path, what: str, recursive: bool = False) -> list[Path]:
    """The image files directly in `folder` (or anywhere below it), sorted; a missing or image-less folder is a
    UserError.
    """
    if not folder.is_dir():
        raise UserError(f"{what} folder '{folder}' does not exist")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(p for p in found if p.is_file() and is_image_file(p.name))
    if not files:
        raise UserError(f"{what} folder '{folder}' holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def read_image(path: Path) -> np.ndarray:
    """An image file as an HxWx3 uint8 array; an unreadable file is a UserError naming it."""
    try:
        with Image.open(path) as image:
            return np.asarray(to_8bit(image).convert("RGB"))  # 16-bit, float, transparent: as the datasets read them
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise UserError(f"cannot read image '{path}' ({err}); replace or remove it") from None


def pair_by_name(real: Sequence[Path], fake: Sequence[Path]) -> ImageSets:
    """Pair two folders' images by file name without extension; the first image without a partner is refused."""
    real_by_stem = _by_stem(real)
    fake_by_stem = _by_stem(fake)
    _refuse_missing_partner(fake_by_stem, real_by_stem, "generated", real[0].parent, "{stem}.*")
    _refuse_missing_partner(real_by_stem, fake_by_stem, "real", fake[0].parent, "{stem}.*")
    stems = sorted(fake_by_stem)
    return ImageSets([fake_by_stem[s] for s in stems], [real_by_stem[s] for s in stems], paired=True)


def results_images(folder: Path, pair: tuple[str, str] = RESULTS_PAIR,
                   result_names: Collection[str] | None = None) -> ImageSets:
    """The <name>_fake_B.png / <name>_real_B.png pairs of a test.py results folder (or of its images/ folder),
    where a name may hold subfolders (a/x_fake_B.png); `pair` names other visuals (e.g. a colorization run's
    fake_B_rgb and real_B_rgb), `result_names` keeps only those results (e.g. the ones a test run just wrote,
    not older files in the same folder).

    Every generated image needs its real partner and the reverse: the first missing partner is refused by name. A
    CycleGAN run (it writes *_rec_A.png) is unpaired: its fake_B and real_B come from different images, so FID/KID
    compare the two sets and paired metrics are refused with that reason.
    """
    fake_suffix, real_suffix = (f"_{visual}" for visual in pair)
    images = folder / "images" if (folder / "images").is_dir() else folder
    files = list_images(images, "results", recursive=True)
    keys = {p: p.relative_to(images).with_suffix("").as_posix() for p in files}
    fake = {key.removesuffix(fake_suffix): p for p, key in keys.items() if key.endswith(fake_suffix)}
    real = {key.removesuffix(real_suffix): p for p, key in keys.items() if key.endswith(real_suffix)}
    if result_names is not None:
        wanted = set(result_names)
        fake = {name: path for name, path in fake.items() if name in wanted}
        real = {name: path for name, path in real.items() if name in wanted}
    if not fake:
        raise UserError(f"no *{fake_suffix}.png images in '{images}'; give a test.py results folder of a model "
                        "that translates A to B, or two folders (real, generated)")
    _refuse_missing_partner(fake, real, "generated", images, f"{{stem}}{real_suffix}.png")
    _refuse_missing_partner(real, fake, "real", images, f"{{stem}}{fake_suffix}.png")
    keys = sorted(fake)
    reason = None
    if any(p.stem.endswith(CYCLE_SUFFIX) for p in files):
        reason = (f"'{images}' holds CycleGAN results (*{CYCLE_SUFFIX}.png), whose real_B is an unrelated B "
                  "image, not the target of fake_B")
    return ImageSets([fake[k] for k in keys], [real[k] for k in keys], paired=reason is None,
                     unpaired_reason=reason)


def folder_images(real_dir: Path, fake_dir: Path, names: Sequence[str]) -> ImageSets:
    """Two folders: paired by file name when a paired metric is asked for, else two independent sets."""
    real = list_images(real_dir, "real")
    fake = list_images(fake_dir, "generated")
    if paired_names(names):
        return pair_by_name(real, fake)
    return ImageSets(fake, real, paired=False)


def evaluate_files(evaluator: Evaluator, sets: ImageSets, batch_size: int, progress: bool = True) -> dict[str, float]:
    """Read the files batch by batch into `evaluator` (a progress bar counts images) and compute the metrics."""
    if evaluator.paired and not sets.paired:
        raise ValueError("paired metrics on unpaired image sets")
    bar = progress_bar(len(sets.fake) + len(sets.real), "evaluating", unit="img", enabled=progress)
    with bar:
        if sets.paired:
            for start in range(0, len(sets.fake), batch_size):
                fake_paths, real_paths = sets.fake[start:start + batch_size], sets.real[start:start + batch_size]
                for fake, real in _same_size_groups(fake_paths, real_paths):
                    evaluator.add(fake, real)
                bar.update(2 * len(fake_paths))
        else:
            for paths, side in ((sets.fake, "fake"), (sets.real, "real")):
                for start in range(0, len(paths), batch_size):
                    chunk = paths[start:start + batch_size]
                    for group, _ in _same_size_groups(chunk, None):
                        evaluator.add(**{side: group})
                    bar.update(len(chunk))
    return evaluator.compute()


@dataclass
class Evaluation:
    """Metric values and what they were computed on."""

    values: dict[str, float]
    names: list[str]
    fake: str
    real: str
    num_fake: int
    num_real: int
    paired: bool


def evaluate_folders(real_dir: str | Path, fake_dir: str | Path, names: str | Sequence[str] | None = None,
                     settings: MetricSettings | None = None, progress: bool = True,
                     evaluator: Evaluator | None = None) -> Evaluation:
    """Metrics of the generated images in `fake_dir` against the real ones in `real_dir` (default: FID); with an
    `evaluator` built beforehand, its metrics.
    """
    settings = settings or MetricSettings()
    if evaluator is not None:
        chosen = evaluator.names
    else:
        chosen = parse_metric_names(names) if names else default_metric_names(paired=False)
    sets = folder_images(Path(real_dir), Path(fake_dir), chosen)
    return _evaluate(sets, chosen, settings, str(fake_dir), str(real_dir), progress, evaluator)


def evaluate_results(results_dir: str | Path, names: str | Sequence[str] | None = None,
                     settings: MetricSettings | None = None, progress: bool = True,
                     unpaired_reason: str | None = None, pair: tuple[str, str] = RESULTS_PAIR,
                     evaluator: Evaluator | None = None, result_names: Collection[str] | None = None
                     ) -> Evaluation:
    """Metrics of a test.py results folder: its *_fake_B.png against its *_real_B.png (or the visuals `pair` names).

    Default metrics: FID, L1 and PSNR for paired results (pix2pix), FID for unpaired ones: CycleGAN's (found by
    their *_rec_A.png) or any run for which the caller gives `unpaired_reason` (e.g. test.py, from its model).
    An `evaluator` built beforehand (test.py builds it before inference, so missing weights stop it early) is used
    with its own metric names instead of building one. `result_names` limits the images as in `results_images`.
    """
    settings = settings or MetricSettings()
    sets = results_images(Path(results_dir), pair, result_names)
    if unpaired_reason:
        sets.paired, sets.unpaired_reason = False, unpaired_reason
    if evaluator is not None:
        chosen = evaluator.names
    else:
        chosen = parse_metric_names(names) if names else default_metric_names(paired=sets.paired)
    where = str(sets.fake[0].parent)
    return _evaluate(sets, chosen, settings, f"{where}/*_{pair[0]}.png", f"{where}/*_{pair[1]}.png", progress,
                     evaluator)


def _evaluate(sets: ImageSets, names: list[str], settings: MetricSettings, fake: str, real: str,
              progress: bool, evaluator: Evaluator | None = None) -> Evaluation:
    refuse_paired(names, sets.unpaired_reason)
    check_set_sizes(names, len(sets.fake), len(sets.real), settings)  # before loading any network
    evaluator = evaluator or Evaluator(names, settings)
    values = evaluate_files(evaluator, sets, settings.batch_size, progress)
    return Evaluation(values, names, fake, real, len(sets.fake), len(sets.real), paired=evaluator.paired)


def _by_stem(paths: Sequence[Path]) -> dict[str, Path]:
    by_stem: dict[str, Path] = {}
    for path in paths:
        if path.stem in by_stem:
            raise UserError(f"'{by_stem[path.stem]}' and '{path.name}' have one name: pairing by name is ambiguous")
        by_stem[path.stem] = path
    return by_stem


def _refuse_missing_partner(have: dict[str, Path], partners: dict[str, Path], what: str, folder: Path,
                            pattern: str) -> None:
    for stem in sorted(have):
        if stem not in partners:
            raise UserError(f"{what} image '{have[stem]}' has no partner '{pattern.format(stem=stem)}' in "
                            f"'{folder}'; paired sets need one file for each")


def _same_size_groups(fake_paths: Sequence[Path], real_paths: Sequence[Path] | None):
    """Read the files and yield runs of consecutive images of one size as stacked HWC arrays (fake, real or None).

    For pairs, each pair's two images must have one size: a mismatch is refused naming both files.
    """
    fakes = [read_image(p) for p in fake_paths]
    reals = [read_image(p) for p in real_paths] if real_paths is not None else None
    if reals is not None:
        for fake, real, fake_path, real_path in zip(fakes, reals, fake_paths, real_paths, strict=True):
            if fake.shape != real.shape:
                raise UserError(f"generated image '{fake_path}' is {fake.shape[1]}x{fake.shape[0]} but its target "
                                f"'{real_path}' is {real.shape[1]}x{real.shape[0]}; paired metrics compare pixel by "
                                "pixel, so save both at one size")
    start = 0
    for end in range(1, len(fakes) + 1):
        if end == len(fakes) or fakes[end].shape != fakes[start].shape:
            yield np.stack(fakes[start:end]), None if reals is None else np.stack(reals[start:end])
            start = end
