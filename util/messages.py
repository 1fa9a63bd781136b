"""Talking to the user: information on standard output, warnings on standard error, from the main process only.

Both go through tqdm, so a progress bar on the terminal is redrawn below the message instead of being broken.
Mistakes the user can fix are not messages but `UserError`s (util/errors.py), which stop the command.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

from util.distributed import is_main_process

_shown_once: set[str] = set()


def info(message: str) -> None:
    """Print `message` on standard output (main process only)."""
    if is_main_process():
        tqdm.write(message, file=sys.stdout)


def warn(message: str, once: str | None = None) -> None:
    """Print `warning: message` on standard error (main process only); `once` is a key: of the warnings given the
    same key, only the first is shown.
    """
    if once is not None:
        if once in _shown_once:
            return
        _shown_once.add(once)
    if is_main_process():
        tqdm.write(f"warning: {message}", file=sys.stderr)


def deprecated(old: str, new: str) -> None:
    """Warn once that `old`, a name kept from the original release, has a newer equivalent `new`."""
    warn(f"{old} is kept for code written for the original release; use {new} instead", once=f"deprecated {old}")
