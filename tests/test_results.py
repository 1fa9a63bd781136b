"""test.py's results: unique names for inputs that share a file name, full disks, and the page's charset."""

from __future__ import annotations

import errno
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_user_error, build_model, run_main, save_weights
from util import html
from util.results_page import ResultNames

NET = ["--model", "test", "--netG", "resnet_6blocks", "--ngf", "4", "--no_dropout", "--preprocess", "none",
       "--num_threads", "0", "--gpu_ids", "-1", "--eval"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoints folder with random weights of a tiny one-direction generator, as run 'run'."""
    ck = tmp_path_factory.mktemp("ck")
    _, model = build_model(ck, ck, "--name", "run", *NET, train=False)
    save_weights(model, ck / "run")
    return ck


def write_inputs(root: Path, names: list[str]) -> dict[str, np.ndarray]:
    """32x32 noise images under `root`, each as decoded from its file (JPEG is lossy)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / name)
        arrays[name] = np.asarray(Image.open(root / name).convert("RGB"))
    return arrays


def run_test(data: Path, ck: Path, results: Path, *extra: str):
    return run_main("test.py", "--dataroot", str(data), "--name", "run", "--checkpoints_dir", str(ck),
                    "--results_dir", str(results), *NET, *extra)


def test_inputs_sharing_a_file_name_keep_their_own_results(weights, tmp_path):
    inputs = write_inputs(tmp_path / "data", ["a/x.png", "b/x.png", "y.png", "y.jpg"])
    out = run_test(tmp_path / "data", weights, tmp_path / "res")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "wrote 4 results" in out.stdout
    page = tmp_path / "res" / "run" / "test_latest"
    text = (page / "index.html").read_text()
    assert re.findall(r"<h3>(.*?)</h3>", text) == ["a/x", "b/x", "y.jpg", "y.png"]  # input order, once each
    expected = {"a/x.png": "a/x", "b/x.png": "b/x", "y.png": "y.png", "y.jpg": "y.jpg"}
    for source, name in expected.items():
        real = np.asarray(Image.open(page / "images" / f"{name}_real.png"))
        assert np.array_equal(real, inputs[source]), source  # each input's own image, none overwritten
        assert (page / "images" / f"{name}_fake.png").is_file()
    links = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert len(links) == 16 and all((page / link).is_file() for link in links)


def test_result_names_are_unique_and_stable(tmp_path):
    for name in ["testA/x.png", "testA/sub/x.png", "testA/y.png", "testA/y.JPG", "testB/x.png", "z.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    roots = [str(tmp_path / "testA"), str(tmp_path / "testB"), str(tmp_path)]
    expected = {"testA/x.png": "x", "testA/sub/x.png": "sub/x", "testA/y.png": "y.png", "testA/y.JPG": "y.JPG",
                "testB/x.png": "x", "z.png": "z", "/elsewhere/w.png": "w"}
    # each name follows from the input's own place, whatever else is named and in which order
    for order in (list(expected), list(reversed(expected))):
        names = ResultNames(roots)
        for path in order:
            if path != "testB/x.png":  # the other domain, named in a run of its own
                assert names(str(tmp_path / path)) == expected[path], path
    fresh = ResultNames(roots)
    assert fresh(str(tmp_path / "testB/x.png")) == "x"
    # an input met again (the smaller domain of an unaligned set repeats) and letter-case twins stay apart
    again = ResultNames(roots)
    assert [again(str(tmp_path / "testA/x.png")) for _ in range(3)] == ["x", "x~2", "x~3"]
    twins = ResultNames()
    assert [twins("/a/Q.png"), twins("/b/q.png")] == ["Q", "q~2"]


@pytest.mark.parametrize("failing", ["image", "page"])
def test_full_results_disk_is_one_line_and_leaves_no_partial_file(weights, tmp_path, monkeypatch, failing):
    write_inputs(tmp_path / "data", [f"{i}.png" for i in range(6)])
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if failing == "image":  # the fourth PNG meets a full disk after writing a few bytes, as a real one does
        real_save, calls = Image.Image.save, itertools.count()

        def save_until_full(image, fp, format=None, **params):
            if next(calls) < 3:
                return real_save(image, fp, format, **params)
            fp.write(b"\x89PNG")  # the temporary file save_image writes
            raise full

        monkeypatch.setattr(Image.Image, "save", save_until_full)
    else:  # every PNG fits, the page does not
        real_replace = os.replace

        def replace_unless_page(src, dst):
            if str(dst).endswith("index.html"):
                raise full
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace_unless_page)
    out = run_test(tmp_path / "data", weights, tmp_path / "res")
    assert_user_error(out, "cannot write results to", "No space left on device", "--results_dir")
    page = tmp_path / "res" / "run" / "test_latest"
    files = [p for p in page.rglob("*") if p.is_file() and p.name not in ("test_opt.txt", "test_opt.json")]
    assert not (page / "index.html").exists()
    assert all(p.suffix == ".png" and not p.name.startswith(".") for p in files), files  # no temporary files
    for png in files:  # what is there is whole
        Image.open(png).load()
    if failing == "page":
        assert len(files) == 12


def test_pages_declare_utf8_first(tmp_path):
    page = html.HTML(str(tmp_path), "Résultats ✓")
    text = Path(page.save()).read_text(encoding="utf-8")
    head = text[text.index("<head>"):text.index("</head>")]
    assert head.split("\n")[1].strip() == '<meta charset="utf-8">'  # before the title, which may not be ASCII
    assert "Résultats ✓" in text
