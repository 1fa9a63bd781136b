"""Run a trained model over a dataset and write a results page: python test.py --dataroot DIR --name RUN ...

Batches (--batch_size) and data-loading workers (--num_threads) speed it up; results do not depend on the batch
size in --eval mode. Images are written by background threads while the next batch is computed.
"""

from __future__ import annotations

import argparse
import time

from data import create_dataset
from data.image_folder import searched_folders
from models import create_model, setup_for_test
from options.test_options import TestOptions
from util import messages
from util.allocator import keep_freed_memory
from util.errors import exit_on_user_error
from util.progress import progress_bar
from util.reproducibility import choose_cudnn_kernels, seed_everything
from util.results_page import ResultsPage


def warn_batch_dependence(opt: argparse.Namespace) -> None:
    """Without --eval, batch norm uses the statistics of each batch, so results change with --batch_size."""
    if opt.batch_size > 1 and not opt.eval and opt.norm in ("batch", "syncbatch"):
        messages.warn(f"--batch_size {opt.batch_size} without --eval: batch norm normalises each batch with its own "
                      "statistics, so results differ from --batch_size 1; add --eval for batch-independent results")


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    keep_freed_memory()
    opt = TestOptions().parse(argv)
    seed_everything(opt.seed)
    fixed_size = opt.preprocess != "none" and "scale_width" not in opt.preprocess  # else each image keeps its size
    choose_cudnn_kernels(opt.device, opt.seed, fixed_input_size=fixed_size)
    warn_batch_dependence(opt)
    with searched_folders() as image_dirs:  # results are named by their path inside these folders
        dataset = create_dataset(opt)
    model = create_model(opt)
    setup_for_test(model, opt, dataset.first_batch())
    start = time.time()
    total = min(opt.num_test, len(dataset))
    with ResultsPage(opt, image_dirs) as results, progress_bar(total, "test", "img") as bar:
        for batch in dataset:
            if results.count >= total:
                break
            model.set_input(batch)
            model.test()
            visuals = {label: image.float().cpu() for label, image in model.get_current_visuals().items()}
            for i, path in enumerate(model.get_image_paths()[:total - results.count]):
                results.add({k: v[i] for k, v in visuals.items()}, path)
                bar.update(1)
        page = results.close()
    messages.info(f"wrote {results.count} results to {page} in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
