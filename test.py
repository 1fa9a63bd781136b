"""Run a trained model over a dataset and write a results page: python test.py --dataroot DIR --name RUN ..."""

import os

from tqdm import tqdm

from data import create_dataset
from models import create_model
from options.test_options import TestOptions
from util import html, util
from util.errors import exit_on_user_error
from util.reproducibility import seed_everything


def results_dir(opt) -> str:
    """<results_dir>/<name>/<phase>_<epoch>[_iter<N>]"""
    folder = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.epoch}")
    return f"{folder}_iter{opt.load_iter}" if opt.load_iter > 0 else folder


def save_images(page: html.HTML, visuals, image_path: str, aspect_ratio: float, width: int) -> None:
    """Save one image's visuals as images/<stem>_<visual>.png and add them to the page as one row."""
    stem = os.path.splitext(os.path.basename(image_path))[0]
    page.add_header(stem)
    names = []
    for label, image in visuals.items():
        name = f"{stem}_{label}.png"
        util.save_image(util.tensor2im(image), os.path.join(page.get_image_dir(), name), aspect_ratio)
        names.append(name)
    page.add_images(names, list(visuals), names, width=width)


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
    web_dir = results_dir(opt)
    page = html.HTML(web_dir, f"Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {opt.epoch}")
    done = 0
    with tqdm(total=min(opt.num_test, len(dataset)), desc="test", unit="img") as bar:
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
    print(f"wrote {done} results to {page.save()}")


if __name__ == "__main__":
    main()
