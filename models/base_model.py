"""BaseModel: the contract every model fulfils — its networks, losses, visuals, optimizers and training state.

A model declares `model_names`, `loss_names`, `visual_names` and `optimizers`, and implements `set_input`,
`forward` and `optimize_parameters`. Networks live in attributes `net<name>`, losses in `loss_<name>`, visuals in
attributes named as in `visual_names`. The entry points drive it (see train.py):

    model = create_model(opt)                   # builds networks, losses and optimizers
    model.data_dependent_initialize(batch)      # once, on the first batch: parts whose shape depends on the data
    model.setup(first_epoch)                    # networks onto the device; a schedule (and grad scaler) per optimizer
    model.set_input(batch); model.optimize_parameters()    # each training step
    model.set_input(batch); model.test()                   # each test step

A model knows nothing of files, pages or processes: weights and training state come and go as plain dicts
(`network_state_dicts`, `load_network_state_dicts`, `state_dict`, `load_state_dict`). The one exception is kept
apart, in `OriginalReleaseMethods`: the original release's file and GPU helpers, for code written for it.
"""

from __future__ import annotations

import argparse
import os
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from models import networks
from models.inference import Translator
from util import checkpoint, distributed, messages, precision
from util.checkpoint import plain_state_dict, unwrap_model
from util.errors import UserError
from util.image_pool import ImagePool


class OriginalReleaseMethods:
    """Compatibility: the original release's BaseModel helpers that touch files and GPUs, for model files and scripts
    written for it (README: "Porting code written for the original release").

    They are thin adapters over util.checkpoint. train.py and test.py never call them: they save and load through
    util.checkpoint and models.load_networks, so a model needs none of these.
    """

    opt: argparse.Namespace
    device: torch.device
    isTrain: bool

    @property
    def gpu_ids(self) -> list[int]:
        """The original's list of GPU ids: [the model's GPU], or [] on the CPU (for networks.define_G / init_net)."""
        return [self.device.index or 0] if self.device.type == "cuda" else []

    @property
    def save_dir(self) -> str:
        """The run folder, <checkpoints_dir>/<name>."""
        return os.path.join(self.opt.checkpoints_dir, self.opt.name)

    def save_networks(self, epoch: str | int) -> None:
        """Write `<epoch>_net_<name>.pth` for every network into save_dir (main process only), each atomically and
        without a training state, so --continue_train from them starts the optimizers afresh.
        """
        messages.deprecated("BaseModel.save_networks(epoch)", "train.py's save points (util.checkpoint)")
        if distributed.is_main_process():
            checkpoint.write_network_files(self.save_dir, epoch, self.network_state_dicts())

    def load_networks(self, epoch: str | int) -> None:
        """Load `<epoch>_net_<name>.pth` from save_dir into every network, checked and cleaned as test.py does."""
        messages.deprecated("BaseModel.load_networks(epoch)", "models.load_networks(model, folder, suffix)")
        self._load_run_networks(epoch)

    def setup_from_options(self, opt: argparse.Namespace) -> None:
        """What the original's `setup(opt)` did: schedules, then the weights of --epoch / --load_iter when testing or
        with --continue_train (weights only: the training state is train.py's business).
        """
        messages.deprecated("model.setup(opt)", "models.setup_for_test(model, opt, first_batch) in a test script")
        self.setup(getattr(opt, "epoch_count", None) or 1)
        if not self.isTrain or opt.continue_train:
            self._load_run_networks(checkpoint.load_suffix(opt.epoch, opt.load_iter))
        if not self.isTrain:
            wrap_generators(self, opt)

    def _load_run_networks(self, suffix: str | int) -> None:
        load_networks(self, self.save_dir, suffix)


class BaseModel(OriginalReleaseMethods, ABC):
    """The shared machinery of all models; subclasses fill in the names, networks and the training step."""

    # What the metrics compare (test.py --metrics, train.py --eval_freq): the visual holding the generated images
    # and the visual holding real images of the same domain; None for a model that has no such real images.
    evaluation_pair: tuple[str, str] | None = ("fake_B", "real_B")
    # Why the real image of a batch is not the target of its generated one, for models that learn from unpaired
    # data; paired metrics (L1, PSNR, SSIM, LPIPS) are then refused with this reason. None: they are targets.
    evaluation_unpaired_reason: str | None = None

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.isTrain: bool = opt.isTrain
        self.device: torch.device = opt.device
        self.model_names: list[str] = []
        self.loss_names: list[str] = []
        self.visual_names: list[str] = []
        self.optimizers: list[torch.optim.Optimizer] = []
        self.schedulers: list[Any] = []
        self.skipped_steps = 0  # optimizer steps skipped for a non-finite loss (--skip_nonfinite)
        # Under --amp fp16 one GradScaler per optimizer, aligned with self.optimizers; empty otherwise.
        self.grad_scalers: list[torch.amp.GradScaler] = []
        self.image_paths: list[str] = []
        self.image_pools: dict[str, ImagePool] = {}  # training state, like the optimizers

    @staticmethod
    def modify_commandline_options(parser: argparse.ArgumentParser, is_train: bool) -> argparse.ArgumentParser:
        """Add model-specific options and rewrite defaults."""
        return parser

    @abstractmethod
    def set_input(self, input: dict[str, Any]) -> None:
        """Take a batch from the data loader and move it to the device."""

    @abstractmethod
    def forward(self) -> None:
        """Compute the outputs from the current input."""

    @abstractmethod
    def optimize_parameters(self) -> None:
        """One training step: forward, losses, backward, optimizer updates."""

    def data_dependent_initialize(self, batch: dict[str, Any]) -> None:  # noqa: B027 (a hook: override it if needed)
        """Build the parts whose shape depends on the data (networks, their optimizers) from the first batch.

        Called once, before `setup`, in training and testing; whatever networks and optimizers exist afterwards
        get schedules, grad scalers, checkpoints and multi-process synchronisation like the others.
        """

    def compute_visuals(self) -> None:  # noqa: B027 (a hook: models override it when they need to)
        """Derive extra visuals after forward (e.g. colour conversion); nothing by default."""

    # helpers for subclasses -------------------------------------------------------------------------------------

    def paired_input(self, input: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's (source, target) images on the device, following --direction; remembers the source paths."""
        a_to_b = self.opt.direction == "AtoB"
        self.image_paths = input["A_paths" if a_to_b else "B_paths"]
        source = input["A" if a_to_b else "B"].to(self.device, non_blocking=True)
        target = input["B" if a_to_b else "A"].to(self.device, non_blocking=True)
        return source, target

    def to_device(self, net: nn.Module) -> nn.Module:
        """Move a newly built network to the model's device."""
        return net.to(self.device)

    def set_requires_grad(self, nets: nn.Module | list[nn.Module | None] | None, requires_grad: bool = False) -> None:
        """Freeze (the default, as in the original release) or unfreeze networks; None entries are skipped.

        The discriminators are frozen during the generator step. A frozen network also stops synchronising gradients
        across processes, as it produces none.
        """
        for net in nets if isinstance(nets, list) else [nets]:
            if net is None:
                continue
            for param in net.parameters():
                param.requires_grad_(requires_grad)
            distributed.set_gradient_sync(net, requires_grad)

    def adam(self, params: Any, beta2: float = 0.999) -> torch.optim.Adam:
        """Adam with --lr and (--beta1, beta2), using the fused implementation where the device has one."""
        fused = self.device.type in ("cuda", "cpu")
        return torch.optim.Adam(params, lr=self.opt.lr, betas=(self.opt.beta1, beta2), fused=fused)

    def check_image_size(self, images: torch.Tensor) -> None:
        """In training, reject image sizes the generator cannot take, with the fix. At test time every size is
        fine: test.py's generators pad each image to their size multiple and crop the output back
        (models.setup_for_test).
        """
        if not self.isTrain:
            return
        multiple = networks.input_size_multiple(self.opt.netG)
        height, width = images.shape[-2:]
        if height % multiple or width % multiple:
            raise UserError(f"--netG {self.opt.netG} needs image sides that are multiples of {multiple}, "
                            f"got {width}x{height}; set --crop_size (or --load_size with --preprocess none) "
                            "to a multiple, or use another --netG")

    def autocast(self) -> AbstractContextManager:
        """The precision context for forward passes and losses (--amp)."""
        return precision.autocast(self.device, self.opt.amp)

    def optimizer_step(self, optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer],
                       loss: torch.Tensor) -> None:
        """Backpropagate `loss` and update the parameters of `optimizer` (through its GradScaler under fp16).

        `optimizer` may be a list: one loss then updates several optimizers (CUT's G and F), all through the
        first one's GradScaler. With --skip_nonfinite a NaN or Inf loss updates nothing (this check waits for the
        device once per step).
        """
        optimizers = [optimizer] if isinstance(optimizer, torch.optim.Optimizer) else list(optimizer)
        for o in optimizers:
            o.zero_grad(set_to_none=True)
        if self.opt.skip_nonfinite and not bool(torch.isfinite(loss.detach()).all()):
            self.skipped_steps += 1
            return
        if not self.grad_scalers:
            loss.backward()
            for o in optimizers:
                o.step()
            return
        scaler = self.grad_scalers[self.optimizers.index(optimizers[0])]
        scaler.scale(loss).backward()
        for o in optimizers:
            scaler.step(o)
        scaler.update()

    # running ----------------------------------------------------------------------------------------------------

    def setup(self, first_epoch: int | argparse.Namespace = 1) -> None:
        """Move every network to the model's device (one built without a device lands there); in training, give
        every optimizer a learning-rate schedule (starting at `first_epoch`) and, under --amp fp16, a grad scaler;
        then print the networks' sizes.

        Called with the options instead, as scripts written for the original release do, it is
        `setup_from_options(opt)`.
        """
        if isinstance(first_epoch, argparse.Namespace):
            self.setup_from_options(first_epoch)
            return
        for net in self.networks().values():
            net.to(self.device)
        if self.isTrain:
            self.schedulers = [networks.get_scheduler(o, self.opt, first_epoch) for o in self.optimizers]
            self.grad_scalers = precision.make_grad_scalers(len(self.optimizers), self.opt.amp, self.device)
        self.print_networks(self.opt.verbose)

    def train(self) -> None:
        for net in self.networks().values():
            net.train()

    def eval(self) -> None:
        for net in self.networks().values():
            net.eval()

    def test(self) -> None:
        """Forward pass without autograd, then the visuals."""
        with torch.inference_mode():
            self.forward()
            self.compute_visuals()

    def evaluation_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The (generated, real) images of the current input that the metrics compare, in [-1, 1].

        By default the test-time forward pass and the visuals named by `evaluation_pair`; a model may override it
        to run only the networks that produce them.
        """
        self.test()
        visuals = self.get_current_visuals()
        fake, real = self.evaluation_pair
        return visuals[fake], visuals[real]

    def update_learning_rate(self, metric: float | None = None) -> None:
        """Step every scheduler once at the end of an epoch (plateau uses `metric`, the same in every process)."""
        if not self.optimizers:
            return
        old_lr = self.optimizers[0].param_groups[0]["lr"]
        for scheduler in self.schedulers:
            networks.step_scheduler(scheduler, metric)
        new_lr = self.optimizers[0].param_groups[0]["lr"]
        if new_lr != old_lr:
            messages.info(f"learning rate {old_lr:.7f} -> {new_lr:.7f}")

    def lr_metric(self) -> torch.Tensor | None:
        """The quantity the plateau schedule watches: the total generator loss of the last step."""
        loss = getattr(self, "loss_G", None)
        return loss.detach() if isinstance(loss, torch.Tensor) else None

    # networks ---------------------------------------------------------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        """The model's networks by name (`G` -> self.netG), as they run (possibly compiled or wrapped in DDP)."""
        return {name: getattr(self, "net" + name) for name in self.model_names}

    def wrap_networks(self, wrap: Callable[[str, nn.Module], nn.Module]) -> None:
        """Replace every network by `wrap(name, network)` (compiled, DDP, ...) wherever the model keeps it."""
        for name, net in self.networks().items():
            wrapped = wrap(name, net)
            for attr, value in list(vars(self).items()):
                if value is net:
                    setattr(self, attr, wrapped)

    def network_state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Each network's plain state dict on the CPU (no wrapper prefixes), by network name."""
        return {name: plain_state_dict(net) for name, net in self.networks().items()}

    def load_network_state_dicts(self, state_dicts: dict[str, dict[str, torch.Tensor]]) -> None:
        """Load a state dict into each network named in `state_dicts` (strictly: keys and shapes must fit)."""
        nets = self.networks()
        for name, state in state_dicts.items():
            unwrap_model(nets[name]).load_state_dict(state, strict=True)

    def network_options_hint(self, name: str) -> str:
        """The options that shape network `name`, for mismatch messages."""
        o = self.opt
        if name.startswith("D"):
            return f"--netD {o.netD} --n_layers_D {o.n_layers_D} --norm {o.norm} --ndf {o.ndf}"
        dropout = " --no_dropout" if o.no_dropout else ""
        channels = f"--input_nc {o.input_nc} --output_nc {o.output_nc}"
        return f"--netG {o.netG} --norm {o.norm} --ngf {o.ngf}{dropout} {channels}"

    def print_networks(self, verbose: bool) -> None:
        """Print each network's parameter count (and structure when verbose)."""
        for name, net in self.networks().items():
            if verbose:
                messages.info(str(net))
            count = sum(p.numel() for p in net.parameters())
            messages.info(f"[Network {name}] Total number of parameters : {count / 1e6:.3f} M")

    # visuals and losses -----------------------------------------------------------------------------------------

    def get_current_visuals(self) -> OrderedDict[str, torch.Tensor]:
        """Current images by visual name, as tensors in [-1, 1]."""
        return OrderedDict((name, getattr(self, name).detach()) for name in self.visual_names)

    def get_current_losses(self) -> OrderedDict[str, float]:
        """Current losses by name as floats (this synchronises with the device: call it at print time)."""
        return OrderedDict((name, float(getattr(self, "loss_" + name).detach())) for name in self.loss_names)

    def loss_tensors(self) -> dict[str, torch.Tensor]:
        """Current losses by name as detached tensors (no synchronisation with the device)."""
        return {name: torch.as_tensor(getattr(self, "loss_" + name), device=self.device).detach()
                for name in self.loss_names}

    def get_image_paths(self) -> list[str]:
        return self.image_paths

    # training state ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Training state beyond the weights: optimizers, schedulers, image pools and AMP grad scalers."""
        return {
            "optimizers": [o.state_dict() for o in self.optimizers],
            "schedulers": [s.state_dict() for s in self.schedulers],
            "image_pools": {name: pool.state_dict() for name, pool in self.image_pools.items()},
            "grad_scalers": [s.state_dict() for s in self.grad_scalers],
            "skipped_steps": self.skipped_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict() returned; a state of another model raises ValueError saying what differs.

        Without "schedulers" the current schedules keep their place and set the learning rates. Grad scalers are
        restored when the saved run used the same precision; after a change of --amp they start fresh.
        """
        counts = {"optimizers": len(self.optimizers), "schedulers": len(self.schedulers)}
        for key, count in counts.items():
            if key in state and len(state[key]) != count:
                raise ValueError(f"it holds {len(state[key])} {key}, this model has {count}")
        if set(state["image_pools"]) != set(self.image_pools):
            raise ValueError(f"it holds image pools {sorted(state['image_pools'])}, this model has "
                             f"{sorted(self.image_pools)}")
        for optimizer, saved in zip(self.optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved)
        if "schedulers" in state:
            for scheduler, saved in zip(self.schedulers, state["schedulers"], strict=True):
                scheduler.load_state_dict(saved)
        else:
            for optimizer, scheduler in zip(self.optimizers, self.schedulers, strict=True):
                for group, lr in zip(optimizer.param_groups, scheduler.get_last_lr(), strict=True):
                    group["lr"] = lr
        for name, pool in self.image_pools.items():
            pool.load_state_dict(state["image_pools"][name])
        if len(self.grad_scalers) == len(state["grad_scalers"]):
            for scaler, saved in zip(self.grad_scalers, state["grad_scalers"], strict=True):
                scaler.load_state_dict(saved)
        self.skipped_steps = state["skipped_steps"]


def load_networks(model: BaseModel, folder: str, suffix: str | int) -> None:
    """Load `<suffix>_net_<name>.pth` from `folder` into each of the model's networks.

    Every file is read and checked before any network changes, so a mismatch leaves all of them as they were.
    """
    networks = model.networks()
    hints = {name: model.network_options_hint(name) for name in networks}
    name_option = ("G", "--model_suffix") if hasattr(model.opt, "model_suffix") else None
    model.load_network_state_dicts(checkpoint.read_network_weights(folder, suffix, networks, hints, name_option))


def wrap_generators(model: BaseModel, opt: argparse.Namespace) -> None:
    """Make every generator of the model (a network named G, G_A, ...) take images of any size, with test.py's --tile
    settings, by wrapping it in a models.inference.Translator: at test time only (training crops to fitting sizes).
    """
    multiple = networks.input_size_multiple(opt.netG)
    settings = (getattr(opt, "amp", "off"), getattr(opt, "tile", 0), getattr(opt, "tile_overlap", 32),
                getattr(opt, "tile_stats", None))  # options of scripts written for the original release lack them
    model.wrap_networks(lambda name, net: Translator(net, multiple, *settings) if name.startswith("G") else net)
