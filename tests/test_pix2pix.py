"""Pix2PixModel: losses, discriminator input, direction, and that training lowers the L1 loss."""

from __future__ import annotations

import torch

from data import create_dataset
from tests.conftest import TINY_PIX2PIX, build_model


def build(root, tmp_path, *args: str):
    return build_model(root, tmp_path / "ck", *TINY_PIX2PIX, *args)


def test_training_lowers_l1(aligned_root, tmp_path):
    torch.manual_seed(0)
    opt, model = build(aligned_root, tmp_path, "--no_flip", "--serial_batches", "--batch_size", "2")
    dataset = create_dataset(opt)
    batch = next(iter(dataset))

    def l1_now() -> float:
        model.set_input(batch)
        with torch.no_grad():
            model.forward()
        return float(torch.nn.functional.l1_loss(model.fake_B, model.real_B))

    before = l1_now()
    for _ in range(15):
        for data in dataset:
            model.set_input(data)
            model.optimize_parameters()
    after = l1_now()
    assert after < 0.8 * before, (before, after)


def test_discriminator_judges_pairs(aligned_root, tmp_path):
    _, model = build(aligned_root, tmp_path, "--input_nc", "1")
    first_conv = next(m for m in model.netD.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 1 + 3
    assert [type(o) for o in model.optimizers] == [torch.optim.Adam, torch.optim.Adam]
    assert model.optimizer_G.param_groups[0]["betas"] == (0.5, 0.999)
    assert model.optimizer_G.param_groups[0]["lr"] == 0.0002


def test_direction_swaps_input_and_target(aligned_root, tmp_path):
    batch = {"A": torch.zeros(1, 3, 128, 128), "B": torch.ones(1, 3, 128, 128), "A_paths": ["a"], "B_paths": ["b"]}
    _, forward = build(aligned_root, tmp_path)
    _, backward = build(aligned_root, tmp_path, "--direction", "BtoA")
    forward.set_input(batch)
    backward.set_input(batch)
    assert forward.real_A.sum() == 0 and backward.real_A.mean() == 1
    assert backward.get_image_paths() == ["b"]


def test_losses_and_generator_step(aligned_root, tmp_path):
    _, model = build(aligned_root, tmp_path, "--serial_batches")
    batch = {"A": torch.rand(1, 3, 128, 128) * 2 - 1, "B": torch.rand(1, 3, 128, 128) * 2 - 1,
             "A_paths": ["a"], "B_paths": ["a"]}
    model.set_input(batch)
    d_before = [p.clone() for p in model.netD.parameters()]
    model.optimize_parameters()
    losses = model.get_current_losses()
    assert set(losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    # L1 is weighted by lambda_L1 = 100
    l1 = float(torch.nn.functional.l1_loss(model.fake_B.detach(), model.real_B)) * 100
    assert abs(losses["G_L1"] - l1) < 1e-3 * l1
    # D was updated in its own step, and is frozen again for the generator step
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.netD.parameters(), strict=True))
    assert all(not p.requires_grad for p in model.netD.parameters())


def test_wgangp_applies_gradient_penalty(aligned_root, tmp_path):
    _, model = build(aligned_root, tmp_path, "--gan_mode", "wgangp", "--lambda_gp", "10")
    batch = {"A": torch.rand(1, 3, 128, 128), "B": torch.rand(1, 3, 128, 128), "A_paths": ["a"], "B_paths": ["a"]}
    model.set_input(batch)
    model.optimize_parameters()
    losses = model.get_current_losses()
    assert "D_gp" in losses and losses["D_gp"] > 0
