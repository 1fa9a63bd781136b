"""The Lab encoding of the colorization model: lightness and colour channels scaled to about [-1, 1]."""

from __future__ import annotations

import torch
from kornia.color import lab_to_rgb, rgb_to_lab

L_SCALE, AB_SCALE = 50.0, 110.0  # L in [0, 100] -> L / 50 - 1 in [-1, 1]; ab in about [-110, 110] -> ab / 110


def rgb_to_AB(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB in [0, 1] (..., 3, H, W) -> (A: L / 50 - 1 with 1 channel, B: ab / 110 with 2 channels)."""
    lab = rgb_to_lab(rgb)
    return lab[..., :1, :, :] / L_SCALE - 1.0, lab[..., 1:, :, :] / AB_SCALE


def AB_to_rgb(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Inverse of rgb_to_AB: lightness A (1 channel) and colour B (2 channels) -> RGB in [0, 1], clipped."""
    lab = torch.cat(((A.float() + 1.0) * L_SCALE, B.float() * AB_SCALE), dim=-3)
    return lab_to_rgb(lab, clip=True)
