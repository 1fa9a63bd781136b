"""Where the pretrained weights of the metric networks are found, and the one-line error when they are not.

Each library downloads its weights on first use into torch.hub's cache (`$TORCH_HOME/hub/checkpoints`, by
default `~/.cache/torch/hub/checkpoints`) and loads them from there afterwards. A machine without internet gets
the file by hand, either into that cache or into a folder given as --metrics_weights_dir, which is searched first.
The file names are those of the libraries' download URLs:

- FID/KID (torch-fidelity's Inception-v3): weights-inception-2015-12-05-6726825d.pth
- LPIPS (AlexNet backbone, loaded by torchvision): alexnet-owt-7be5be79.pth; the LPIPS linear layers ship inside
  the `lpips` package.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import torch

from util.errors import UserError


class WithoutDownloadNotice:
    """A text stream passing everything on but torch.hub's 'Downloading: ...' line.

    Offline, that line would precede the one-line error; online, the download's progress bar still shows.
    """

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return len(text) if text.startswith("Downloading: ") else self.stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def file_name(url: str) -> str:
    """The name torch.hub gives the file downloaded from `url`."""
    return os.path.basename(urlparse(url).path)


def hub_cache_dir() -> Path:
    """torch.hub's download cache, where the libraries look for (and save) their weights."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def local_weights(url: str, weights_dir: str | None) -> Path | None:
    """The file of `url` in `weights_dir`, or None when no folder is given or the file is not in it."""
    if weights_dir is None:
        return None
    path = Path(weights_dir) / file_name(url)
    return path if path.is_file() else None


@contextlib.contextmanager
def library_loading(what: str, url: str, weights_dir: str | None) -> Iterator[None]:
    """Around a library's own loading code: its failure to download or read the weights of `url` becomes a
    one-line UserError beginning with `what` (e.g. 'LPIPS needs').

    A failed download (no internet) says which file, where it is expected and where to fetch it; a file that does
    not load (truncated, or another network's) says which file and where to fetch a good one.
    """
    name = file_name(url)
    if weights_dir is None:
        places = f"is not in '{hub_cache_dir()}'"
    else:
        places = f"is in neither '{weights_dir}' nor '{hub_cache_dir()}'"
    try:
        with contextlib.redirect_stdout(WithoutDownloadNotice(sys.stdout)), \
                contextlib.redirect_stderr(WithoutDownloadNotice(sys.stderr)):
            yield
    except OSError as err:  # urllib's URLError and HTTPError, socket timeouts, a read-only cache
        reason = getattr(err, "reason", None) or err
        raise UserError(f"{what} the weights file '{name}', which {places} and could not be downloaded "
                        f"({reason}); fetch it from {url} into that cache or into a folder given as "
                        "--metrics_weights_dir") from None
    except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        local = local_weights(url, weights_dir)
        path = local if local is not None else hub_cache_dir() / name
        raise UserError(f"{what} the weights file '{path}', which cannot be loaded ({first_line}); replace it "
                        f"with the file from {url}") from None
