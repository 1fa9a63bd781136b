"""Train an image-to-image translation model: python train.py --dataroot DIR --name RUN --model pix2pix ..."""

from data import create_dataset
from models import create_model
from options.train_options import TrainOptions
from util.errors import exit_on_user_error
from util.reproducibility import seed_everything
from util.training import train
from util.visualizer import Visualizer


@exit_on_user_error
def main() -> None:
    opt = TrainOptions().parse()
    seed_everything(opt.seed)
    dataset = create_dataset(opt)
    model = create_model(opt)
    model.setup(opt)
    visualizer = Visualizer(opt)
    try:
        train(opt, dataset, model, visualizer)
    finally:
        visualizer.close()


if __name__ == "__main__":
    main()
