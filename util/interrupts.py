"""Stopping cleanly: the first SIGINT (Ctrl-C) or SIGTERM asks the loop to stop after its current step."""

from __future__ import annotations

import os
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


def interpreter() -> str:
    """The Python that runs this process, as a command: relative to the current folder when inside it (e.g.
    .venv/bin/python), so that the printed command works where it was started.
    """
    if not sys.executable:
        return "python"
    relative = os.path.relpath(sys.executable)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return sys.executable
    return relative if os.sep in relative else os.path.join(os.curdir, relative)


def resume_command() -> str:
    """The command line of this run, with this run's interpreter, set to resume from the latest save point."""
    args = list(sys.argv)
    extra = [] if "--continue_train" in args else ["--continue_train"]
    if any(a.startswith("--epoch=") or a == "--epoch" for a in args):
        extra += ["--epoch", "latest"]
    if any(a.startswith("--load_iter") for a in args):
        extra += ["--load_iter", "0"]
    return shlex.join([interpreter(), *args, *extra])
