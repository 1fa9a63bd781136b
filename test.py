"""Run a trained model over a dataset and write a results page: python test.py --dataroot DIR --name RUN ..."""

import time

from data import create_dataset
from models import create_model
from options.test_options import TestOptions
from util.errors import exit_on_user_error
from util.progress import progress_bar
from util.reproducibility import seed_everything
from util.results_page import open_results_page, save_images


@exit_on_user_error
def main() -> None:
    opt = TestOptions().parse()
    seed_everything(opt.seed)
    opt.serial_batches = True  # results follow the input order
    opt.no_flip = True
    dataset = create_dataset(opt)
    model = create_model(opt)
    model.setup(opt)
    if opt.eval:
        model.eval()
    page = open_results_page(opt)
    start = time.time()
    done = 0
    with progress_bar(min(opt.num_test, len(dataset)), "test", "img") as bar:
        for batch in dataset:
            if done >= opt.num_test:
                break
            model.set_input(batch)
            model.test()
            visuals = model.get_current_visuals()
            for i, path in enumerate(model.get_image_paths()):
                if done >= opt.num_test:
                    break
                save_images(page, {k: v[i] for k, v in visuals.items()}, path, opt.aspect_ratio, opt.display_winsize)
                done += 1
                bar.update(1)
    print(f"wrote {done} results to {page.save()} in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
