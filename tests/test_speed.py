"""Mixed precision, gradient scaling, compile fallback, channels-last and batched testing."""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch._dynamo.exc
from PIL import Image
from torch import nn

from models import create_model
from options.train_options import TrainOptions
from tests.conftest import (
    ROOT,
    TINY_PIX2PIX,
    assert_user_error,
    build_model,
    run_main,
    save_weights,
    write_aligned_images,
)
from util import checkpoint, precision
from util.allocator import OPT_OUT, keep_freed_memory
from util.compilation import CompiledNetwork


def tiny_model(root: Path, tmp_path: Path, *extra: str):
    return build_model(root, tmp_path, "--name", "run", *TINY_PIX2PIX, *extra)[1]


def batch(size: int = 2) -> dict:
    torch.manual_seed(0)
    images = torch.rand(size, 3, 128, 128) * 2 - 1
    return {"A": images, "B": -images, "A_paths": [f"{i}.png" for i in range(size)],
            "B_paths": [f"{i}.png" for i in range(size)]}


def test_fp16_on_the_cpu_asks_for_bf16(aligned_root, tmp_path):
    result = run_main("train.py", "--dataroot", str(aligned_root), "--checkpoints_dir", str(tmp_path),
                      *TINY_PIX2PIX, "--amp", "fp16")
    assert_user_error(result, "--amp fp16", "bf16")


def test_unknown_amp_is_a_user_error(aligned_root, tmp_path):
    result = run_main("test.py", "--dataroot", str(aligned_root), "--checkpoints_dir", str(tmp_path),
                      *TINY_PIX2PIX, "--amp", "fp8")
    assert_user_error(result, "--amp", "fp8")


def test_bf16_runs_the_networks_in_bf16_and_keeps_fp32_weights(aligned_root, tmp_path):
    model = tiny_model(aligned_root, tmp_path, "--amp", "bf16")
    assert model.grad_scalers == []
    before = copy.deepcopy(model.netG.state_dict())
    model.set_input(batch())
    model.optimize_parameters()
    assert model.fake_B.dtype == torch.bfloat16
    losses = model.get_current_losses()
    assert all(np.isfinite(v) for v in losses.values())
    assert model.loss_G_GAN.dtype == torch.float32  # losses are computed in float32
    after = model.netG.state_dict()
    assert all(v.dtype == torch.float32 for v in after.values() if v.is_floating_point())
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_grad_scalers_match_optimizers_and_skip_steps_with_inf_gradients(aligned_root, tmp_path):
    model = tiny_model(aligned_root, tmp_path)
    assert model.grad_scalers == []  # only --amp fp16 creates them
    scaled = copy.deepcopy(model)
    scaled.grad_scalers = precision.make_grad_scalers(len(scaled.optimizers), "fp16", torch.device("cpu"))
    assert len(scaled.grad_scalers) == len(scaled.optimizers) == 2
    for m in (model, scaled):
        m.set_input(batch())
        m.optimize_parameters()
    # The scale is a power of two, so scaling and unscaling is exact: the same update as without a scaler.
    for (k, a), b in zip(model.netG.state_dict().items(), scaled.netG.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    weights = {k: v.detach().clone() for k, v in scaled.netD.named_parameters()}
    scale = scaled.grad_scalers[1].get_scale()
    scaled.set_requires_grad(scaled.netD, True)
    loss = scaled.netD(torch.cat([scaled.real_A, scaled.real_B], 1)).mean() * float("inf")
    scaled.optimizer_step(scaled.optimizer_D, loss)
    assert scaled.grad_scalers[1].get_scale() < scale
    assert all(torch.equal(weights[k], v) for k, v in scaled.netD.named_parameters())


def test_channels_last_gives_the_same_results(aligned_root, tmp_path):
    plain = tiny_model(aligned_root, tmp_path)
    fast = tiny_model(aligned_root, tmp_path, "--channels_last")
    fast.netG.load_state_dict(plain.netG.state_dict())
    conv = next(m for m in fast.netG.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for m in (plain, fast):
        m.eval()
        m.set_input(batch())
        m.test()
    torch.testing.assert_close(fast.fake_B, plain.fake_B, atol=1e-5, rtol=1e-4)


def test_compile_failure_falls_back_to_eager_with_one_warning(monkeypatch, capsys):
    def broken_compile(net):
        def run(*args):
            raise torch._dynamo.exc.InternalTorchDynamoError("no compiler here")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    net = nn.Conv2d(3, 4, 3)
    wrapped = CompiledNetwork(net, "netG")
    x = torch.randn(1, 3, 8, 8)
    capsys.readouterr()
    outputs = [wrapped(x), wrapped(x)]
    caught = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(caught) == 1 and "--compile" in caught[0] and "netG" in caught[0]
    assert all(torch.equal(out, net(x)) for out in outputs)
    # checkpoints of a wrapped network are those of the plain one
    assert checkpoint.unwrap_model(wrapped) is net
    assert set(checkpoint.clean_state_dict(wrapped.state_dict(), net)) == set(net.state_dict())


def test_compile_that_cannot_start_warns_and_network_errors_still_raise(monkeypatch, capsys):
    def unavailable(net):
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(torch, "compile", unavailable)
    wrapped = CompiledNetwork(nn.Conv2d(3, 4, 3))
    assert "not supported" in capsys.readouterr().err
    with pytest.raises(RuntimeError):  # a wrong input is the caller's bug, not a compile failure
        wrapped(torch.randn(1, 5, 8, 8))


def save_random_pix2pix(root: Path, ck: Path) -> None:
    opt = TrainOptions().parse(["--dataroot", str(root), "--name", "run", "--checkpoints_dir", str(ck),
                                *TINY_PIX2PIX])
    model = create_model(opt)
    for m in model.netG.modules():  # give batch norm non-trivial running statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_weights(model, ck / "run")


def test_batched_testing_matches_batch_size_one_in_input_order(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "test", 5, seed=3)
    save_random_pix2pix(root, tmp_path / "ck")
    pages = {}
    for batch_size, workers in (("1", "0"), ("3", "2")):
        results = tmp_path / f"results{batch_size}"
        out = run_main("test.py", "--dataroot", str(root), "--name", "run", "--checkpoints_dir", str(tmp_path / "ck"),
                       "--results_dir", str(results), *TINY_PIX2PIX, "--eval", "--batch_size", batch_size,
                       "--num_threads", workers)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "wrote 5 results" in out.stdout
        pages[batch_size] = results / "run" / "test_latest"
    html = (pages["3"] / "index.html").read_text()
    assert html == (pages["1"] / "index.html").read_text()
    assert [html.index(f"<h3>{i:03d}</h3>") for i in range(5)] == sorted(html.index(f"<h3>{i:03d}</h3>")
                                                                       for i in range(5))
    images = sorted(p.name for p in (pages["1"] / "images").iterdir())
    assert len(images) == 15 and images == sorted(p.name for p in (pages["3"] / "images").iterdir())
    for name in images:
        a = np.asarray(Image.open(pages["1"] / "images" / name))
        b = np.asarray(Image.open(pages["3"] / "images" / name))
        assert np.array_equal(a, b), name


def test_testing_honours_amp(aligned_root, tmp_path):
    save_random_pix2pix(aligned_root, tmp_path / "ck")
    fakes = {}
    for amp in ("off", "bf16"):
        res = tmp_path / f"res_{amp}"
        out = run_main("test.py", "--dataroot", str(aligned_root), "--name", "run", "--checkpoints_dir",
                       str(tmp_path / "ck"), "--results_dir", str(res), *TINY_PIX2PIX, "--amp", amp, "--eval",
                       "--batch_size", "2")
        assert out.returncode == 0, out.stderr[-3000:]
        fakes[amp] = [np.asarray(Image.open(p), dtype=int)
                      for p in sorted((res / "run" / "test_latest" / "images").glob("*_fake_B.png"))]
    assert len(fakes["off"]) == len(fakes["bf16"]) == 3
    differences = [np.abs(a - b).max() for a, b in zip(fakes["off"], fakes["bf16"], strict=True)]
    assert max(differences) > 0  # bf16 rounding shows in some pixels...
    assert np.mean([np.abs(a - b).mean() for a, b in zip(fakes["off"], fakes["bf16"], strict=True)]) < 5  # ...only


FAULTS_ON_REUSE = """
import resource, sys, torch
from util.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "tuned" else False
block = 64 * 2**20 // 4  # a 64 MB tensor, larger than glibc's largest mmap threshold
for _ in range(10):  # warm-up: the heap grows until a freed block fits the next aligned request
    torch.ones(block)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    torch.ones(block)
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_tuned_malloc_reuses_freed_memory_instead_of_faulting_it_in_again(monkeypatch):
    monkeypatch.delenv(OPT_OUT, raising=False)
    faults = {}
    for mode in ("system", "tuned"):
        out = subprocess.run([sys.executable, "-c", FAULTS_ON_REUSE, mode], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout.split()
        faults[mode] = int(out[1])
        assert out[0] == str(mode == "tuned")
    pages_per_block = 64 * 2**20 // resource.getpagesize()
    assert faults["system"] > 4 * pages_per_block  # every allocation maps and faults in fresh pages
    assert faults["tuned"] < pages_per_block // 10  # the freed heap is reused


def test_tuned_malloc_can_be_switched_off(monkeypatch):
    monkeypatch.setenv(OPT_OUT, "1")
    assert keep_freed_memory() is False


def test_benchmark_counts_one_generator_pass_and_compares_it_with_the_convolution_peak(tmp_path):
    from torch.utils.flop_counter import FlopCounterMode

    from models import networks

    out = tmp_path / "bench.json"
    result = run_main("scripts/benchmark.py", "--cases", "inference", "--amp", "off", "--size", "64",
                      "--test_batch_size", "2", "--warmup", "0", "--iters", "1", "--peak", "--peak_repeats", "1",
                      "--json", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "best 3x3 convolution, off:" in result.stdout
    report = json.loads(out.read_text())
    peak = report["conv_peak_gflops"]["off"]
    (row,) = report["results"]
    generator = networks.define_G(3, 3, 64, "resnet_9blocks", "instance").eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        generator(torch.zeros(2, 3, 64, 64))
    assert row["gflop"] == pytest.approx(counter.get_total_flops() / 1e9)  # test.py's work: one pass, nothing more
    assert row["gflops"] == pytest.approx(row["gflop"] / row["s_per_iter"])
    assert row["of_peak"] == pytest.approx(row["gflops"] / peak)
    assert row["floor_s"] == pytest.approx(row["gflop"] / peak)
    assert 0 < row["of_peak"] < 1.5 and peak > 1


def test_benchmark_names_an_unknown_case_in_one_line():
    assert_user_error(run_main("scripts/benchmark.py", "--cases", "pix2pix,nope"), "nope", "--cases", "cycle_gan")
