"""Stopping cleanly: the first SIGINT (Ctrl-C) or SIGTERM asks the loop to stop after its current step."""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """A context that turns the first stop signal into a flag (true once requested); a second one interrupts at
    once with KeyboardInterrupt. Outside the main thread signals cannot be caught, and the flag stays false.
    """

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.previous: dict[int, object] = {}

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self.handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(number).name
        print(f"\n{self.signal_name}: finishing the current step, then saving (send it again to quit at once)",
              file=sys.stderr, flush=True)


def resume_command() -> str:
    """The command line of this run, set to resume from the latest save point."""
    args = list(sys.argv)
    extra = [] if "--continue_train" in args else ["--continue_train"]
    if any(a.startswith("--epoch=") or a == "--epoch" for a in args):
        extra += ["--epoch", "latest"]
    if any(a.startswith("--load_iter") for a in args):
        extra += ["--load_iter", "0"]
    return shlex.join(["python", *args, *extra])
