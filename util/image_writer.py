"""Write images in background threads so that saving results overlaps with computing the next batch."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import torch

from util import util


class ImageWriter:
    """A small thread pool for `tensor -> PNG` writes; PNG compression releases the GIL, so threads help.

    Use as a context manager: leaving it waits for every write and re-raises the first failure.
    """

    def __init__(self, threads: int = 2, max_pending: int = 64) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="image-writer")
        self.pending: list[Future] = []
        self.max_pending = max_pending

    def save(self, image: torch.Tensor, path: str, aspect_ratio: float = 1.0) -> None:
        """Queue one CHW image in [-1, 1] (already on the CPU) to be written to `path`; re-raises the failure of an
        earlier write as soon as it is known.
        """
        for future in self.pending:
            if future.done() and future.exception() is not None:
                raise future.exception()
        if len(self.pending) >= self.max_pending:
            self._wait(len(self.pending) // 2)
        self.pending.append(self.pool.submit(_write, image, path, aspect_ratio))

    def _wait(self, count: int) -> None:
        """Wait for the oldest `count` writes, re-raising the first error."""
        done, self.pending = self.pending[:count], self.pending[count:]
        for future in done:
            future.result()

    def close(self) -> None:
        """Wait for all queued writes, then stop the threads; re-raises the first failure."""
        try:
            self._wait(len(self.pending))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def abandon(self) -> None:
        """Drop the writes not yet started, let the running ones end, and stop the threads; failures are ignored
        (the caller is already handling an error). A write that did not complete leaves no file behind.
        """
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending = []

    def __enter__(self) -> ImageWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()


def _write(image: torch.Tensor, path: str, aspect_ratio: float) -> None:
    util.save_image(util.tensor2im(image), path, aspect_ratio)
