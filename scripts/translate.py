"""Translate your own images, of any size, with a trained generator; no dataset folder needed.

    python scripts/translate.py --name demo_shapes_cyclegan --model_suffix _A photo.jpg more/ --output out/
    python scripts/translate.py --name horse2zebra_pretrained --no_dropout big.jpg --output out/ --tile 512

INPUTs are image files (any format PIL reads) and folders (every image under them). Each result is
<output>/<name><suffix>.png with the input's exact size; <name> is the input's stem, or its path inside the folder
given (results are named as test.py names them: util/results_page.py). The generator's options come from the run's
train_opt.json; published weights without one take --netG, --norm, --ngf, --no_dropout as test.py does.

An input that is not a readable image is an error (exit 2) when it is the only one; among several it is skipped with a
warning and the command exits with status 1 at the end. Results are written whole or not at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from data.image_folder import BadImageError, make_dataset  # noqa: E402
from models.translator import load_translator  # noqa: E402
from options.inference_options import TranslateOptions, generator_overrides  # noqa: E402
from util import messages, util  # noqa: E402
from util.allocator import keep_freed_memory  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402
from util.image_files import to_8bit  # noqa: E402
from util.progress import progress_bar  # noqa: E402
from util.results_page import ResultNames  # noqa: E402


def find_inputs(inputs: list[str]) -> tuple[list[str], list[str]]:
    """(files, folders): the files given and every image under the folders given, in order; a missing path or a
    folder without images is a UserError.
    """
    files, folders = [], []
    for path in inputs:
        if os.path.isdir(path):
            files += make_dataset(path)
            folders.append(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise UserError(f"no file or folder '{path}'; check the INPUT paths")
    return files, folders


def result_paths(files: list[str], folders: list[str], output: str, suffix: str) -> list[str]:
    """Where each input's result goes: unique names as test.py gives them; never over an input."""
    names = ResultNames(folders)
    targets = [os.path.join(output, *f"{names(path)}{suffix}.png".split("/")) for path in files]
    inputs = {os.path.realpath(path) for path in files}
    for target in targets:
        if os.path.realpath(target) in inputs:
            raise UserError(f"the result '{target}' would overwrite an input; choose another --output or --suffix")
    return targets


def check_output_folder(folder: str) -> None:
    """Check that results can be written in `folder` (made when the first result is written), so that a mistake
    shows before any work.
    """
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    problem = None
    if not os.path.isdir(existing):
        problem = f"'{existing}' is not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"'{existing}' is not writable"
    if problem:
        raise UserError(f"cannot write to --output '{folder}': {problem}; choose a writable folder")


def read_image(path: str) -> Image.Image:
    """The decoded image at `path` in 8 bits (util.image_files.to_8bit); a file that is not a readable image raises
    BadImageError naming it.
    """
    try:
        with Image.open(path) as image:
            image.load()
            return to_8bit(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(f"'{path}' is not a readable image ({err})", path) from None


def write_image(image: Image.Image, path: str) -> None:
    """Save atomically (a whole file or none); a failed write is a UserError."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        util.save_image(np.asarray(image), path)
    except OSError as err:
        raise UserError(f"cannot write '{path}': {err.strerror or err}; free some space or choose another --output"
                        ) from None


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    keep_freed_memory()
    opt = TranslateOptions().parse(argv)
    files, folders = find_inputs(opt.inputs)
    targets = result_paths(files, folders, opt.output, opt.suffix)
    translator = load_translator(opt.run_dir, opt.model_suffix, opt.epoch, opt.load_iter, opt.device, opt.eval,
                                 opt.amp, opt.tile, opt.tile_overlap, opt.tile_stats, **generator_overrides(opt))
    check_output_folder(opt.output)
    skipped = []
    with progress_bar(len(files), "translate", "img", enabled=len(files) > 1) as bar:
        for path, target in zip(files, targets, strict=True):
            try:
                image = read_image(path)
            except BadImageError as err:
                if len(files) == 1:
                    raise
                messages.warn(f"skipped: {err}")
                skipped.append(path)
            else:
                write_image(translator(image), target)
            bar.update(1)
    written = len(files) - len(skipped)
    messages.info(f"wrote {written} image{'' if written == 1 else 's'} to {opt.output}")
    if skipped:
        messages.warn(f"{len(skipped)} of {len(files)} inputs were not readable images and were skipped")
        sys.exit(1)


if __name__ == "__main__":
    main()
