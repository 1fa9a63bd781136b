"""Numeric precision: the one place that decides autocast for the models' forward passes."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch


def autocast(device: torch.device, amp: str = "off") -> AbstractContextManager:
    """An autocast context for `amp` ('off', 'bf16' or 'fp16') on `device`; 'off' does nothing."""
    if amp == "off":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)
