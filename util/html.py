"""Static HTML pages of images, built with dominate (which escapes text and attributes)."""

from __future__ import annotations

import os
from urllib.parse import quote

import dominate
from dominate import tags

from util.atomic_files import write_atomically


class HTML:
    """A page at <web_dir>/index.html with images under <web_dir>/images/, declared as UTF-8; with `refresh` > 0
    the browser reloads it every that many seconds.
    """

    def __init__(self, web_dir: str, title: str, refresh: int = 0) -> None:
        self.title = title
        self.web_dir = web_dir
        self.img_dir = os.path.join(web_dir, "images")
        os.makedirs(self.img_dir, exist_ok=True)
        self.doc = dominate.document(title=None)
        with self.doc.head:
            tags.meta(charset="utf-8")  # first, so that browsers know it before any non-ASCII text (file names)
            self.doc.title_node = tags.title(title)
            if refresh > 0:
                tags.meta(http_equiv="refresh", content=str(refresh))
            tags.style("table {table-layout: fixed; margin-bottom: 1em} td {vertical-align: top; padding: 4px}"
                       " p {word-wrap: break-word; margin: 2px}")
        with self.doc:
            self.heading = tags.h1(title)

    def get_image_dir(self) -> str:
        return self.img_dir

    def add_header(self, text: str) -> None:
        with self.doc:
            tags.h3(text)

    def add_below_title(self, *elements: tags.html_tag) -> None:
        """Put elements right below the title, above everything added so far (e.g. metrics computed last)."""
        parent = self.heading.parent
        position = parent.children.index(self.heading) + 1
        for offset, element in enumerate(elements):
            parent.children.insert(position + offset, element)
            element.parent = parent

    def add_images(self, images: list[str], texts: list[str], links: list[str], width: int = 400) -> None:
        """A row of images (paths relative to the page's images/ folder), each captioned and linked."""
        self.doc.add(image_row(images, texts, links, width))

    def save(self, filename: str = "index.html") -> str:
        """Write the page (via a temporary file, so readers never see half a page) and return its path."""
        path = os.path.join(self.web_dir, filename)
        write_atomically(path, lambda f: f.write(self.doc.render().encode("utf-8")))
        return path


def image_row(images: list[str], texts: list[str], links: list[str], width: int = 256) -> tags.table:
    """A one-row table of images under images/, each captioned and linking to its (full-size) file."""
    table = tags.table()
    row = table.add(tags.tr())
    for image, text, link in zip(images, texts, links, strict=True):
        with row.add(tags.td(style="text-align:center")):
            with tags.a(href=quote(f"images/{link}")):
                tags.img(style=f"width:{width}px", src=quote(f"images/{image}"), alt=text)
            tags.p(text)
    return table
