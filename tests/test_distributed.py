"""Multi-process training through torchrun on the CPU (gloo): same result as one process, resume, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from PIL import Image
from torch import nn

from models import networks
from tests.conftest import ROOT, installed_model, run_main, save_weights, write_aligned_images

# resnet generators at 64 px keep every instance norm over many pixels (a U-Net's 1x1 bottleneck would not).
TINY = ["--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load_size", "64", "--crop_size", "64",
        "--num_threads", "0", "--gpu_ids", "-1", "--norm", "instance", "--no_dropout", "--serial_batches",
        "--no_flip", "--n_epochs", "1", "--n_epochs_decay", "0", "--print_freq", "2", "--display_freq", "2"]


def torchrun(nproc: int, script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a script of the repo under torch.distributed.run with `nproc` local processes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(ROOT / script), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def save_initial_weights(run_dir: Path, model: str, extra: list[str], root: Path) -> None:
    """Save one random initialisation as `latest` so that both runs start from the same weights.

    The initialisation is seeded: the two runs' sums differ in rounding, which Adam can blow up for a weight whose
    gradient happens to be almost zero, so an unseeded one would make the comparison pass or fail by chance.
    """
    from data import create_dataset
    from models import create_model
    from options.train_options import TrainOptions

    opt = TrainOptions().parse(["--dataroot", str(root), "--name", run_dir.name, "--model", model,
                                "--checkpoints_dir", str(run_dir.parent), *TINY, *extra])
    torch.manual_seed(0)
    network = create_model(opt)
    network.data_dependent_initialize(create_dataset(opt).first_batch())
    save_weights(network, run_dir)


def bias_cancelled_by_norm(net: nn.Module) -> set[str]:
    """Biases of convolutions directly followed by an instance norm, which subtracts them again.

    Their exact gradient is zero, so Adam turns rounding noise into full-size steps; they stay out of the weight
    comparison (they change nothing the network computes).
    """
    names = set()
    for prefix, module in net.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (name, layer), (_, following) in zip(children, children[1:], strict=False):
            if (isinstance(layer, nn.Conv2d | nn.ConvTranspose2d) and layer.bias is not None
                    and isinstance(following, nn.InstanceNorm2d)):
                names.add(f"{prefix}.{name}.bias" if prefix else f"{name}.bias")
    return names


def assert_same_weights(one: Path, two: Path, start: Path, names: dict[str, nn.Module], min_move: float) -> None:
    """The two runs' weights agree to 1e-5, but for at most 1 in 1000 values.

    The exceptions are Adam's: the runs sum gradients in another order, and a weight whose gradient is zero but for
    rounding then steps by +lr in one run and -lr in the other. Without the gradient average across processes,
    most weights would differ.
    """
    for name, net in names.items():
        a, b, s = (torch.load(folder / f"latest_net_{name}.pth", weights_only=True) for folder in (one, two, start))
        skip = bias_cancelled_by_norm(net)
        compared = [k for k in a if k not in skip and a[k].is_floating_point()]
        assert compared and set(a) == set(b)
        moved = max((a[k] - s[k]).abs().max().item() for k in compared)
        assert moved > min_move, f"net_{name} did not train"
        differing = {k: int(((a[k] - b[k]).abs() > 1e-5).sum()) for k in compared}
        total = sum(a[k].numel() for k in compared)
        assert sum(differing.values()) <= total / 1000, (name, {k: n for k, n in differing.items() if n})


def run_pair(tmp_path: Path, root: Path, model: str, extra: list[str], nets: dict[str, nn.Module],
             images: int, min_move: float = 1e-4) -> Path:
    """Train from one initialisation with 1 process x batch 2 and with 2 processes x batch 1; compare weights."""
    start = tmp_path / "start" / "run"
    save_initial_weights(start, model, extra, root)
    runs = {}
    for label in ("one", "two"):
        runs[label] = tmp_path / label / "run"
        runs[label].mkdir(parents=True)
        for f in start.glob("*.pth"):
            (runs[label] / f.name).write_bytes(f.read_bytes())
    common = ["--dataroot", str(root), "--name", "run", "--model", model, *TINY, *extra, "--continue_train"]
    one = run_main("train.py", *common, "--checkpoints_dir", str(tmp_path / "one"), "--batch_size", "2")
    assert one.returncode == 0, one.stderr[-3000:]
    two = torchrun(2, "train.py", *common, "--checkpoints_dir", str(tmp_path / "two"), "--batch_size", "1")
    assert two.returncode == 0, two.stderr[-3000:]
    assert_same_weights(runs["one"], runs["two"], start, nets, min_move)
    # Counters count the images of both processes; only rank 0 writes the log.
    log = (runs["two"] / "loss_log.txt").read_text()
    assert log.count("Training Loss") == 1 and f"iters: {images}," in log
    assert one.stdout.count("end of epoch") == 1 and two.stdout.count("end of epoch") == 1
    return runs["two"]


def test_two_processes_train_pix2pix_like_one_with_twice_the_batch_and_resume(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 8, size=64, seed=1)
    nets = {"G": networks.define_G(3, 3, 4, "resnet_6blocks", "instance"),
            "D": networks.define_D(6, 4, "basic", norm="instance")}
    run = run_pair(tmp_path, root, "pix2pix", [], nets, images=8)
    # Resume the 2-process run for another epoch from its checkpoint, evaluated on rank 0 while rank 1 waits.
    write_aligned_images(root / "test", 2, size=64, seed=2)
    more = torchrun(2, "train.py", "--dataroot", str(root), "--name", "run", "--model", "pix2pix", *TINY,
                    "--checkpoints_dir", str(run.parent), "--continue_train", "--epoch_count", "2",
                    "--n_epochs", "2", "--eval_freq", "1", "--eval_metrics", "l1,psnr", "--save_best", "l1")
    assert more.returncode == 0, more.stderr[-3000:]
    assert (run / "2_net_G.pth").is_file() and (run / "best_net_G.pth").is_file()
    assert "end of epoch 2 / 2" in more.stdout and more.stdout.count("evaluation: 2 test images") == 1


def test_two_processes_train_cycle_gan_like_one_with_twice_the_batch(tmp_path):
    root = tmp_path / "unaligned"
    for side, seed in (("trainA", 1), ("trainB", 2)):
        folder = root / side
        write_aligned_images(folder, 8, size=32, seed=seed)
        for path in folder.glob("*.png"):  # keep one half: unaligned data are single images
            Image.open(path).crop((0, 0, 32, 32)).save(path)
    # Adam gives every weight a step of about lr however small its gradient, so weights whose gradient is almost
    # zero turn rounding differences (batch of 2 vs two of 1) into visible ones within a few CycleGAN steps: one
    # step at a tenth of the learning rate keeps that far below the tolerance, while a missing gradient average
    # would still move weights the wrong way by up to 2 * lr.
    extra = ["--pool_size", "0", "--load_size", "32", "--crop_size", "32", "--max_dataset_size", "2", "--lr", "2e-5"]
    nets = {name: networks.define_G(3, 3, 4, "resnet_6blocks", "instance") for name in ("G_A", "G_B")}
    nets |= {name: networks.define_D(3, 4, "basic", norm="instance") for name in ("D_A", "D_B")}
    run_pair(tmp_path, root, "cycle_gan", extra, nets, images=2, min_move=1e-5)


def test_a_network_built_from_the_first_batch_synchronises_its_gradients(tmp_path):
    """The hooked model's P exists only after data_dependent_initialize; DDP must still average its gradients."""
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 4, size=32, seed=3)
    nets = {"G": networks.define_G(3, 3, 4, "resnet_6blocks", "instance"), "P": nn.Conv2d(3, 3, 3, padding=1)}
    with installed_model("hooked"):
        run_pair(tmp_path, root, "hooked", ["--load_size", "32", "--crop_size", "32"], nets, images=4)


def test_a_failing_process_stops_the_others_with_its_message(tmp_path):
    root = tmp_path / "pairs"
    write_aligned_images(root / "train", 4, size=64, seed=1)
    bad = root / "train" / "001.png"  # read by rank 1 in the first step
    Image.open(bad).crop((0, 0, 127, 64)).save(bad)
    result = torchrun(2, "train.py", "--dataroot", str(root), "--name", "run", "--checkpoints_dir", str(tmp_path),
                      "--model", "pix2pix", *TINY, timeout=240)
    assert result.returncode != 0
    assert "error: image" in result.stderr and "odd width 127" in result.stderr


def synced_batch_norm_worker(rank: int, folder: str, x: torch.Tensor) -> None:
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        norm = networks.get_norm_layer("syncbatch")(3)
        nn.init.normal_(norm.weight)
        part = x[rank * 2:(rank + 1) * 2].clone().requires_grad_(True)
        out = norm(part)
        (out * torch.arange(out.numel()).view_as(out)).sum().backward()
        torch.save((out.detach(), part.grad, norm.weight.grad, norm.running_mean, norm.running_var),
                   f"{folder}/{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_syncbatch_norm_synchronises_statistics_on_cpu_with_gloo(tmp_path):
    torch.manual_seed(1)
    x = torch.randn(4, 3, 5, 5) * 3 + 1
    mp.spawn(synced_batch_norm_worker, args=(str(tmp_path), x), nprocs=2, join=True)
    results = [torch.load(tmp_path / f"{rank}.pt", weights_only=True) for rank in range(2)]
    torch.manual_seed(0)
    reference = nn.BatchNorm2d(3)
    nn.init.normal_(reference.weight)
    whole = x.clone().requires_grad_(True)
    out = reference(whole)
    weights = torch.cat([torch.arange(out[:2].numel()).view_as(out[:2])] * 2).float()
    (out * weights).sum().backward()
    torch.testing.assert_close(torch.cat([results[0][0], results[1][0]]), out.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.cat([results[0][1], results[1][1]]), whole.grad, atol=1e-4, rtol=1e-4)
    # each process holds half the parameter gradient (DDP averages them); the running statistics are global
    torch.testing.assert_close(results[0][2] + results[1][2], reference.weight.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(results[0][3], reference.running_mean)
    torch.testing.assert_close(results[1][4], reference.running_var)


@pytest.mark.parametrize(("world_size", "norm"), [("2", "syncbatch"), ("1", "batch")])
def test_batch_norm_becomes_syncbatch_with_several_processes(monkeypatch, aligned_root, tmp_path, capsys,
                                                             world_size, norm):
    from options.train_options import TrainOptions

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", world_size)  # as torchrun sets them
    opt = TrainOptions().parse(["--dataroot", str(aligned_root), "--checkpoints_dir", str(tmp_path),
                                "--model", "pix2pix", "--gpu_ids", "-1"])
    assert opt.norm == norm
    warned = "warning: --norm batch with several processes: using --norm syncbatch" in capsys.readouterr().err
    assert warned == (norm == "syncbatch")
