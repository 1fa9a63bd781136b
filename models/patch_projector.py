"""CUT's feature projector F: sample the same locations of several feature maps and project them for PatchNCE."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from util.errors import UserError, unknown_name

PROJECTOR_NAMES = ("mlp_sample", "sample", "reshape")


def l2_normalize(rows: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Each row divided by (its Euclidean norm + eps), in float32.

    The norm is torch's vector norm, whose gradient at an all-zero row is 0 (a square root's would be NaN), so
    such a row (a dead MLP output, common at small widths) gets the true derivative I / eps instead of NaN.
    """
    rows = rows.float()
    return rows / (torch.linalg.vector_norm(rows, dim=1, keepdim=True) + eps)


class PatchProjector(nn.Module):
    """Turns a list of feature maps (N, C_l, H_l, W_l) into rows of L2-normalised patch vectors, one tensor per map.

    Modes (the CUT release's --netF):
    - 'mlp_sample': sample locations, then a per-map MLP Linear(C_l, nc) -> ReLU -> Linear(nc, nc), kept as
      `mlp_<l>` (state-dict keys `mlp_<l>.0.*`, `mlp_<l>.2.*`). The MLPs are created from the widths of the first
      maps seen (or by `build`), on their device, and initialised by `init`.
    - 'sample': sample locations, no projection (rows keep C_l values).
    - 'reshape': average-pool each map to a 4x4 grid and use its 16 cells (sampling options are ignored).

    forward returns (rows, patch_ids): rows[l] is (N * P_l, width), image-major (the P_l rows of image 0 first),
    and patch_ids[l] the P_l sampled locations (indices into the flattened H_l * W_l grid, the same for every
    image). Passing the patch_ids of one call to another samples the same locations (query and key).
    Loading a state dict into an unbuilt projector first builds the MLPs from the stored shapes.
    """

    def __init__(self, mode: str = "mlp_sample", nc: int = 256,
                 init: Callable[[nn.Module], object] | None = None) -> None:
        super().__init__()
        if mode not in PROJECTOR_NAMES:
            raise unknown_name("--netF", mode, PROJECTOR_NAMES)
        self.mode = mode
        self.nc = nc
        self.init = init
        self.widths: list[int] | None = None
        self.register_load_state_dict_pre_hook(_build_from_state_dict)

    @property
    def needs_build(self) -> bool:
        """Whether the MLPs still have to be created (mode 'mlp_sample' before the first maps)."""
        return self.mode == "mlp_sample" and self.widths is None

    def build(self, widths: Sequence[int], device: torch.device | str | None = None, initialise: bool = True) -> None:
        """Create one MLP per feature map of the given channel widths (and initialise them); no-op if not needed."""
        if not self.needs_build:
            return
        for index, width in enumerate(widths):
            mlp = nn.Sequential(nn.Linear(width, self.nc), nn.ReLU(), nn.Linear(self.nc, self.nc))
            self.add_module(f"mlp_{index}", mlp.to(device))
        self.widths = list(widths)
        if initialise and self.init is not None:
            self.init(self)

    def forward(self, feats: Sequence[torch.Tensor], num_patches: int = 256,
                patch_ids: Sequence[torch.Tensor] | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Sample `num_patches` locations per map (all of them if 0, or given by `patch_ids`) and project them."""
        if num_patches < 0:
            raise UserError(f"--num_patches must be 0 or more, got {num_patches}")
        if patch_ids is not None and len(patch_ids) != len(feats):
            raise ValueError(f"got {len(patch_ids)} patch-id tensors for {len(feats)} feature maps")
        self.build([feat.shape[1] for feat in feats], feats[0].device)
        if self.widths is not None and len(feats) != len(self.widths):
            raise ValueError(f"the projector was built for {len(self.widths)} feature maps, got {len(feats)}")
        all_rows, all_ids = [], []
        for index, feat in enumerate(feats):
            if self.mode == "reshape":
                grid = F.adaptive_avg_pool2d(feat, 4)
                rows, ids = grid.permute(0, 2, 3, 1).flatten(0, 2), torch.arange(16, device=feat.device)
            else:
                locations = feat.flatten(2).transpose(1, 2)  # (N, H*W, C)
                if patch_ids is not None:
                    ids = patch_ids[index].to(feat.device)
                elif num_patches == 0:
                    ids = torch.arange(locations.shape[1], device=feat.device)
                else:
                    ids = torch.randperm(locations.shape[1], device=feat.device)[:num_patches]
                rows = locations[:, ids, :].flatten(0, 1)
                if self.mode == "mlp_sample":
                    rows = getattr(self, f"mlp_{index}")(rows)
            all_rows.append(l2_normalize(rows))
            all_ids.append(ids)
        return all_rows, all_ids


def _build_from_state_dict(module: PatchProjector, state_dict: dict[str, torch.Tensor], prefix: str,
                           *args: object) -> None:
    """Load-state-dict pre-hook: build an unbuilt projector's MLPs from the shapes of the stored weights."""
    widths = []
    while (weight := state_dict.get(f"{prefix}mlp_{len(widths)}.0.weight")) is not None:
        widths.append(weight.shape[1])
    if widths and module.needs_build:
        module.build(widths, state_dict[f"{prefix}mlp_0.0.weight"].device, initialise=False)
