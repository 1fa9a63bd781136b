"""Make an aligned (pix2pix) dataset from a CycleGAN-style one whose A and B images correspond.

    python datasets/make_dataset_aligned.py --dataset-path /path/to/dataset

For each phase with both <phase>A/ and <phase>B/ folders (train, val, test), images are paired by name, ignoring
a trailing _A / _B (so 3_A.jpg pairs with 3_B.jpg, and x.png with x.png), and written side by side (A left) to
<phase>/<name>. Images without a counterpart are named and nothing is written (exit status 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasets.aligned_pairs import image_names, name_list, write_pairs  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402

PHASES = ("train", "val", "test")


def pair_key(name: str, side: str) -> str:
    """The name without its extension and without a trailing _A or _B."""
    stem = os.path.splitext(name)[0]
    return stem[:-2] if stem.endswith(f"_{side}") else stem


def by_pair_key(folder: str, side: str) -> dict[str, str]:
    """Image names of `folder` by pair key; names that would share a key (y.png and y.jpg) raise UserError."""
    groups: dict[str, list[str]] = {}
    for name in image_names(folder):
        groups.setdefault(pair_key(name, side), []).append(name)
    clashes = [" and ".join(names) for names in groups.values() if len(names) > 1]
    if clashes:
        raise UserError(f"images in {folder} would pair under one name: {name_list(clashes)}; rename or remove "
                        "all but one of each")
    return {key: names[0] for key, names in groups.items()}


def plan(root: str) -> list[tuple[str, str, str]]:
    """Every (A path, B path, output path) of every phase, after checking that each image has a counterpart."""
    if not os.path.isdir(root):
        raise UserError(f"--dataset-path {root} is not a folder")
    jobs = []
    phases = [p for p in PHASES if all(os.path.isdir(os.path.join(root, p + side)) for side in "AB")]
    if not phases:
        raise UserError(f"{root} has no <phase>A/ and <phase>B/ folder pair (e.g. trainA/ and trainB/)")
    for phase in phases:
        dir_a, dir_b = os.path.join(root, phase + "A"), os.path.join(root, phase + "B")
        by_key_a, by_key_b = by_pair_key(dir_a, "A"), by_pair_key(dir_b, "B")
        lonely = sorted(set(by_key_a) ^ set(by_key_b))
        if lonely:
            names = [os.path.join(phase + "A", by_key_a[k]) if k in by_key_a
                     else os.path.join(phase + "B", by_key_b[k]) for k in lonely]
            raise UserError(f"{len(names)} image(s) in {root} have no counterpart: {name_list(names)}")
        for key, name_a in sorted(by_key_a.items()):
            out = key + os.path.splitext(name_a)[1]
            jobs.append((os.path.join(dir_a, name_a), os.path.join(dir_b, by_key_b[key]),
                         os.path.join(root, phase, out)))
        print(f"{phase}: {len(by_key_a)} pairs")
    return jobs


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset-path", required=True, help="folder with trainA/, trainB/, testA/, testB/ ...")
    parser.add_argument("--no_multiprocessing", action="store_true", help="combine in this process only")
    args = parser.parse_args(argv)
    count = write_pairs(plan(args.dataset_path), processes=not args.no_multiprocessing)
    print(f"wrote {count} aligned images under {args.dataset_path}")


if __name__ == "__main__":
    main()
