"""Writing a file so that neither a reader nor a crash ever sees half of it.

The new content goes to a temporary file beside the target (`.tmp_<random>.tmp`, which no image, weights or page
pattern matches), which is then renamed over it; a failed write (a full disk, an exception in the writer) removes
the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO

TEMPORARY_PREFIX, TEMPORARY_SUFFIX = ".tmp_", ".tmp"
_UMASK = os.umask(0)  # read once, at import: changing it later would race with threads creating files
os.umask(_UMASK)


def new_file_mode() -> int:
    """The permissions open() gives a new file under the process's umask."""
    return 0o666 & ~_UMASK


def fsync_dir(folder: str) -> None:
    """Make a rename inside `folder` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str, write: Callable[[BinaryIO], None], durable: bool = False) -> None:
    """Let `write` fill a binary file, then put it at `path` in one rename.

    `durable`: also flush the file and the folder to the disk, so that the new file survives a power cut
    (checkpoints); pages, images and reports skip that cost.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), new_file_mode())  # mkstemp makes 0600; give the usual permissions
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp_path)
        raise
    if durable:
        fsync_dir(folder)
