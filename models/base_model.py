"""BaseModel: what every model shares — networks, checkpoints, schedules, visuals and losses."""

from __future__ import annotations

import argparse
import os
import re
from abc import ABC, abstractmethod
from collections import OrderedDict
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from models import networks
from util import checkpoint, distributed, precision, save_point
from util.compilation import compile_network
from util.errors import UserError
from util.image_pool import ImagePool


class BaseModel(ABC):
    """A model declares `model_names`, `loss_names`, `visual_names` and `optimizers`, and implements
    `set_input`, `forward` and `optimize_parameters`. Networks live in attributes `net<name>`, losses in
    `loss_<name>`, visuals in attributes named as in `visual_names`.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.isTrain: bool = opt.isTrain
        self.device: torch.device = opt.device
        self.save_dir = os.path.join(opt.checkpoints_dir, opt.name)
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

    def paired_input(self, input: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's (source, target) images on the device, following --direction; remembers the source paths."""
        a_to_b = self.opt.direction == "AtoB"
        self.image_paths = input["A_paths" if a_to_b else "B_paths"]
        source = input["A" if a_to_b else "B"].to(self.device, non_blocking=True)
        target = input["B" if a_to_b else "A"].to(self.device, non_blocking=True)
        return source, target

    @abstractmethod
    def forward(self) -> None:
        """Compute the outputs from the current input."""

    @abstractmethod
    def optimize_parameters(self) -> None:
        """One training step: forward, losses, backward, optimizer updates."""

    # networks ---------------------------------------------------------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        """The model's networks by name (`G` -> self.netG)."""
        return {name: getattr(self, "net" + name) for name in self.model_names}

    def to_device(self, net: nn.Module) -> nn.Module:
        """Move a newly built network to the model's device."""
        return net.to(self.device)

    def set_requires_grad(self, nets: nn.Module | list[nn.Module], requires_grad: bool) -> None:
        """Freeze or unfreeze networks (the discriminators are frozen during the generator step).

        A frozen network also stops synchronising gradients across processes, as it produces none.
        """
        for net in nets if isinstance(nets, list) else [nets]:
            for param in net.parameters():
                param.requires_grad_(requires_grad)
            distributed.set_gradient_sync(net, requires_grad)

    def adam(self, params: Any) -> torch.optim.Adam:
        """Adam with --lr and (--beta1, 0.999), using the fused implementation where the device has one."""
        fused = self.device.type in ("cuda", "cpu")
        return torch.optim.Adam(params, lr=self.opt.lr, betas=(self.opt.beta1, 0.999), fused=fused)

    def check_image_size(self, images: torch.Tensor) -> None:
        """Reject image sizes the generator cannot take, with the fix."""
        multiple = networks.input_size_multiple(self.opt.netG)
        height, width = images.shape[-2:]
        if height % multiple or width % multiple:
            raise UserError(f"--netG {self.opt.netG} needs image sides that are multiples of {multiple}, "
                            f"got {width}x{height}; set --crop_size (or --load_size with --preprocess none) "
                            "to a multiple, or use another --netG")

    def autocast(self) -> AbstractContextManager:
        """The precision context for forward passes and losses."""
        return precision.autocast(self.device, getattr(self.opt, "amp", "off"))

    def optimizer_step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """Backpropagate `loss` and update the parameters of `optimizer` (through its GradScaler under fp16).

        With --skip_nonfinite a NaN or Inf loss updates nothing (this check waits for the device once per step).
        """
        optimizer.zero_grad(set_to_none=True)
        if getattr(self.opt, "skip_nonfinite", False) and not bool(torch.isfinite(loss.detach()).all()):
            self.skipped_steps += 1
            return
        if not self.grad_scalers:
            loss.backward()
            optimizer.step()
            return
        scaler = self.grad_scalers[self.optimizers.index(optimizer)]
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

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

    def compute_visuals(self) -> None:  # noqa: B027 (a hook: models override it when they need to)
        """Derive extra visuals after forward (e.g. colour conversion); nothing by default."""

    # set-up, schedules ------------------------------------------------------------------------------------------

    def setup(self, opt: argparse.Namespace) -> None:
        """Create schedulers, load checkpoints when testing or resuming, and print the networks."""
        if self.isTrain:
            self.schedulers = [networks.get_scheduler(optimizer, opt) for optimizer in self.optimizers]
            self.grad_scalers = precision.make_grad_scalers(len(self.optimizers), getattr(opt, "amp", "off"),
                                                            self.device)
        if not self.isTrain or opt.continue_train:
            self.load_networks(self.load_suffix())
        self.print_networks(opt.verbose)
        self.accelerate_networks(opt)

    def accelerate_networks(self, opt: argparse.Namespace) -> None:
        """Apply --channels_last and --compile, and wrap trained networks in DDP inside a process group.

        Wrapping happens after loading, so checkpoints always meet the plain networks.
        """
        if self.device.type == "cuda" and opt.seed is None:
            # Fixed input sizes let cuDNN pick the fastest kernels once (not under --seed: its choice varies).
            torch.backends.cudnn.benchmark = "scale_width" not in opt.preprocess
        for name, net in self.networks().items():
            if getattr(opt, "channels_last", False):
                net = net.to(memory_format=torch.channels_last)
            if getattr(opt, "compile", False):
                net = compile_network(net, f"net{name}")
            if self.isTrain:
                net = distributed.wrap_ddp(net, self.device)
            self.replace_network(name, net)

    def replace_network(self, name: str, wrapped: nn.Module) -> None:
        """Put `wrapped` wherever the model keeps network `name` (usually self.net<name>)."""
        original = self.networks()[name]
        for attr, value in list(vars(self).items()):
            if value is original:
                setattr(self, attr, wrapped)

    def load_suffix(self) -> str:
        """Which checkpoint to load: iter_<load_iter> when given, otherwise --epoch."""
        return f"iter_{self.opt.load_iter}" if self.opt.load_iter > 0 else str(self.opt.epoch)

    def update_learning_rate(self, metric: float | None = None) -> None:
        """Step every scheduler once at the end of an epoch (plateau uses `metric`)."""
        if not self.optimizers:
            return
        old_lr = self.optimizers[0].param_groups[0]["lr"]
        if metric is not None:
            metric = distributed.mean_over_processes(metric, self.device)  # every process must decide alike
        for scheduler in self.schedulers:
            networks.step_scheduler(scheduler, metric)
        new_lr = self.optimizers[0].param_groups[0]["lr"]
        if new_lr != old_lr:
            print(f"learning rate {old_lr:.7f} -> {new_lr:.7f}")

    def lr_metric(self) -> torch.Tensor | None:
        """The quantity the plateau schedule watches: the total generator loss of the last step."""
        loss = getattr(self, "loss_G", None)
        return loss.detach() if isinstance(loss, torch.Tensor) else None

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

    # checkpoints ------------------------------------------------------------------------------------------------

    def checkpoint_path(self, suffix: str | int, name: str) -> str:
        return os.path.join(self.save_dir, f"{suffix}_net_{name}.pth")

    def save_networks(self, suffix: str | int) -> None:
        """Save each network as <suffix>_net_<name>.pth: a plain state dict on the CPU, written atomically."""
        os.makedirs(self.save_dir, exist_ok=True)
        for name, state in self.network_state_dicts().items():
            checkpoint.atomic_save(state, self.checkpoint_path(suffix, name))

    def network_state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Each network's plain state dict on the CPU (no wrapper prefixes), by network name."""
        return {name: {k: v.detach().cpu() for k, v in checkpoint.unwrap_model(net).state_dict().items()}
                for name, net in self.networks().items()}

    def load_networks(self, suffix: str | int) -> None:
        """Load <suffix>_net_<name>.pth into each network; missing files list the checkpoints that exist.

        Every file is read and checked before any network changes, so a mismatch leaves all of them as they were.
        """
        save_point.recover(self.save_dir)
        checked = {}
        for name, net in self.networks().items():
            path = self.checkpoint_path(suffix, name)
            if not os.path.isfile(path):
                raise UserError(self.missing_checkpoint_message(path, name))
            print(f"loading the network from {path}")
            checked[name] = checkpoint.checked_weights(checkpoint.unwrap_model(net), path,
                                                       self.network_options_hint(name))
        for name, net in self.networks().items():
            checkpoint.unwrap_model(net).load_state_dict(checked[name], strict=True)

    def missing_checkpoint_message(self, path: str, name: str) -> str:
        """Explain a missing checkpoint file and list the ones available for this network."""
        pattern = re.compile(rf"^(.+)_net_{re.escape(name)}\.pth$")
        found = sorted(m.group(1) for f in (os.listdir(self.save_dir) if os.path.isdir(self.save_dir) else [])
                       if (m := pattern.match(f)))
        if not found:
            return (f"no checkpoint '{path}': the run folder has no saved net_{name}; "
                    "check --name and --checkpoints_dir, or train first")
        choices = ", ".join(f"--load_iter {s[5:]}" if s.startswith("iter_") else f"--epoch {s}" for s in found)
        return f"no checkpoint '{path}'; this run has: {choices}"

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
                print(net)
            count = sum(p.numel() for p in net.parameters())
            print(f"[Network {name}] Total number of parameters : {count / 1e6:.3f} M")

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
