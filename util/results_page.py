"""test.py's results page: <results_dir>/<name>/<phase>_<epoch>[_iter<N>]/index.html with one row per image.

Each input's results are named after its path relative to the folder its dataset searched, without the
extension: `testA/x.png` -> `images/x_fake_B.png`, `testA/a/x.png` -> `images/a/x_fake_B.png`. So inputs that
share a file name in different folders keep apart, and a flat folder gives the original release's names.
With test.py --metrics, a table of the metrics goes to the top of the page.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType

import torch
from dominate import tags

from util import html, util
from util.errors import UserError
from util.image_files import is_image_file
from util.image_writer import ImageWriter


def results_dir(opt: argparse.Namespace) -> str:
    """<results_dir>/<name>/<phase>_<epoch>[_iter<N>]"""
    folder = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.epoch}")
    return f"{folder}_iter{opt.load_iter}" if opt.load_iter > 0 else folder


def open_results_page(opt: argparse.Namespace) -> html.HTML:
    """A new results page titled with the run, phase and epoch; an unwritable --results_dir is a UserError."""
    web_dir = results_dir(opt)
    try:
        page = html.HTML(web_dir, f"Experiment = {opt.name}, Phase = {opt.phase}, Epoch = {opt.epoch}")
        probe = os.path.join(page.get_image_dir(), ".write_test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as err:
        raise UserError(f"cannot write results to '{web_dir}': {err.strerror}; "
                        "choose a writable folder with --results_dir") from None
    return page


class ResultNames:
    """Unique, stable names for the results of input images (call it with each input's path, in order).

    A name is the input's path relative to the deepest of `roots` that holds it (else its file name), without
    the extension and with `/` between folders. Files of one folder that share a stem (`y.png`, `y.jpg`) keep
    their extension (`y.png`, `y.jpg`). An input met again (the smaller domain of an unaligned dataset repeats)
    gets `~2`, `~3`, ... Names are compared without letter case, so they stay apart on any file system.
    """

    def __init__(self, roots: Iterable[str] = ()) -> None:
        self.roots = sorted({os.path.normpath(root) for root in roots}, key=len, reverse=True)
        self.taken: set[str] = set()
        self.stems: dict[str, Counter[str]] = {}  # per folder: how many image files have each stem

    def __call__(self, path: str) -> str:
        base = self.base_name(path)
        name, count = base, 1
        while name.casefold() in self.taken:
            count += 1
            name = f"{base}~{count}"
        self.taken.add(name.casefold())
        return name

    def base_name(self, path: str) -> str:
        path = os.path.normpath(path)
        folder, file = os.path.split(path)
        inside = ""
        for root in self.roots:
            relative = os.path.relpath(folder, root)
            if relative == os.curdir or not (relative == os.pardir or relative.startswith(os.pardir + os.sep)):
                inside = "" if relative == os.curdir else relative
                break
        stem = os.path.splitext(file)[0]
        if self.stem_count(folder, stem) > 1:
            stem = file
        return "/".join([*inside.split(os.sep), stem]) if inside else stem

    def stem_count(self, folder: str, stem: str) -> int:
        """How many image files in `folder` have this stem (letter case ignored)."""
        if folder not in self.stems:
            try:
                names = [n for n in os.listdir(folder or os.curdir) if is_image_file(n)]
            except OSError:
                names = []
            self.stems[folder] = Counter(os.path.splitext(n)[0].casefold() for n in names)
        return self.stems[folder][stem.casefold()]


def save_images(page: html.HTML, visuals: Mapping[str, torch.Tensor], image_path: str, aspect_ratio: float = 1.0,
                width: int = 256, writer: ImageWriter | None = None, name: str | None = None) -> None:
    """Save one image's visuals as images/<name>_<visual>.png and add them to the page under the heading `name`
    (default: the file name of `image_path` without its extension).

    With a `writer` the PNGs are written in its background threads (the visuals must already be on the CPU).
    """
    name = name or os.path.splitext(os.path.basename(image_path))[0]
    page.add_header(name)
    files = []
    for label, image in visuals.items():
        file = f"{name}_{label}.png"
        path = os.path.join(page.get_image_dir(), *file.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if writer is None:
            util.save_image(util.tensor2im(image), path, aspect_ratio)
        else:
            writer.save(image, path, aspect_ratio)
        files.append(file)
    page.add_images(files, list(visuals), files, width=width)


class ResultsPage:
    """test.py's output: `add` each input's visuals (written by background threads), `close` to finish the PNGs
    and write index.html. Use as a context manager: after an error the page is not written.

    A write that fails (a full disk, lost permissions) raises UserError naming the folder and the reason; no
    partially written file is left (each PNG and the page are written under a temporary name, then renamed).
    """

    def __init__(self, opt: argparse.Namespace, image_dirs: Iterable[str] = ()) -> None:
        self.page = open_results_page(opt)
        self.names = ResultNames([*image_dirs, opt.dataroot])
        self.aspect_ratio, self.width = opt.aspect_ratio, opt.display_winsize
        self.writer = ImageWriter()
        self.written: list[str] = []  # the result name of each input, in order (images/<name>_<visual>.png)

    @property
    def count(self) -> int:
        """How many inputs' results were added."""
        return len(self.written)

    def add(self, visuals: Mapping[str, torch.Tensor], image_path: str) -> None:
        """Queue the PNGs of one input's visuals (CHW tensors on the CPU) and give them a row on the page."""
        name = self.names(image_path)
        with self.write_errors():
            save_images(self.page, visuals, image_path, self.aspect_ratio, self.width, self.writer, name)
        self.written.append(name)

    def finish_images(self) -> None:
        """Wait until every queued PNG is on disk (e.g. to compute metrics on them before the page is written)."""
        with self.write_errors():
            self.writer.close()

    def add_metrics_table(self, rows: list[tuple[str, str, str]], note: str) -> None:
        """A table of metric rows (name, value, which way is better) and a line saying what they were computed
        on, at the top of the page.
        """
        table = tags.table(id="metrics")
        header = table.add(tags.tr())
        for text in ("metric", "value", ""):
            header.add(tags.th(text, style="text-align:left; padding-right:1em"))
        for row in rows:
            line = table.add(tags.tr())
            for text in row:
                line.add(tags.td(text))
        self.page.add_below_title(tags.h2("metrics"), table, tags.p(note))

    def close(self) -> str:
        """Wait for every PNG, write index.html and return its path."""
        with self.write_errors():
            self.writer.close()
            return self.page.save()

    @contextmanager
    def write_errors(self) -> Iterator[None]:
        """Turn a failed write into a one-line UserError."""
        try:
            yield
        except OSError as err:
            self.writer.abandon()
            reason = err.strerror or str(err)
            raise UserError(f"cannot write results to '{self.page.web_dir}': {reason}; free some space or choose "
                            "another folder with --results_dir (no page was written)") from None

    def __enter__(self) -> ResultsPage:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.writer.abandon()  # after close() this does nothing; after an error it drops the queued writes
