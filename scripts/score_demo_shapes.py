"""Score a CycleGAN or CUT model trained on datasets/demo_shapes against the known answer (A -> B rotates colour
channels).

Reads the <stem>_real_A.png / <stem>_fake_B.png files that test.py wrote and prints the mean absolute error of
fake_B against the true mapping, next to the error of returning the input unchanged (in 8-bit levels).

Usage: python scripts/score_demo_shapes.py results/demo_shapes_cyclegan/test_latest/images
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from datasets.make_demo_dataset import true_a_to_b  # noqa: E402


def score(images: Path) -> tuple[float, float, int]:
    """(error of fake_B, error of the input, number of images) against true_a_to_b(real_A), in 8-bit levels."""
    fake_errors, input_errors = [], []
    for real_path in sorted(images.rglob("*_real_A.png")):
        real = np.asarray(Image.open(real_path)).astype(float)
        fake = np.asarray(Image.open(real_path.with_name(real_path.name.replace("_real_A", "_fake_B")))).astype(float)
        target = true_a_to_b(real)
        fake_errors.append(np.abs(fake - target).mean())
        input_errors.append(np.abs(real - target).mean())
    if not fake_errors:
        raise SystemExit(f"error: no *_real_A.png results in '{images}'; run test.py (--model cycle_gan or cut) first")
    return float(np.mean(fake_errors)), float(np.mean(input_errors)), len(fake_errors)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path, help="the images/ folder of a test.py results page")
    fake_error, input_error, count = score(parser.parse_args(argv).images)
    print(f"demo_shapes A -> B over {count} test images: fake_B error {fake_error:.1f} levels "
          f"(returning the input: {input_error:.1f}; ratio {fake_error / input_error:.2f})")


if __name__ == "__main__":
    main()
