"""test.py's results page: <results_dir>/<name>/<phase>_<epoch>[_iter<N>]/index.html with one row per image, and
with --metrics a table of the metrics at the top."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

import torch
from dominate import tags

from util import html, util
from util.errors import UserError
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


def save_images(page: html.HTML, visuals: Mapping[str, torch.Tensor], image_path: str, aspect_ratio: float = 1.0,
                width: int = 256, writer: ImageWriter | None = None) -> str:
    """Save one image's visuals as images/<stem>_<visual>.png and add them to the page under a heading; returns
    the stem.

    With a `writer` the PNGs are written in its background threads (the visuals must already be on the CPU).
    """
    stem = os.path.splitext(os.path.basename(image_path))[0]
    page.add_header(stem)
    names = []
    for label, image in visuals.items():
        name = f"{stem}_{label}.png"
        path = os.path.join(page.get_image_dir(), name)
        if writer is None:
            util.save_image(util.tensor2im(image), path, aspect_ratio)
        else:
            writer.save(image, path, aspect_ratio)
        names.append(name)
    page.add_images(names, list(visuals), names, width=width)
    return stem


def add_metrics_table(page: html.HTML, rows: list[tuple[str, str, str]], note: str) -> None:
    """A table of metric rows (name, value, which way is better) and a line saying what they were computed on, at
    the top of the page.
    """
    table = tags.table(id="metrics")
    header = table.add(tags.tr())
    for text in ("metric", "value", ""):
        header.add(tags.th(text, style="text-align:left; padding-right:1em"))
    for row in rows:
        line = table.add(tags.tr())
        for text in row:
            line.add(tags.td(text))
    page.add_below_title(tags.h2("metrics"), table, tags.p(note))
