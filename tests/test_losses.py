"""GANLoss values per mode, and the WGAN-GP gradient penalty."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from models.losses import GAN_MODES, GANLoss, gradient_penalty
from util.errors import UserError

PREDICTION = torch.tensor([[[[-2.0, 0.0], [0.5, 3.0]]]])


def bce(logit: float, target: float) -> float:
    probability = 1 / (1 + math.exp(-logit))
    return -(target * math.log(probability) + (1 - target) * math.log(1 - probability))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


LOGITS = PREDICTION.flatten().tolist()


@pytest.mark.parametrize(("mode", "is_real", "expected"), [
    ("vanilla", True, mean([bce(p, 1.0) for p in LOGITS])),
    ("vanilla", False, mean([bce(p, 0.0) for p in LOGITS])),
    ("lsgan", True, mean([(p - 1.0) ** 2 for p in LOGITS])),
    ("lsgan", False, mean([p**2 for p in LOGITS])),
    ("wgangp", True, -mean(LOGITS)),
    ("wgangp", False, mean(LOGITS)),
])
def test_gan_loss_values(mode, is_real, expected):
    loss = GANLoss(mode)(PREDICTION, is_real)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_custom_target_labels():
    criterion = GANLoss("vanilla", target_real_label=0.9, target_fake_label=0.1)
    assert criterion(PREDICTION, True).item() == pytest.approx(mean([bce(p, 0.9) for p in LOGITS]), rel=1e-6)
    assert criterion(PREDICTION, False).item() == pytest.approx(mean([bce(p, 0.1) for p in LOGITS]), rel=1e-6)
    lsgan = GANLoss("lsgan", target_real_label=0.9)
    assert lsgan(PREDICTION, True).item() == pytest.approx(mean([(p - 0.9) ** 2 for p in LOGITS]), rel=1e-6)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_gan_loss_is_float32_for_half_predictions_and_flows_gradients(mode):
    prediction = PREDICTION.to(torch.bfloat16).requires_grad_(True)
    loss = GANLoss(mode)(prediction, True)
    assert loss.dtype == torch.float32
    loss.backward()
    assert prediction.grad is not None and prediction.grad.dtype == torch.bfloat16


def test_gan_loss_targets_are_buffers_that_follow_the_module():
    criterion = GANLoss("lsgan").to(torch.float64)
    assert {name for name, _ in criterion.named_buffers()} == {"real_label", "fake_label"}
    assert criterion(PREDICTION.double(), True).dtype == torch.float32


def test_unknown_gan_mode_lists_the_modes():
    with pytest.raises(UserError) as info:
        GANLoss("hinge")
    assert all(mode in str(info.value) for mode in GAN_MODES)


class LinearCritic(nn.Module):
    """D(x) = <w, x> per sample: its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(dim=1)


def unit_vector(shape: tuple[int, ...]) -> torch.Tensor:
    w = torch.randn(shape)
    return w / w.norm()


@pytest.mark.parametrize("kind", ["real", "fake", "mixed"])
def test_penalty_is_zero_for_a_unit_gradient_critic(kind):
    torch.manual_seed(0)
    critic = LinearCritic(unit_vector((3, 4, 4)))
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    assert gradient_penalty(critic, real, fake, kind).item() == pytest.approx(0.0, abs=1e-8)


def test_penalty_value_and_gradient_for_a_steep_critic():
    torch.manual_seed(0)
    critic = LinearCritic(2.0 * unit_vector((3, 4, 4)))
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4, requires_grad=True)
    penalty = gradient_penalty(critic, real, fake, "mixed", lambda_gp=10.0)
    assert penalty.item() == pytest.approx(10.0, rel=1e-5)
    penalty.backward()
    # d/dw of 10 * (|w| - 1)^2 = 20 * (|w| - 1) * w / |w| = 10 * w for |w| = 2.
    torch.testing.assert_close(critic.w.grad, 10.0 * critic.w.detach())
    assert fake.grad is None


def test_penalty_respects_the_constant_and_is_zero_when_disabled():
    torch.manual_seed(0)
    critic = LinearCritic(3.0 * unit_vector((2, 2)))
    real = torch.randn(4, 2, 2)
    assert gradient_penalty(critic, real, real, "real", constant=3.0).item() == pytest.approx(0.0, abs=1e-8)
    zero = gradient_penalty(critic, real, real, lambda_gp=0.0)
    assert zero.shape == () and zero.item() == 0.0


def test_mixed_penalty_interpolates_uniformly_per_sample():
    """With D(x) = |x|^2 / 2 the gradient is x; for real = 0 and unit-norm fakes, |grad| = 1 - alpha per sample."""

    class SquareCritic(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 0.5 * x.pow(2).flatten(1).sum(dim=1)

    torch.manual_seed(0)
    fake = torch.randn(4096, 1, 2, 2)
    fake = fake / fake.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    real = torch.zeros_like(fake)
    # (|grad| - 1)^2 = alpha^2 with alpha ~ U(0, 1) per sample: mean 1/3.
    penalty = gradient_penalty(SquareCritic(), real, fake, "mixed", lambda_gp=1.0)
    assert penalty.item() == pytest.approx(1 / 3, abs=0.02)
    assert gradient_penalty(SquareCritic(), real, fake, "fake", lambda_gp=1.0).item() == pytest.approx(0.0, abs=1e-6)
    assert gradient_penalty(SquareCritic(), real, fake, "real", lambda_gp=1.0).item() == pytest.approx(1.0, abs=1e-5)


def test_penalty_through_a_patchgan_backpropagates_to_its_weights():
    from models import networks

    torch.manual_seed(0)
    netD = networks.define_D(2, 4, "basic", norm="instance")
    real, fake = torch.randn(2, 2, 32, 32), torch.randn(2, 2, 32, 32)
    penalty = gradient_penalty(netD, real, fake)
    assert penalty.item() > 0
    penalty.backward()
    # The input gradient does not depend on biases (the last one, and those cancelled by instance norm).
    weights = [p for name, p in netD.named_parameters() if name.endswith("weight")]
    assert weights and all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
                           for p in weights)


def test_unknown_penalty_kind():
    with pytest.raises(ValueError, match="mixed"):
        gradient_penalty(LinearCritic(torch.ones(2)), torch.ones(1, 2), torch.ones(1, 2), kind="both")
