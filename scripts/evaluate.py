"""Evaluate generated images: FID/KID against a real set, L1/PSNR/SSIM/LPIPS against aligned targets.

    python scripts/evaluate.py results/facades_pix2pix/test_latest            # *_fake_B.png vs *_real_B.png
    python scripts/evaluate.py datasets/horse2zebra/testB my_outputs/ --metrics fid,kid
    python scripts/evaluate.py results/facades_pix2pix/test_latest --metrics fid,l1,psnr,ssim,lpips --amp bf16

One folder: a test.py results folder; each <stem>_fake_B.png is compared with <stem>_real_B.png (a CycleGAN run's
real_B is not the target of its fake_B, so there FID/KID compare the two sets and paired metrics are refused).
Two folders: real then generated; paired metrics pair their images by file name.
Prints a table; writes JSON to --json (for a results folder, by default metrics.json beside index.html).
--visuals names other visuals of a results folder (a colorization run: fake_B_rgb,real_B_rgb).
--skip_unavailable leaves out, with a one-line note, the metrics whose weights are neither on this machine nor
downloadable (the demo scripts use it: L1/PSNR/SSIM always, FID when its weights are there).

FID and KID use torch-fidelity's Inception-v3 on the images at their saved size (the network resizes them to
299x299 as torch-fidelity defines). Its weights (weights-inception-2015-12-05-6726825d.pth) and LPIPS's AlexNet
weights (alexnet-owt-7be5be79.pth) are downloaded on first use into torch.hub's cache; offline, put them in that
cache or in --metrics_weights_dir.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from metrics import (  # noqa: E402
    RESULTS_PAIR,
    Evaluator,
    MetricSettings,
    evaluate_folders,
    evaluate_results,
    evaluation_record,
    format_table,
    metric_names,
    write_json,
)
from options.base_options import OptionParser  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402
from util.option_types import Range  # noqa: E402
from util.precision import AMP_MODES, check_amp  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = OptionParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", metavar="FOLDER",
                   help="a test.py results folder, or two folders: real images, then generated images")
    p.add_argument("--metrics", default=None,
                   help=f"comma-separated, from: {', '.join(metric_names())} (default: fid,l1,psnr for paired "
                        "results, fid otherwise)")
    p.add_argument("--metrics_weights_dir", default=None,
                   help="folder holding the metric networks' weight files, searched before torch.hub's cache")
    p.add_argument("--batch_size", type=Range(int, min=1), default=32,
                   help="images per forward pass of the feature networks")
    p.add_argument("--amp", default="off", choices=AMP_MODES,
                   help="autocast precision of the feature networks (bf16 is faster on recent CPUs; report "
                        "published numbers with off)")
    p.add_argument("--kid_subset_size", type=Range(int, min=2), default=100, help="images in each KID subset")
    p.add_argument("--kid_subsets", type=Range(int, min=1), default=100, help="number of KID subsets")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the feature networks run (auto: CUDA when present)")
    p.add_argument("--visuals", default=",".join(RESULTS_PAIR),
                   help="for a results folder: the visuals compared, generated then real (<stem>_<visual>.png)")
    p.add_argument("--skip_unavailable", action="store_true",
                   help="with --metrics: leave out (with a note) the metrics whose network weights cannot be found "
                        "or downloaded, instead of stopping")
    p.add_argument("--json", default=None, help="write the results to this JSON file")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> MetricSettings:
    """MetricSettings from the command line, checked."""
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is available; use --device cpu")
    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
                          else "cpu")
    check_amp(args.amp, device)
    if args.metrics_weights_dir is not None and not Path(args.metrics_weights_dir).is_dir():
        raise UserError(f"--metrics_weights_dir '{args.metrics_weights_dir}' is not a folder")
    return MetricSettings(device=device, amp=args.amp, batch_size=args.batch_size,
                          weights_dir=args.metrics_weights_dir, kid_subset_size=args.kid_subset_size,
                          kid_subsets=args.kid_subsets)


def visual_pair(text: str) -> tuple[str, str]:
    """--visuals 'fake_B,real_B' -> ('fake_B', 'real_B')."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise UserError(f"--visuals takes two visual names, generated then real (e.g. fake_B,real_B), got '{text}'")
    return parts[0], parts[1]


def results_root(folder: Path) -> Path:
    """The folder of index.html, given it or its images/ folder."""
    if not (folder / "images").is_dir() and folder.name == "images":
        return folder.parent
    return folder


@exit_on_user_error
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if len(args.folders) > 2:
        raise UserError(f"give one results folder or two folders (real, generated), not {len(args.folders)}")
    settings = settings_from(args)
    progress = not args.no_progress
    pair = visual_pair(args.visuals)
    evaluator = None
    if args.skip_unavailable and args.metrics:
        evaluator = Evaluator(args.metrics, settings, skip_unavailable=True)
        for note in evaluator.skipped:
            print(f"note: {note}")
        if not evaluator.names:
            return {}
    if len(args.folders) == 1:
        evaluation = evaluate_results(args.folders[0], args.metrics, settings, progress, pair=pair,
                                      evaluator=evaluator)
        json_path = args.json or str(results_root(Path(args.folders[0])) / "metrics.json")
    else:
        evaluation = evaluate_folders(args.folders[0], args.folders[1], args.metrics, settings, progress,
                                      evaluator=evaluator)
        json_path = args.json
    print(f"generated: {evaluation.fake} ({evaluation.num_fake} images)")
    print(f"real:      {evaluation.real} ({evaluation.num_real} images){' [paired]' if evaluation.paired else ''}")
    print(format_table(evaluation.values))
    record = evaluation_record(evaluation, settings)
    if json_path:
        write_json(record, json_path)
        print(f"wrote {json_path}")
    return record


if __name__ == "__main__":
    main()
