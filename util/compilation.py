"""torch.compile with a safe fallback: a network whose compilation fails runs eagerly after one warning."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from util import messages


class CompiledNetwork(nn.Module):
    """Runs `net` through torch.compile; if compiling fails (no compiler, unsupported op), warns once and runs
    `net` eagerly from then on.

    The eager network is the submodule `_orig_mod`, as in torch.compile's own wrapper, so
    util.checkpoint.unwrap_model finds it and saved state dicts stay plain.
    """

    def __init__(self, net: nn.Module, name: str = "network") -> None:
        super().__init__()
        self._orig_mod = net
        self.name = name
        try:
            compiled: Any = torch.compile(net)
        except Exception as err:  # noqa: BLE001 (any failure means: run eagerly)
            compiled = None
            self._warn(err)
        # Kept outside the module tree: torch.compile's wrapper would otherwise add a second copy of every key.
        object.__setattr__(self, "_compiled", compiled)

    def _warn(self, err: BaseException) -> None:
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        messages.warn(f"--compile: torch.compile failed for {self.name} ({type(err).__name__}: {first_line}); "
                      "running it without compilation")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled is not None:
            try:
                return self._compiled(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 (a compiler failure shows up at the first call)
                if not is_compiler_error(err):
                    raise
                object.__setattr__(self, "_compiled", None)
                self._warn(err)
        return self._orig_mod(*args, **kwargs)


def is_compiler_error(err: BaseException) -> bool:
    """Whether `err` came from torch.compile's machinery (dynamo or a backend) rather than from the network."""
    module = type(err).__module__
    return module.startswith(("torch._dynamo", "torch._inductor")) or "BackendCompilerFailed" in type(err).__name__

