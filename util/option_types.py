"""The argparse types of options, used where each option is defined (options/, and the options models add).

- `Range`: the valid range of a numeric option, `type=Range(float, above=0)`. It converts the text and refuses a
  value outside the range, so argparse reports `argument --lr: must be > 0, got -1.0` (one line, through the option
  parser's error) before anything runs.
- `add_bool_option`: a boolean option written as the CUT release writes them, `--flag` or `--flag true|false`.
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


TRUE_WORDS = ("true", "yes", "y", "on", "1")
FALSE_WORDS = ("false", "no", "n", "off", "0")


def str2bool(value: str | bool) -> bool:
    """An argparse type for boolean options written as the CUT release writes them: `--flag`, `--flag True`,
    `--flag false`, `--flag 0` ... (use with nargs="?" and const=True).
    """
    if isinstance(value, bool):
        return value
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'")


def add_bool_option(parser: argparse.ArgumentParser, flag: str, default: bool, help: str) -> None:
    """Add a boolean option that takes `flag` alone (true) or `flag true|false` (the CUT release's str2bool)."""
    parser.add_argument(flag, type=str2bool, nargs="?", const=True, default=default, metavar="BOOL", help=help)
