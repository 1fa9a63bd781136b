"""Make an aligned (pix2pix) dataset from two folders of matching images.

    python datasets/combine_A_and_B.py --fold_A /path/A --fold_B /path/B --fold_AB /path/AB

For each split folder in fold_A (e.g. train, val, test), fold_A/<split>/<name> and fold_B/<split>/<name> become
fold_AB/<split>/<name>: A on the left, B on the right. With --use_AB, fold_A/<split>/x_A.jpg pairs with
fold_B/<split>/x_B.jpg and becomes x.jpg. Images without a counterpart are named and nothing is written
(exit status 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasets.aligned_pairs import image_names, name_list, write_pairs  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402


def plan(fold_a: str, fold_b: str, fold_ab: str, use_ab: bool, num_imgs: int) -> list[tuple[str, str, str]]:
    """Every (A path, B path, output path), after checking that each A image has its B counterpart."""
    for folder, option in ((fold_a, "--fold_A"), (fold_b, "--fold_B")):
        if not os.path.isdir(folder):
            raise UserError(f"{option} {folder} is not a folder")
    splits = sorted(d for d in os.listdir(fold_a) if os.path.isdir(os.path.join(fold_a, d)))
    if not splits:
        raise UserError(f"{fold_a} has no split folders (e.g. train/, test/) to combine")
    jobs = []
    for split in splits:
        dir_a, dir_b = os.path.join(fold_a, split), os.path.join(fold_b, split)
        if not os.path.isdir(dir_b):
            raise UserError(f"{dir_a} has no counterpart folder {dir_b}")
        names = [n for n in image_names(dir_a) if "_A." in n] if use_ab else image_names(dir_a)
        names = names[:num_imgs]
        counterpart = {n: n.replace("_A.", "_B.") if use_ab else n for n in names}
        missing = [n for n in names if not os.path.isfile(os.path.join(dir_b, counterpart[n]))]
        if missing:
            raise UserError(f"{len(missing)} image(s) in {dir_a} have no counterpart in {dir_b}: "
                            f"{name_list(missing)}")
        for n in names:
            out = n.replace("_A.", ".") if use_ab else n
            jobs.append((os.path.join(dir_a, n), os.path.join(dir_b, counterpart[n]),
                         os.path.join(fold_ab, split, out)))
        print(f"{split}: {len(names)} pairs")
    return jobs


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fold_A", required=True, help="folder with A images, one subfolder per split")
    parser.add_argument("--fold_B", required=True, help="folder with B images, same layout and names")
    parser.add_argument("--fold_AB", required=True, help="output folder")
    parser.add_argument("--num_imgs", type=int, default=1000000, help="at most this many pairs per split")
    parser.add_argument("--use_AB", action="store_true", help="pair x_A.<ext> with x_B.<ext>, write x.<ext>")
    parser.add_argument("--no_multiprocessing", action="store_true", help="combine in this process only")
    args = parser.parse_args(argv)
    jobs = plan(args.fold_A, args.fold_B, args.fold_AB, args.use_AB, args.num_imgs)
    count = write_pairs(jobs, processes=not args.no_multiprocessing)
    print(f"wrote {count} aligned images to {args.fold_AB}")


if __name__ == "__main__":
    main()
