"""Run a trained model over a dataset and write a results page: python test.py --dataroot DIR --name RUN ...

Batches (--batch_size) and data-loading workers (--num_threads) speed it up; results do not depend on the batch
size in --eval mode. Images are written by background threads while the next batch is computed. With --metrics,
the written results are scored (metrics/) and the values go to the top of the page and to metrics.json.
"""

from __future__ import annotations

import argparse
import os
import time

from data import create_dataset
from data.image_folder import searched_folders
from metrics import (
    Evaluator,
    evaluate_results,
    evaluation_record,
    evaluator_for_options,
    format_table,
    table_rows,
    write_json,
)
from models import check_evaluation_pair, create_model, setup_for_test
from models.base_model import BaseModel
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
    options = TestOptions()
    opt = options.parse(argv)  # --metrics that the model cannot have (e.g. L1 of CycleGAN) stop here
    seed_everything(opt.seed)
    fixed_size = opt.preprocess != "none" and "scale_width" not in opt.preprocess  # else each image keeps its size
    choose_cudnn_kernels(opt.device, opt.seed, fixed_input_size=fixed_size)
    warn_batch_dependence(opt)
    with searched_folders() as image_dirs:  # results are named by their path inside these folders
        dataset = create_dataset(opt)
    model = create_model(opt)
    total = min(opt.num_test, len(dataset))
    evaluator = None
    if opt.metrics:  # too few images for KID or missing weights stop here, before any inference
        check_evaluation_pair(model, "--metrics")
        evaluator = evaluator_for_options(opt, opt.metrics, total, model.evaluation_unpaired_reason)
    setup_for_test(model, opt, dataset.first_batch())
    start = time.time()
    with ResultsPage(opt, image_dirs) as results, progress_bar(total, "test", "img") as bar:
        options.save_options(opt)  # next to the results, now that they really start
        for batch in dataset:
            if results.count >= total:
                break
            model.set_input(batch)
            model.test()
            visuals = {label: image.float().cpu() for label, image in model.get_current_visuals().items()}
            for i, path in enumerate(model.get_image_paths()[:total - results.count]):
                results.add({k: v[i] for k, v in visuals.items()}, path)
                bar.update(1)
        seconds = time.time() - start
        if evaluator is not None:
            add_metrics(opt, results, evaluator, model)
        page = results.close()
    messages.info(f"wrote {results.count} results to {page} in {seconds:.1f} s")


def add_metrics(opt: argparse.Namespace, results: ResultsPage, evaluator: Evaluator, model: BaseModel) -> None:
    """Score the results just written (the model's evaluation pair of visuals, e.g. fake_B against real_B), print
    the table, put it at the top of the page and save it as metrics.json beside index.html.
    """
    results.finish_images()
    web_dir = results.page.web_dir
    evaluation = evaluate_results(web_dir, settings=evaluator.settings, evaluator=evaluator,
                                  unpaired_reason=model.evaluation_unpaired_reason, pair=model.evaluation_pair,
                                  result_names=results.written)
    record = evaluation_record(evaluation, evaluator.settings)
    record["run"] = {"name": opt.name, "phase": opt.phase, "epoch": opt.epoch, "load_iter": opt.load_iter,
                     "model": opt.model, "eval": opt.eval}
    json_path = os.path.join(web_dir, "metrics.json")
    write_json(record, json_path)
    fake, real = model.evaluation_pair
    sets = "pairs" if evaluation.paired else "sets"
    results.add_metrics_table(table_rows(evaluation.values), f"{evaluation.num_fake} {fake} images against "
                              f"{evaluation.num_real} {real} images (as {sets}); values also in metrics.json")
    messages.info(format_table(evaluation.values))
    messages.info(f"wrote {json_path}")


if __name__ == "__main__":
    main()
