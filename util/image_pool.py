"""A history of generated images, so a discriminator also sees older fakes (Shrivastava et al., CVPR 2017)."""

from __future__ import annotations

import random
from typing import Any

import torch

from util.errors import UserError


class ImagePool:
    """Keeps up to `pool_size` past generated images and mixes them into the discriminator's fake batches.

    While the pool is filling, every new image is stored and returned unchanged. Once it is full, each image of a
    batch is, with probability 1/2, swapped for a randomly chosen stored image (the new one takes its place), and
    otherwise returned as it is. Randomness comes from python `random`, so `random.seed` makes it repeatable.
    A pool of size 0 returns its input.
    """

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch like `images` (N x C x H x W), detached, with some images replaced by older ones."""
        if self.pool_size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.clone()  # its own storage, not a view that keeps the whole batch alive
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif random.random() < 0.5:
                slot = random.randrange(self.pool_size)
                out.append(self.images[slot].to(image.device, image.dtype))
                self.images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """The stored images (on the CPU), for an exact resume."""
        return {"pool_size": self.pool_size, "images": [image.cpu() for image in self.images]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the images saved by state_dict(); they move to the batch's device on first use."""
        if state["pool_size"] != self.pool_size:
            raise UserError(f"the saved image pool holds up to {state['pool_size']} images, this one "
                             f"{self.pool_size}; use the same --pool_size to resume")
        self.images = list(state["images"])
