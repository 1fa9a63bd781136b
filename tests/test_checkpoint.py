"""Checkpoint IO: atomic writes, safe loads, legacy keys and mismatch messages."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from torch import nn

from models import networks
from tests.conftest import run_main, write_noise_images
from util import atomic_files, checkpoint
from util.errors import UserError


class WithInstanceNorm(nn.Module):
    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3)
        self.norm = nn.InstanceNorm2d(channels)


def test_atomic_save_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    checkpoint.atomic_save({"w": torch.ones(2)}, str(path))
    checkpoint.atomic_save({"w": torch.zeros(2)}, str(path))
    assert torch.equal(checkpoint.safe_load(str(path))["w"], torch.zeros(2))
    assert os.listdir(tmp_path) == ["latest_net_G.pth"]
    assert path.stat().st_mode & 0o777 == atomic_files.new_file_mode()


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "latest_net_G.pth"
    checkpoint.atomic_save({"w": torch.ones(2)}, str(path))

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        checkpoint.atomic_save({"w": torch.zeros(2)}, str(path))
    monkeypatch.undo()
    assert torch.equal(checkpoint.safe_load(str(path))["w"], torch.ones(2))
    assert os.listdir(tmp_path) == ["latest_net_G.pth"]


def test_pickle_with_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"w": Exploit()}, f)
    with pytest.raises(UserError, match="refusing to load"):
        checkpoint.safe_load(str(path))
    assert not (tmp_path / "pwned").exists()


def test_truncated_file_is_a_user_error(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    torch.save({"w": torch.ones(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="corrupt or truncated"):
        checkpoint.safe_load(str(path))


def test_legacy_instance_norm_stats_and_prefixes_are_dropped(tmp_path):
    net = WithInstanceNorm()
    legacy = {f"module.{k}": v for k, v in net.state_dict().items()}
    legacy["module.norm.running_mean"] = torch.zeros(4)
    legacy["module.norm.running_var"] = torch.ones(4)
    legacy["module.norm.num_batches_tracked"] = torch.tensor(0)
    path = tmp_path / "old.pth"
    torch.save(legacy, path)
    fresh = WithInstanceNorm()
    fresh.load_state_dict(checkpoint.checked_weights(fresh, str(path), "--norm instance"))
    assert torch.equal(fresh.conv.weight, net.conv.weight)


def test_mismatch_names_options_and_keys(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(WithInstanceNorm(8).state_dict(), path)
    with pytest.raises(UserError) as err:
        checkpoint.checked_weights(WithInstanceNorm(4), str(path), "--netG resnet_9blocks --ngf 4")
    message = str(err.value)
    assert "--ngf 4" in message and "conv.weight has shape [8, 3, 3, 3]" in message and "\n" not in message


def test_unwrap_model_strips_compile_wrapper():
    net = nn.Linear(2, 2)
    compiled = torch.compile(net)
    assert checkpoint.unwrap_model(compiled) is net
    assert list(checkpoint.unwrap_model(compiled).state_dict()) == ["weight", "bias"]


# Old checkpoints: files of the three kinds the original release loads, built here from real networks.

def pre_04_batch_norm(weights: dict) -> dict:
    """As PyTorch before 0.4 saved a batch-norm network: no num_batches_tracked counters."""
    return {k: v for k, v in weights.items() if not k.endswith("num_batches_tracked")}


def instance_norm_with_statistics(weights: dict, net: nn.Module) -> dict:
    """As PyTorch before 0.4 saved an InstanceNorm network: running statistics for every InstanceNorm layer."""
    old = dict(weights)
    for name, module in net.named_modules():
        if isinstance(module, nn.InstanceNorm2d):
            old[f"{name}.running_mean"] = torch.zeros(module.num_features)
            old[f"{name}.running_var"] = torch.ones(module.num_features)
    return old


def data_parallel(weights: dict) -> dict:
    """As saved from a network wrapped in DataParallel: every key prefixed with `module.`."""
    return {f"module.{k}": v for k, v in weights.items()}


OLD_KINDS = {
    "batch norm before 0.4": ("unet_128", "batch", lambda w, net: pre_04_batch_norm(w)),
    "instance norm with statistics": ("resnet_6blocks", "instance", instance_norm_with_statistics),
    "DataParallel prefixes": ("unet_128", "batch", lambda w, net: data_parallel(w)),
    "all three at once": ("unet_128", "batch", lambda w, net: data_parallel(pre_04_batch_norm(w))),
}


@pytest.mark.parametrize("kind", sorted(OLD_KINDS))
def test_old_checkpoints_load_as_in_the_original(tmp_path, kind):
    netG, norm, make_old = OLD_KINDS[kind]
    saved = networks.define_G(3, 3, 4, netG, norm)
    path = tmp_path / "latest_net_G.pth"
    # the legacy (pre-1.6, non-zip) serialisation, as old published files have it
    torch.save(make_old(saved.state_dict(), saved), path, _use_new_zipfile_serialization=False)
    fresh = networks.define_G(3, 3, 4, netG, norm)
    fresh.load_state_dict(checkpoint.checked_weights(fresh, str(path), f"--netG {netG} --norm {norm}"), strict=True)
    x = torch.randn(1, 3, 128, 128)
    saved.eval(), fresh.eval()
    assert torch.equal(fresh(x), saved(x))
    if netG == "unet_128" and kind != "DataParallel prefixes":  # the file had no counters: they start at 0
        counters = [v for k, v in fresh.state_dict().items() if k.endswith("num_batches_tracked")]
        assert counters and all(int(c) == 0 for c in counters)


@pytest.mark.parametrize("damage, message", [
    (lambda w: {k: v for k, v in w.items() if k != "model.model.0.weight"}, "missing model.model.0.weight"),
    (lambda w: {**w, "model.model.0.weight": torch.zeros(4, 3, 3, 3)},
     "model.model.0.weight has shape [4, 3, 3, 3], network wants [4, 3, 4, 4]"),
    (lambda w: {k: v for k, v in pre_04_batch_norm(w).items() if not k.endswith("running_var")}, "missing"),
])
def test_old_checkpoints_with_real_gaps_are_still_refused(tmp_path, damage, message):
    net = networks.define_G(3, 3, 4, "unet_128", "batch")
    path = tmp_path / "latest_net_G.pth"
    torch.save(data_parallel(damage(net.state_dict())), path)
    with pytest.raises(UserError) as err:
        checkpoint.checked_weights(net, str(path), "--netG unet_128 --norm batch")
    assert message in str(err.value) and "does not fit the network built with --netG unet_128" in str(err.value)
    assert "num_batches_tracked" not in str(err.value)


def test_an_old_pix2pix_checkpoint_runs_in_test_py(tmp_path):
    """A pre-0.4 DataParallel pix2pix generator file, as some published weights are, through test.py."""
    root = tmp_path / "facades"
    write_noise_images(root, 2, size=128)
    net = networks.define_G(3, 3, 4, "unet_128", "batch", use_dropout=True)
    (tmp_path / "ck" / "old").mkdir(parents=True)
    torch.save(data_parallel(pre_04_batch_norm(net.state_dict())), tmp_path / "ck" / "old" / "latest_net_G.pth",
               _use_new_zipfile_serialization=False)
    result = run_main("test.py", "--dataroot", str(root), "--name", "old", "--checkpoints_dir", str(tmp_path / "ck"),
                      "--results_dir", str(tmp_path / "results"), "--model", "test", "--netG", "unet_128",
                      "--norm", "batch", "--ngf", "4", "--load_size", "128", "--crop_size", "128", "--num_threads",
                      "0", "--gpu_ids", "-1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / "results" / "old" / "test_latest" / "images").glob("*_fake.png"))) == 2


def test_keep_state_counts_numbered_save_points_only(tmp_path):
    for suffix in ("1", "iter_8", "2", "best", "3", "latest"):  # written in this order
        checkpoint.atomic_save({"progress": suffix}, str(tmp_path / checkpoint.state_file(suffix)))
        os.utime(tmp_path / checkpoint.state_file(suffix), ns=(0, len(os.listdir(tmp_path)) * 10**9))
    checkpoint.prune_states(str(tmp_path), 2, "3")
    assert sorted(os.listdir(tmp_path)) == sorted(checkpoint.state_file(s) for s in ("2", "3", "best", "latest"))
    checkpoint.prune_states(str(tmp_path), 0, "3")  # --keep_state 0: every numbered state goes
    assert sorted(os.listdir(tmp_path)) == [checkpoint.state_file(s) for s in ("best", "latest")]


def test_temporary_files_of_cut_short_writes_are_removed(tmp_path):
    """A crash inside atomic_save leaves its .tmp_<random>.tmp file (.tmp_<random>.pth from earlier versions);
    resuming removes them and nothing else."""
    for name in (".tmp_a1.pth", ".tmp_b2.tmp", "keep.json", "latest_net_G.pth"):
        (tmp_path / name).write_bytes(b"x")
    checkpoint.finish_interrupted_save(str(tmp_path), "latest")
    assert sorted(os.listdir(tmp_path)) == ["keep.json", "latest_net_G.pth"]
