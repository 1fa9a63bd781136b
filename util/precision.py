"""Numeric precision: the one place that decides autocast and gradient scaling for the models."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

from util import messages
from util.errors import UserError

AMP_MODES = ("off", "bf16", "fp16")


def autocast(device: torch.device, amp: str = "off") -> AbstractContextManager:
    """An autocast context for `amp` ('off', 'bf16' or 'fp16') on `device`; 'off' does nothing."""
    if amp == "off":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def check_amp(amp: str, device: torch.device) -> None:
    """Reject precisions the device cannot run; warn when bf16 runs without native hardware support."""
    if amp == "fp16" and device.type == "cpu":
        raise UserError("--amp fp16 needs a CUDA GPU (float16 autocast with gradient scaling); "
                        "on the CPU use --amp bf16")
    if amp == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UserError(f"--amp bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; "
                        "use --amp fp16 or --amp off")
    if amp == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        messages.warn("--amp bf16: this CPU has no native bfloat16 instructions, so bf16 runs emulated and is "
                      "probably slower than --amp off")


def cpu_has_native_bf16() -> bool:
    """True when oneDNN can use the CPU's bfloat16 instructions (AVX512-BF16 or AMX)."""
    return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def make_grad_scalers(count: int, amp: str, device: torch.device) -> list[torch.amp.GradScaler]:
    """One GradScaler per optimizer under fp16 (bf16 and fp32 need none): an empty list otherwise."""
    if amp != "fp16":
        return []
    return [torch.amp.GradScaler(device.type) for _ in range(count)]
