"""Adversarial objectives, the WGAN-GP gradient penalty and CUT's PatchNCE loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from util.errors import unknown_name

GAN_MODES = ("vanilla", "lsgan", "wgangp")  # the --gan_mode choices
PENALTY_KINDS = ("real", "fake", "mixed")


class GANLoss(nn.Module):
    """The adversarial loss for a discriminator's raw output map (logits), against an all-real or all-fake target.

    vanilla: binary cross-entropy with logits; lsgan: mean squared error; wgangp: -mean for real, +mean for fake.
    The loss is computed in float32 whatever the prediction's dtype, so it is safe under autocast.
    """

    def __init__(self, gan_mode: str, target_real_label: float = 1.0, target_fake_label: float = 0.0) -> None:
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise unknown_name("--gan_mode", gan_mode, GAN_MODES)
        self.gan_mode = gan_mode
        self.register_buffer("real_label", torch.tensor(target_real_label, dtype=torch.float32))
        self.register_buffer("fake_label", torch.tensor(target_fake_label, dtype=torch.float32))

    def get_target_tensor(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """The real or fake label, expanded to the prediction's shape (in float32)."""
        return (self.real_label if target_is_real else self.fake_label).float().expand_as(prediction)

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """Scalar loss for `prediction` judged against the real (True) or fake (False) target."""
        prediction = prediction.float()
        if self.gan_mode == "wgangp":
            return -prediction.mean() if target_is_real else prediction.mean()
        target = self.get_target_tensor(prediction, target_is_real)
        if self.gan_mode == "vanilla":
            return F.binary_cross_entropy_with_logits(prediction, target)
        return F.mse_loss(prediction, target)


def gradient_penalty(netD: nn.Module, real: torch.Tensor, fake: torch.Tensor, kind: str = "mixed",
                     constant: float = 1.0, lambda_gp: float = 10.0) -> torch.Tensor:
    """WGAN-GP penalty lambda_gp * mean((||grad_x netD(x)||_2 - constant)^2), differentiable w.r.t. netD.

    x is `real`, `fake` or ('mixed') a per-sample random interpolation between them. Neither input receives
    gradients. Returns a zero scalar when lambda_gp is 0.
    """
    return gradient_penalty_and_gradients(netD, real, fake, kind, constant, lambda_gp)[0]


def gradient_penalty_and_gradients(netD: nn.Module, real: torch.Tensor, fake: torch.Tensor, kind: str = "mixed",
                                   constant: float = 1.0, lambda_gp: float = 10.0
                                   ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`gradient_penalty` and the gradients it penalises, one row per sample (None when lambda_gp is 0)."""
    if lambda_gp == 0:
        return torch.zeros((), device=real.device), None
    if kind == "real":
        x = real
    elif kind == "fake":
        x = fake
    elif kind == "mixed":
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        x = alpha * real.detach() + (1 - alpha) * fake.detach()
    else:
        raise ValueError(f"unknown gradient-penalty kind '{kind}'; choose one of: {', '.join(PENALTY_KINDS)}")
    x = x.detach().requires_grad_(True)
    score = netD(x).float()
    (grad,) = torch.autograd.grad(score, x, grad_outputs=torch.ones_like(score), create_graph=True)
    # The small constant keeps the norm differentiable where the gradient vanishes.
    grad = grad.flatten(1)
    grad_norm = torch.sqrt(grad.float().pow(2).sum(dim=1) + 1e-12)
    return ((grad_norm - constant) ** 2).mean() * lambda_gp, grad


def patch_nce_loss(feat_q: torch.Tensor, feat_k: torch.Tensor, num_images: int, temperature: float = 0.07,
                   negatives_from_minibatch: bool = False) -> torch.Tensor:
    """PatchNCE (CUT): each query patch must pick its own key patch out of the other patches; the mean over patches.

    `feat_q` and `feat_k` are (num_images * P, C) rows of L2-normalised patch vectors in the projector's layout (the
    P patches of image 0 first) with the same locations row for row. For every query the logits are its dot
    product with its key (the positive) and with the keys of the other patches (the negatives) of the same image,
    or of every image of the minibatch with `negatives_from_minibatch`, all divided by `temperature`; the loss is
    the cross-entropy of picking the positive. A query's own key among the negatives is masked to -10 (before the
    temperature), as in the CUT release. Keys get no gradient. Computed in float32.
    """
    rows, channels = feat_q.shape
    if rows % num_images:
        raise ValueError(f"{rows} patch rows cannot be split into {num_images} images")
    query, key = feat_q.float(), feat_k.detach().float()
    positive = (query * key).sum(dim=1, keepdim=True)
    groups = 1 if negatives_from_minibatch else num_images
    query, key = query.view(groups, -1, channels), key.view(groups, -1, channels)
    per_group = query.shape[1]
    negatives = torch.bmm(query, key.transpose(1, 2))
    own_key = torch.eye(per_group, dtype=torch.bool, device=negatives.device)
    negatives = negatives.masked_fill(own_key, -10.0).view(rows, per_group)
    logits = torch.cat([positive, negatives], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(rows, dtype=torch.long, device=logits.device))
