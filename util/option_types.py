"""Argument types shared by the option definitions (options/) and the options that models and datasets add."""

from __future__ import annotations

import argparse

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
