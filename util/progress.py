"""Progress bars: tqdm on a terminal, plain periodic lines in a log file."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


class PlainProgress:
    """tqdm's small interface (update, set_postfix, close) printing one line at each tenth of the total.

    Used when the output is not a terminal, where a bar's carriage returns would fill a log file with noise.
    """

    def __init__(self, total: int, desc: str, unit: str = "it", file: TextIO | None = None, steps: int = 10,
                 initial: int = 0) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.file = file or sys.stderr
        self.steps = steps
        self.n = initial
        self.postfix = ""
        self.start = time.time()
        self.printed_at = initial
        self.closed = False

    def update(self, n: int = 1) -> None:
        before = self._tenth(self.n)
        self.n += n
        if self._tenth(self.n) > before:
            self._line()

    def set_postfix(self, values: dict[str, Any], refresh: bool = True) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        if not self.closed and self.printed_at != self.n:
            self._line()
        self.closed = True

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tenth(self, n: int) -> int:
        return n * self.steps // self.total if self.total > 0 else 0

    def _line(self) -> None:
        elapsed = time.time() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        percent = f"{100 * self.n // self.total:3d}% " if self.total > 0 else ""
        line = f"{self.desc}: {percent}{self.n}/{self.total} {self.unit} [{elapsed:.0f}s, {rate:.2f} {self.unit}/s]"
        print(f"{line} {self.postfix}".rstrip(), file=self.file, flush=True)
        self.printed_at = self.n


def progress_bar(total: int, desc: str, unit: str = "it", enabled: bool = True,
                 initial: int = 0) -> tqdm | PlainProgress:
    """A tqdm bar when stderr is a terminal, else plain lines; a silent bar when not enabled (other ranks)."""
    if enabled and not sys.stderr.isatty():
        return PlainProgress(total, desc, unit, initial=initial)
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True,
                leave=False)
