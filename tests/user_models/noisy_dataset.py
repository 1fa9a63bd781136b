"""Clean images and noisy copies of them, written as a user of the original release writes a dataset file.

For the porting acceptance test (tests/test_porting.py), which installs it as data/noisy_dataset.py. It uses only
the original release's API: `BaseDataset.__init__(self, opt)`, `make_dataset`, `default_loader`, `get_params` and
`get_transform(self.opt, ...)`.
"""
import os

import torch

from data.base_dataset import BaseDataset, get_params, get_transform
from data.image_folder import default_loader, make_dataset


class NoisyDataset(BaseDataset):
    """Every image under <dataroot>/<phase>: 'B' is the image, 'A' the image with Gaussian noise added."""

    @staticmethod
    def modify_commandline_options(parser, is_train):
        parser.add_argument('--noise_std', type=float, default=0.3, help='standard deviation of the added noise')
        return parser

    def __init__(self, opt):
        BaseDataset.__init__(self, opt)
        self.folder = os.path.join(opt.dataroot, opt.phase)
        self.paths = sorted(make_dataset(self.folder, opt.max_dataset_size))

    def __getitem__(self, index):
        path = self.paths[index]
        image = default_loader(path)
        transform = get_transform(self.opt, get_params(self.opt, image.size))
        clean = transform(image)
        noisy = (clean + self.opt.noise_std * torch.randn_like(clean)).clamp(-1, 1)
        return {'A': noisy, 'B': clean, 'A_paths': path, 'B_paths': path}

    def __len__(self):
        return len(self.paths)
