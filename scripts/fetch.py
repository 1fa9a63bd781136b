"""Download helper for the dataset and model scripts (standard library only).

    python scripts/fetch.py archive URL DEST_DIR [--force]   # a .tar.gz/.tgz/.tar/.zip dataset into DEST_DIR
    python scripts/fetch.py file URL DEST_FILE [--force]     # one file, e.g. pretrained weights

Downloads go to a temporary file beside the destination and are moved into place only when complete. Archives
are checked before anything is extracted: no absolute paths, no `..`, no links or special files pointing out.
They are extracted into a temporary folder, which replaces DEST_DIR only when extraction succeeded. macOS metadata
(`__MACOSX/` folders, `._*` files) is left out. When the archive's top level holds one folder besides hidden entries,
that folder becomes DEST_DIR whatever its name (a different name is reported). An existing destination is kept
unless --force is given. Exit status: 0 done or kept, 1 download or archive failure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import PurePosixPath

CHUNK = 1 << 20


class FetchError(Exception):
    """A failure to report in one line (exit status 1)."""


def download(url: str, dest_dir: str, prefix: str) -> str:
    """Stream `url` into a temporary file in dest_dir; return its path. A short or failed download is removed."""
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=f".{prefix}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            expected = int(response.headers.get("Content-Length") or -1)
            got, next_report = 0, 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                got += len(chunk)
                if got >= next_report:
                    print(f"  {got / 1e6:8.1f} MB" + (f" of {expected / 1e6:.1f} MB" if expected > 0 else ""),
                          file=sys.stderr, flush=True)
                    next_report = got + 50 * CHUNK
        if 0 <= expected != got:
            raise FetchError(f"download of {url} ended early ({got} of {expected} bytes); run the script again")
        return tmp
    except urllib.error.HTTPError as err:
        os.remove(tmp)
        raise FetchError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        os.remove(tmp)
        raise FetchError(f"cannot download {url}: {getattr(err, 'reason', err)}") from None
    except FetchError:
        os.remove(tmp)
        raise


def unsafe_path(name: str) -> bool:
    """True for a member path that is absolute or climbs out with `..`."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def link_escapes(member_name: str, target: str, hard: bool) -> bool:
    """True when a link's target resolves outside the extraction folder."""
    if PurePosixPath(target).is_absolute():
        return True
    base = PurePosixPath() if hard else PurePosixPath(member_name).parent
    depth = 0
    for part in (base / target).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def check_tar(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, after refusing any that could write outside the destination."""
    members = tar.getmembers()
    for m in members:
        if unsafe_path(m.name):
            raise FetchError(f"refusing to extract: member '{m.name}' would land outside the destination")
        if (m.issym() or m.islnk()) and link_escapes(m.name, m.linkname, m.islnk()):
            raise FetchError(f"refusing to extract: link '{m.name}' points outside the destination ({m.linkname})")
        if m.isdev() or m.isfifo():
            raise FetchError(f"refusing to extract: '{m.name}' is a device or pipe")
    return members


def check_zip(archive: zipfile.ZipFile) -> None:
    """Refuse members that could write outside the destination, then verify every member's checksum."""
    for info in archive.infolist():
        if unsafe_path(info.filename):
            raise FetchError(f"refusing to extract: member '{info.filename}' would land outside the destination")
        if stat.S_ISLNK(info.external_attr >> 16):
            target = archive.read(info).decode("utf-8", "replace")
            if link_escapes(info.filename, target, hard=False):
                raise FetchError(f"refusing to extract: link '{info.filename}' points outside the destination")
    bad = archive.testzip()
    if bad is not None:
        raise FetchError(f"the archive is damaged: member '{bad}' fails its checksum; run the script again")


def extract(archive_path: str, url: str, into: str) -> None:
    """Check and extract a downloaded archive into the folder `into`."""
    try:
        if url.endswith(".zip"):
            with zipfile.ZipFile(archive_path) as archive:
                check_zip(archive)
                archive.extractall(into)
        else:
            with tarfile.open(archive_path) as tar:
                members = check_tar(tar)
                tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise FetchError(f"the archive from {url} is damaged or incomplete ({err}); run the script again") from None


def is_macos_metadata(name: str) -> bool:
    """`__MACOSX` folders and AppleDouble `._*` files: macOS metadata that archivers add, never data."""
    return name == "__MACOSX" or name.startswith("._")


def drop_macos_metadata(folder: str) -> int:
    """Delete macOS metadata anywhere under `folder`; return how many entries went."""
    dropped = 0
    for root, dirs, files in os.walk(folder):
        for name in [d for d in dirs if is_macos_metadata(d)]:
            shutil.rmtree(os.path.join(root, name))
            dirs.remove(name)
            dropped += 1
        for name in [f for f in files if is_macos_metadata(f)]:
            os.remove(os.path.join(root, name))
            dropped += 1
    return dropped


def dataset_root(staging: str) -> str | None:
    """The archive's single top-level folder, ignoring hidden entries (.DS_Store, ...); None when the top level
    holds files or several folders, in which case it is itself the dataset.
    """
    entries = [e for e in os.listdir(staging) if not e.startswith(".")]
    if len(entries) == 1 and os.path.isdir(os.path.join(staging, entries[0])):
        return entries[0]
    return None


def fetch_archive(url: str, dest: str, force: bool) -> None:
    """Download, check and extract a dataset archive into dest (its single top folder becomes dest)."""
    dest = os.path.normpath(dest)
    if os.path.exists(dest) and not force:
        print(f"{dest} already exists; keeping it (pass --force to download it again)")
        return
    parent, name = os.path.split(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    print(f"downloading {url}", file=sys.stderr)
    archive = download(url, parent, name)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{name}.extract.")
    try:
        extract(archive, url, staging)
        dropped = drop_macos_metadata(staging)
        if dropped:
            print(f"left out {dropped} macOS metadata entries (__MACOSX, ._*)")
        top = dataset_root(staging)
        content = os.path.join(staging, top) if top else staging
        if top and top != name:
            print(f"the archive's folder '{top}' is placed at {dest}")
        if os.path.exists(dest):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{name}.old.")
            os.replace(dest, os.path.join(old, name))
            os.replace(content, dest)
            shutil.rmtree(old)
        else:
            os.replace(content, dest)
    finally:
        os.remove(archive)
        shutil.rmtree(staging, ignore_errors=True)
    print(f"dataset ready in {dest}")


def fetch_file(url: str, dest: str, force: bool) -> None:
    """Download one file to dest."""
    if os.path.exists(dest) and not force:
        print(f"{dest} already exists; keeping it (pass --force to download it again)")
        return
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    print(f"downloading {url}", file=sys.stderr)
    tmp = download(url, parent, os.path.basename(dest))
    os.replace(tmp, dest)
    print(f"saved {dest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("archive", "file"))
    parser.add_argument("url")
    parser.add_argument("dest")
    parser.add_argument("--force", action="store_true", help="replace an existing destination")
    args = parser.parse_args(argv)
    try:
        (fetch_archive if args.kind == "archive" else fetch_file)(args.url, args.dest, args.force)
    except FetchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: cannot write {args.dest}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
