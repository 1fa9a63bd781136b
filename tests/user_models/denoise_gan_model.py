"""A conditional GAN that removes noise, written as a user of the original release writes a model file.

For the porting acceptance test (tests/test_porting.py), which installs it as models/denoise_gan_model.py. It uses
only the original release's API, the way its own model files do: relative imports, `BaseModel.__init__(self, opt)`,
networks built with `networks.define_G(..., self.gpu_ids)` and `networks.init_net`, a loss from
`networks.GANLoss(...).to(self.device)`, plain optimizer steps and `self.set_requires_grad`.
"""
import torch

from . import networks
from .base_model import BaseModel


class DenoiseGANModel(BaseModel):
    """G maps a noisy image to a clean one; D judges (noisy, candidate) pairs built from the original's classes."""

    @staticmethod
    def modify_commandline_options(parser, is_train=True):
        parser.set_defaults(norm='batch', netG='resnet_6blocks', dataset_mode='noisy', no_dropout=True)
        if is_train:
            parser.set_defaults(pool_size=0, gan_mode='lsgan')
            parser.add_argument('--lambda_rec', type=float, default=20.0, help='weight of the L1 reconstruction')
        return parser

    def __init__(self, opt):
        BaseModel.__init__(self, opt)
        self.loss_names = ['G_adv', 'G_rec', 'D_real', 'D_fake']
        self.visual_names = ['noisy', 'denoised', 'clean']
        self.model_names = ['G', 'D'] if self.isTrain else ['G']
        self.netG = networks.define_G(opt.input_nc, opt.output_nc, opt.ngf, opt.netG, opt.norm,
                                      not opt.no_dropout, opt.init_type, opt.init_gain, self.gpu_ids)
        if self.isTrain:
            # A two-layer PatchGAN made from the class itself, with the original's norm-layer factory.
            critic = networks.NLayerDiscriminator(opt.input_nc + opt.output_nc, opt.ndf, n_layers=2,
                                                  norm_layer=networks.get_norm_layer(opt.norm))
            self.netD = networks.init_net(critic, opt.init_type, opt.init_gain, self.gpu_ids)
            self.criterionGAN = networks.GANLoss(opt.gan_mode).to(self.device)
            self.criterionRec = torch.nn.L1Loss()
            self.optimizer_G = torch.optim.Adam(self.netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
            self.optimizer_D = torch.optim.Adam(self.netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
            self.optimizers.append(self.optimizer_G)
            self.optimizers.append(self.optimizer_D)

    def set_input(self, input):
        a_to_b = self.opt.direction == 'AtoB'
        self.noisy = input['A' if a_to_b else 'B'].to(self.device)
        self.clean = input['B' if a_to_b else 'A'].to(self.device)
        self.image_paths = input['A_paths' if a_to_b else 'B_paths']

    def forward(self):
        self.denoised = self.netG(self.noisy)

    def backward_D(self):
        judged_fake = self.netD(torch.cat((self.noisy, self.denoised.detach()), 1))
        judged_real = self.netD(torch.cat((self.noisy, self.clean), 1))
        self.loss_D_fake = self.criterionGAN(judged_fake, False)
        self.loss_D_real = self.criterionGAN(judged_real, True)
        self.loss_D = (self.loss_D_fake + self.loss_D_real) * 0.5
        self.loss_D.backward()

    def backward_G(self):
        self.loss_G_adv = self.criterionGAN(self.netD(torch.cat((self.noisy, self.denoised), 1)), True)
        self.loss_G_rec = self.criterionRec(self.denoised, self.clean) * self.opt.lambda_rec
        self.loss_G = self.loss_G_adv + self.loss_G_rec
        self.loss_G.backward()

    def optimize_parameters(self):
        self.forward()
        self.set_requires_grad(self.netD, True)
        self.optimizer_D.zero_grad()
        self.backward_D()
        self.optimizer_D.step()
        self.set_requires_grad(self.netD)  # frozen (the default) while G learns
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
