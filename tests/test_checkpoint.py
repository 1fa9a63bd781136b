"""Checkpoint IO: atomic writes, safe loads, legacy keys and mismatch messages."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from torch import nn

from util import checkpoint
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
    assert path.stat().st_mode & 0o777 == checkpoint.new_file_mode()


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
