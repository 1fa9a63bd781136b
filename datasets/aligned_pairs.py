"""Shared by combine_A_and_B.py and make_dataset_aligned.py: find image pairs and write them side by side."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

from PIL import Image

from util.errors import UserError
from util.image_files import is_image_file, to_8bit


def image_names(folder: str) -> list[str]:
    """Image file names directly in folder, sorted."""
    return sorted(n for n in os.listdir(folder) if is_image_file(n))


def name_list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


def combine(job: tuple[str, str, str]) -> str | None:
    """Write A|B (A left, B right) to out_path; return an error message instead when the sizes differ."""
    path_a, path_b, out_path = job
    with Image.open(path_a) as file_a, Image.open(path_b) as file_b:
        if file_a.size != file_b.size:
            return (f"{path_a} is {file_a.size[0]}x{file_a.size[1]} but {path_b} is "
                    f"{file_b.size[0]}x{file_b.size[1]}")
        a, b = to_8bit(file_a), to_8bit(file_b)  # 8-bit L or RGB
        mode = a.mode if a.mode == b.mode else "RGB"
        pair = Image.new(mode, (a.width * 2, a.height))
        pair.paste(a.convert(mode), (0, 0))
        pair.paste(b.convert(mode), (a.width, 0))
    options = {"quality": 95} if out_path.lower().endswith((".jpg", ".jpeg")) else {}
    pair.save(out_path, **options)
    return None


def write_pairs(jobs: Iterable[tuple[str, str, str]], processes: bool = True) -> int:
    """Combine every (A, B, out) job, in worker processes unless told not to; stop at the first size mismatch."""
    jobs = list(jobs)
    for out_dir in {os.path.dirname(out) for _, _, out in jobs}:
        os.makedirs(out_dir, exist_ok=True)
    if processes and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
            errors = [e for e in pool.map(combine, jobs, chunksize=16) if e]
    else:
        errors = [e for e in map(combine, jobs) if e]
    if errors:
        raise UserError(f"A and B images of a pair must have the same size: {name_list(errors, 3)}")
    return len(jobs)
