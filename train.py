"""Train an image-to-image translation model: python train.py --dataroot DIR --name RUN --model pix2pix ...

Several GPUs or machines: torchrun --nproc_per_node=N train.py ... (see README, multi-GPU training).
"""

from data import create_dataset
from models import create_model
from options.train_options import TrainOptions
from util import distributed
from util.allocator import keep_freed_memory
from util.errors import exit_on_user_error
from util.reproducibility import seed_everything
from util.training import train
from util.visualizer import Visualizer


@exit_on_user_error
def main() -> None:
    keep_freed_memory()
    distributed.silence_other_processes()
    opt = TrainOptions().parse()
    seed_everything(opt.seed)
    distributed.init_process_group(opt.device)
    dataset = create_dataset(opt)
    model = create_model(opt)
    model.setup(opt)
    visualizer = Visualizer(opt)
    try:
        train(opt, dataset, model, visualizer)
    finally:
        visualizer.close()
    # Only a finished run leaves the group politely; a failing process just exits and torchrun stops the others.
    distributed.destroy_process_group()


if __name__ == "__main__":
    main()
