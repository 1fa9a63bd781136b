"""A test script written as a user of the original release writes one: run a trained model over the test images
and write a results page.

For the porting acceptance test (tests/test_porting.py). It reads its options from the command line
(`TestOptions().parse()`), sets some of them by hand, calls `model.setup(opt)`, and writes the page with
`html.HTML` and `save_images(webpage, visuals, image_path, aspect_ratio, width)`, as scripts for the original do;
`util.tensor2im` gives the mean output level it prints.
"""
import os

from data import create_dataset
from models import create_model
from options.test_options import TestOptions
from util import html, util
from util.visualizer import save_images


def main():
    opt = TestOptions().parse()
    opt.num_threads = 0  # one image at a time, in file order, as displayed
    opt.batch_size = 1
    opt.serial_batches = True
    opt.no_flip = True
    dataset = create_dataset(opt)
    model = create_model(opt)
    model.setup(opt)  # loads <epoch>_net_G.pth from the run folder
    if opt.eval:
        model.eval()
    page_dir = os.path.join(opt.results_dir, opt.name, f'{opt.phase}_{opt.epoch}')
    webpage = html.HTML(page_dir, f'{opt.name}: {opt.phase} images, epoch {opt.epoch}')
    levels = []
    for count, batch in enumerate(dataset):
        if count == opt.num_test:
            break
        model.set_input(batch)
        model.test()
        visuals = model.get_current_visuals()
        levels.append(util.tensor2im(visuals['denoised']).mean())
        save_images(webpage, visuals, model.get_image_paths(), aspect_ratio=opt.aspect_ratio,
                    width=opt.display_winsize)
    webpage.save()
    print(f'translated {len(levels)} images; mean output level {sum(levels) / len(levels):.1f}')


if __name__ == '__main__':
    main()
