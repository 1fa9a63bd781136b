"""What a new user meets first: the two make commands, the printed resume command, threads on a busy machine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT
from util import messages, threads
from util.interrupts import resume_command


def planned_commands(target: str) -> str:
    """What `make <target>` would run on a fresh clone (a dry run, with the environment not yet set up)."""
    result = subprocess.run(["make", "-n", "-C", str(ROOT), target, "VENV=/nonexistent/venv"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_only_make_test_installs_a_browser():
    demo, test = planned_commands("demo"), planned_commands("test")
    assert "pip install" in demo and "scripts/demo.sh" in demo
    assert "apt-get" not in demo and "chromium" not in demo
    assert "apt-get install -y -qq chromium" in test and "pytest" in test


def test_setup_builds_visdom_before_the_requirements():
    # installing setuptools < 70 after torch made pip print "ERROR: ... torch requires setuptools>=77"
    lines = [line for line in planned_commands("setup").splitlines() if "pip install" in line]
    order = [next(i for i, line in enumerate(lines) if text in line)
             for text in ('"setuptools<70"', "visdom==", "-r requirements.txt")]
    assert order == sorted(order)
    assert not any("setuptools" in line for line in lines[order[2]:])


def test_resume_command_names_the_interpreter_in_use(tmp_path, monkeypatch):
    venv_python = tmp_path / ".venv" / "bin" / "python"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "executable", str(venv_python))
    monkeypatch.setattr(sys, "argv", ["train.py", "--name", "my run", "--epoch", "5"])
    assert resume_command() == ".venv/bin/python train.py --name 'my run' --epoch 5 --continue_train --epoch latest"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # an interpreter outside the current folder is named in full
    monkeypatch.setattr(sys, "argv", ["train.py"])
    assert resume_command() == f"{venv_python} train.py --continue_train"


@pytest.fixture
def two_threads(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "cores", lambda: [0, 1])
    monkeypatch.setattr(messages, "_shown_once", set())
    yield
    torch.set_num_threads(before)


def test_busy_machine_warns_once_with_the_thread_count_to_use(two_threads, monkeypatch, capsys):
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25: 1.3)
    threads.warn_if_oversubscribed("cpu")
    threads.warn_if_oversubscribed("cpu")
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "1.3 of this machine's 2 cores busy" in err and "OMP_NUM_THREADS=1" in err


@pytest.mark.parametrize(("busy", "device", "count"), [(0.3, "cpu", 2), (1.3, "cuda", 2), (1.9, "cpu", 1)])
def test_no_thread_warning_when_the_threads_fit(two_threads, monkeypatch, capsys, busy, device, count):
    torch.set_num_threads(count)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.25: busy)
    threads.warn_if_oversubscribed(device)
    assert capsys.readouterr().err == ""


def test_free_cores_and_the_busy_measure():
    cores = len(threads.cores())
    assert threads.free_cores(0.2) == cores and threads.free_cores(cores + 3.0) == 1
    busy = threads.busy_cores(0.05)
    assert busy is None or 0 <= busy <= max(cores, os.cpu_count() or 1) * 4


def test_demo_scripts_choose_the_thread_count():
    common = (ROOT / "scripts" / "demo_common.sh").read_text()
    choose = common.index("free_cores()")
    assert "export OMP_NUM_THREADS" in common[choose:]
    for script in ("demo.sh", "demo_cyclegan.sh", "demo_cut.sh"):
        text = (ROOT / "scripts" / script).read_text()
        assert text.index('source "$(dirname "$0")/demo_common.sh"') < text.index("train.py")
