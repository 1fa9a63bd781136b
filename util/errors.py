"""User-facing errors: mistakes a user can fix get one clear line, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")


class UserError(Exception):
    """A mistake in options, files or data that the user can fix; the message is one line."""


def unknown_name(kind: str, name: str, valid: Iterable[str]) -> UserError:
    """Build the error for an unknown choice, listing the valid names."""
    return UserError(f"unknown {kind} '{name}'; choose one of: {', '.join(sorted(valid))}")


def choose(kind: str, name: str, table: Mapping[str, T]) -> T:
    """`table[name]`, or a UserError naming the valid choices (`kind` names the option, e.g. '--netG')."""
    if name not in table:
        raise unknown_name(kind, name, table)
    return table[name]


def exit_on_user_error(main: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command's entry point: a UserError prints `error: ...` on stderr and exits with status 2."""

    @wraps(main)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return main(*args, **kwargs)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)

    return wrapper
