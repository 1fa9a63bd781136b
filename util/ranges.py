"""Valid ranges of numeric options, declared where each option is defined: `type=Range(float, above=0)`.

A `Range` is the option's argparse `type`: it converts the text and refuses a value outside the range, so argparse
reports `argument --lr: must be > 0, got -1.0` (one line, through the option parser's error) before anything runs.
It lives in util/ so that options/, models/ and data/ can all declare the ranges of the options they add.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """Numbers of type `kind` (int or float) within the given bounds; unset bounds are open-ended.

    `min`/`max` include the bound, `above`/`below` exclude it: Range(float, min=0, below=1) is [0, 1).
    """

    kind: type = int
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if self.kind is int else 'a number'}, "
                                             f"got '{text}'") from None
        if not self.contains(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text}")
        return value

    def contains(self, value: float) -> bool:
        """Whether `value` lies within the range (NaN never does)."""
        if value != value:
            return False
        return ((self.min is None or value >= self.min) and (self.max is None or value <= self.max)
                and (self.above is None or value > self.above) and (self.below is None or value < self.below))

    def describe(self) -> str:
        """The range in words, e.g. '>= 1', '> 0', 'in [0, 1)'."""
        low = f"[{self.min}" if self.min is not None else f"({self.above}" if self.above is not None else None
        high = f"{self.max}]" if self.max is not None else f"{self.below})" if self.below is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f">= {self.min}" if self.min is not None else f"> {self.above}"
        if high:
            return f"<= {self.max}" if self.max is not None else f"< {self.below}"
        return "a number"
