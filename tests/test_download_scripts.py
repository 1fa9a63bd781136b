"""The dataset and model download scripts against a local HTTP server serving archives made here."""

from __future__ import annotations

import http.server
import io
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_script

SCRIPTS = {
    "pix2pix_dataset": "datasets/download_pix2pix_dataset.sh",
    "cyclegan_dataset": "datasets/download_cyclegan_dataset.sh",
    "pix2pix_model": "scripts/download_pix2pix_model.sh",
    "cyclegan_model": "scripts/download_cyclegan_model.sh",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    """python -m http.server's handler, quiet, and cutting one file short mid-transfer."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith("/zebra2horse.pth"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            return
        super().do_GET()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            add_bytes(tar, name, data)
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)


def make_zip(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A loopback HTTP server laid out like the original release's download server."""
    root = tmp_path_factory.mktemp("served")
    p2p, cg = root / "pix2pix" / "datasets", root / "cyclegan" / "datasets"
    make_tar(p2p / "facades.tar.gz", {"facades/train/1.jpg": b"one", "facades/test/2.jpg": b"two"})
    good = (p2p / "facades.tar.gz").read_bytes()
    (p2p / "maps.tar.gz").write_bytes(good[: len(good) // 2])  # truncated
    make_tar(p2p / "edges2shoes.tar.gz", {"edges2shoes/train/1.jpg": b"ok", "../escaped.txt": b"bad"})
    make_tar(p2p / "night2day.tar.gz", {"night2day/train/1.jpg": b"ok"}, links={"night2day/link": "../../outside"})
    make_zip(cg / "horse2zebra.zip", {"horse2zebra/trainA/1.jpg": b"h", "horse2zebra/trainB/1.jpg": b"z"})
    make_zip(cg / "mini.zip", {"mini/trainA/1.jpg": b"m", "/abs/escaped.txt": b"bad"})
    # archives made on macOS, or around a folder named otherwise than the dataset
    make_zip(cg / "apple2orange.zip", {"apple2orange/trainA/1.jpg": b"a", "apple2orange/trainA/._1.jpg": b"meta",
                                       "__MACOSX/apple2orange/trainA/._1.jpg": b"meta", ".DS_Store": b"ds"})
    make_tar(p2p / "edges2handbags.tar.gz", {"handbags_v2/train/1.jpg": b"bag", "._handbags_v2": b"meta",
                                             ".DS_Store": b"ds"})
    make_zip(cg / "mini_pix2pix.zip", {"train/1.jpg": b"t", "test/2.jpg": b"u", "__MACOSX/train/._1.jpg": b"meta"})
    (root / "pix2pix" / "models-pytorch").mkdir(parents=True)
    (root / "pix2pix" / "models-pytorch" / "sat2map.pth").write_bytes(os.urandom(300_000))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def run_script(kind: str, *args: str, cwd: Path, base_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, IMG2IMG_BASE_URL=base_url, PYTHON=sys.executable)
    return subprocess.run(["bash", str(ROOT / SCRIPTS[kind]), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders a download left behind."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


def test_dataset_download_extracts_and_does_not_clobber(server, tmp_path):
    _, url = server
    result = run_script("pix2pix_dataset", "facades", cwd=tmp_path, base_url=url)
    assert result.returncode == 0, result.stderr
    data = tmp_path / "datasets" / "facades"
    assert (data / "train" / "1.jpg").read_bytes() == b"one" and (data / "test" / "2.jpg").is_file()
    assert leftovers(tmp_path / "datasets") == []
    (data / "mine.txt").write_text("keep me")
    again = run_script("pix2pix_dataset", "facades", cwd=tmp_path, base_url=url)
    assert again.returncode == 0 and "already exists" in again.stdout
    assert (data / "mine.txt").read_text() == "keep me"
    forced = run_script("pix2pix_dataset", "facades", "--force", cwd=tmp_path, base_url=url)
    assert forced.returncode == 0, forced.stderr
    assert not (data / "mine.txt").exists() and (data / "train" / "1.jpg").is_file()
    assert leftovers(tmp_path / "datasets") == []


def test_cyclegan_zip_dataset(server, tmp_path):
    _, url = server
    result = run_script("cyclegan_dataset", "horse2zebra", cwd=tmp_path, base_url=url)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "datasets" / "horse2zebra" / "trainB" / "1.jpg").read_bytes() == b"z"


@pytest.mark.parametrize("kind, name, message", [
    ("pix2pix_dataset", "maps", "damaged or incomplete"),
    ("pix2pix_dataset", "edges2shoes", "'../escaped.txt'"),
    ("pix2pix_dataset", "night2day", "points outside"),
    ("cyclegan_dataset", "mini", "'/abs/escaped.txt'"),
    ("cyclegan_dataset", "ae_photos", "HTTP 404"),
])
def test_bad_archives_are_refused_and_leave_nothing(server, tmp_path, kind, name, message):
    _, url = server
    result = run_script(kind, name, cwd=tmp_path, base_url=url)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "datasets" / name).exists() and leftovers(tmp_path / "datasets") == []
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "outside").exists()


def test_model_download(server, tmp_path):
    root, url = server
    result = run_script("pix2pix_model", "sat2map", cwd=tmp_path, base_url=url)
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "checkpoints" / "sat2map_pretrained" / "latest_net_G.pth"
    assert saved.read_bytes() == (root / "pix2pix" / "models-pytorch" / "sat2map.pth").read_bytes()
    saved.write_bytes(b"mine")
    again = run_script("pix2pix_model", "sat2map", cwd=tmp_path, base_url=url)
    assert again.returncode == 0 and saved.read_bytes() == b"mine"


def test_model_download_cut_short_leaves_nothing(server, tmp_path):
    _, url = server
    result = run_script("cyclegan_model", "zebra2horse", cwd=tmp_path, base_url=url)
    assert result.returncode == 1 and "zebra2horse" in result.stderr, result.stderr
    folder = tmp_path / "checkpoints" / "zebra2horse_pretrained"
    assert not (folder / "latest_net_G.pth").exists() and leftovers(folder) == []


@pytest.mark.parametrize("kind, valid", [("pix2pix_dataset", "night2day"), ("cyclegan_dataset", "mini_colorization"),
                                         ("pix2pix_model", "day2night"), ("cyclegan_model", "style_vangogh")])
def test_unknown_names_list_the_valid_ones(server, tmp_path, kind, valid):
    _, url = server
    result = run_script(kind, "horse2cat", cwd=tmp_path, base_url=url)
    assert result.returncode == 2 and "unknown" in result.stderr and "'horse2cat'" in result.stderr
    assert valid in result.stderr
    assert not (tmp_path / "datasets").exists() and not (tmp_path / "checkpoints").exists()


def test_cityscapes_explains_the_licence(tmp_path):
    result = run_script("pix2pix_dataset", "cityscapes", cwd=tmp_path, base_url="http://127.0.0.1:9/")
    assert result.returncode == 1 and "prepare_cityscapes_dataset.py" in result.stdout


def fetch(url: str, dest: Path, capsys) -> tuple[int, str]:
    """scripts/fetch.py archive URL DEST, in this process: (exit status, what it printed)."""
    status = load_script("scripts/fetch.py").main(["archive", url, str(dest)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_macos_metadata_does_not_hide_the_dataset_folder(server, tmp_path, capsys):
    _, url = server
    dest = tmp_path / "datasets" / "apple2orange"
    status, output = fetch(url + "cyclegan/datasets/apple2orange.zip", dest, capsys)
    assert status == 0, output
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["trainA", "trainA/1.jpg"]
    assert "left out 2 macOS metadata entries" in output and "placed at" not in output
    assert leftovers(dest.parent) == []


def test_a_folder_named_otherwise_lands_at_the_dataset_name(server, tmp_path, capsys):
    _, url = server
    dest = tmp_path / "datasets" / "edges2handbags"
    status, output = fetch(url + "pix2pix/datasets/edges2handbags.tar.gz", dest, capsys)
    assert status == 0, output
    assert (dest / "train" / "1.jpg").read_bytes() == b"bag" and not (dest / "handbags_v2").exists()
    assert f"the archive's folder 'handbags_v2' is placed at {dest}" in output
    assert leftovers(dest.parent) == []


def test_an_archive_of_several_folders_is_the_dataset_itself(server, tmp_path, capsys):
    _, url = server
    dest = tmp_path / "datasets" / "mini_pix2pix"
    status, output = fetch(url + "cyclegan/datasets/mini_pix2pix.zip", dest, capsys)
    assert status == 0, output
    assert sorted(p.name for p in dest.iterdir()) == ["test", "train"]
    assert sorted(p.name for p in (dest / "train").iterdir()) == ["1.jpg"]
