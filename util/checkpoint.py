"""Checkpoint files: a run's weights and training state, written as atomic save points and read back safely.

File names are the original release's and are built here only: `<suffix>_net_<name>.pth` holds one network's plain
state dict (no wrapper prefixes), `<suffix>_train_state.pth` the training state of the same save point. Both are
plain tensors, numbers and dicts, loaded with weights_only=True. Writing save point `<suffix>`:

1. every file is written to `<final name>.pending` (temporary file, fsync, rename: never half a file);
2. the state file's pending copy, written last, carries a digest of each network file: it is the commit record;
3. the pending files are renamed to their final names, the state file last.

A crash before step 2 leaves the previous save point untouched (its stray pending files are dropped on the next
save or load); a crash after it is finished on the next load. Either way the files that load belong together.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from util import messages
from util.atomic_files import TEMPORARY_PREFIX, TEMPORARY_SUFFIX, fsync_dir, write_atomically
from util.errors import UserError

PENDING = ".pending"
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
INSTANCE_NORM_STATS = ("running_mean", "running_var", "num_batches_tracked")


def iter_suffix(total_iters: int) -> str:
    """The suffix of a save point named by its image count (--save_by_iter, --load_iter)."""
    return f"iter_{total_iters}"


def load_suffix(epoch: str | int, load_iter: int = 0) -> str:
    """The save point that --epoch and --load_iter name: iter_<load_iter> when it is given, otherwise the epoch."""
    return iter_suffix(load_iter) if load_iter > 0 else str(epoch)


def network_file(suffix: str | int, name: str) -> str:
    """`<suffix>_net_<name>.pth`, e.g. latest_net_G_A.pth or 5_net_D.pth."""
    return f"{suffix}_net_{name}.pth"


def state_file(suffix: str | int) -> str:
    """`<suffix>_train_state.pth`: the training state saved with the network files of `suffix`."""
    return f"{suffix}_train_state.pth"


# file IO ------------------------------------------------------------------------------------------------------------

def atomic_save(obj: Any, path: str) -> None:
    """torch.save to a temporary file in the same folder, fsync it, then rename over `path`.

    A crash at any moment leaves either the old complete file or the new complete file, never a truncated one.
    A failed write (disk full, permissions) raises OSError and leaves no temporary file behind.
    """
    write_atomically(path, lambda f: torch_save(obj, f), durable=True)


def torch_save(obj: Any, f: Any) -> None:
    """torch.save, except that a failed write raises the OSError behind it: torch reports a write that failed
    (e.g. with ENOSPC) as a RuntimeError about the file position, with the OSError only in its context.
    """
    try:
        torch.save(obj, f)
    except RuntimeError as err:
        cause = os_error_behind(err)
        if cause is None:
            raise
        raise OSError(cause.errno, cause.strerror or str(cause)) from err


def os_error_behind(err: BaseException) -> OSError | None:
    """The first OSError in the chain of causes and contexts of `err`, if any."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def safe_load(path: str, map_location: str | torch.device = "cpu") -> Any:
    """Load a checkpoint with weights_only=True; refuse anything that needs arbitrary code to unpickle."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UserError(f"refusing to load '{path}': it is not a plain tensor checkpoint "
                        f"(weights_only loading failed: {str(err).splitlines()[0]})") from err
    except (RuntimeError, EOFError, OSError) as err:
        raise UserError(f"cannot read checkpoint '{path}': {str(err).splitlines()[0]}; "
                        "the file is corrupt or truncated, delete it or load another --epoch") from err


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_writable(folder: str) -> None:
    """Raise UserError unless files can be created in `folder`; folders the check has to make are removed again,
    so that a command that fails later leaves nothing behind.
    """
    missing = []  # the folders this check makes, deepest first
    path = os.path.abspath(folder)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, f".write_test_{os.getpid()}")
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.remove(probe)
    except OSError as err:
        raise UserError(f"the checkpoints folder '{folder}' is not writable ({err.strerror or err}); "
                        "fix its permissions or choose another --checkpoints_dir") from err
    finally:
        for made in missing:
            with contextlib.suppress(OSError):
                os.rmdir(made)


# save points --------------------------------------------------------------------------------------------------------

def write_save_point(folder: str, suffix: str | int, networks: dict[str, dict[str, Any]],
                     state: dict[str, Any]) -> None:
    """Write the network state dicts and `state` (plus a manifest of the network files) as one save point.

    A failed write (disk full, permissions) raises UserError and leaves the previous save point as it was, with
    no pending or temporary file of the failed one behind.
    """
    written: list[str] = []
    committed = False
    try:
        finish_interrupted_save(folder, suffix)
        manifest = {}
        for name, weights in networks.items():
            pending = os.path.join(folder, network_file(suffix, name)) + PENDING
            written.append(pending)
            atomic_save(weights, pending)
            manifest[network_file(suffix, name)] = file_digest(pending)
        atomic_save({**state, "manifest": manifest}, os.path.join(folder, state_file(suffix)) + PENDING)
        committed = True
        finish_interrupted_save(folder, suffix)
    except BaseException as err:
        if not committed:
            for path in written:
                with contextlib.suppress(OSError):
                    os.remove(path)
        if not isinstance(err, OSError):
            raise
        outcome = ("it is recorded and will be completed when the run is loaded again" if committed
                   else "the previous save is intact")
        raise UserError(f"cannot save checkpoint '{suffix}' in '{folder}': {err.strerror or err}; {outcome}; "
                        "free disk space or fix permissions, then resume with --continue_train") from err


def write_network_files(folder: str, suffix: str | int, networks: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
    """Write `<suffix>_net_<name>.pth` for each network state dict, each atomically, without a training state
    (what published weights and the original release's save_networks give). The folder is made if missing.
    """
    os.makedirs(folder, exist_ok=True)
    for name, weights in networks.items():
        atomic_save(dict(weights), os.path.join(folder, network_file(suffix, name)))


def finish_interrupted_save(folder: str, suffix: str | int) -> None:
    """Complete a save point whose commit record exists; drop the pending files of one that never got that far
    and the temporary files of writes that a crash cut short.
    """
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if name.startswith(TEMPORARY_PREFIX) and name.endswith((TEMPORARY_SUFFIX, ".pth")):  # .pth: older writers
            os.remove(os.path.join(folder, name))
    prefix = f"{suffix}_net_"
    pending = [f for f in os.listdir(folder) if f.startswith(prefix) and f.endswith(".pth" + PENDING)]
    record = os.path.join(folder, state_file(suffix)) + PENDING
    if os.path.exists(record):
        for name in pending:
            os.replace(os.path.join(folder, name), os.path.join(folder, name.removesuffix(PENDING)))
        os.replace(record, record.removesuffix(PENDING))
    else:
        for name in pending:
            os.remove(os.path.join(folder, name))
    fsync_dir(folder)


def recover(folder: str) -> None:
    """Finish or drop every interrupted save point in `folder` before loading; in a read-only folder the last
    complete save points stay as they are.
    """
    if not os.path.isdir(folder):
        return
    suffixes = {name.removesuffix(PENDING).rsplit("_net_", 1)[0].removesuffix("_train_state.pth")
                for name in os.listdir(folder) if name.endswith(PENDING)}
    for suffix in sorted(suffixes):
        try:
            finish_interrupted_save(folder, suffix)
        except OSError as err:
            messages.warn(f"cannot finish the interrupted save '{suffix}' in '{folder}' ({err.strerror or err}); "
                          "loading the previous complete save")


def read_state(folder: str, suffix: str | int, network_names: list[str]) -> dict[str, Any] | None:
    """The training state of save point `suffix`, checked against its network files; None when there is none."""
    path = os.path.join(folder, state_file(suffix))
    if not os.path.isfile(path):
        return None
    state = safe_load(path)
    if not isinstance(state, dict) or not isinstance(state.get("manifest"), dict):
        raise UserError(f"'{path}' is not a training-state file of this framework; delete it to resume from the "
                        "weights alone")
    # By network name: a whole save point copied by hand under another suffix (1_* -> latest_*) still belongs
    # together; the digests tell.
    digests = {key.partition("_net_")[2].removesuffix(".pth"): digest for key, digest in state["manifest"].items()}
    if set(digests) != set(network_names):
        raise UserError(f"'{path}' belongs to a model with networks {sorted(digests)}, this one has "
                        f"{sorted(network_names)}; check --model and --name")
    for name, digest in digests.items():
        weights = os.path.join(folder, network_file(suffix, name))
        if file_digest(weights) != digest:
            raise UserError(f"'{weights}' does not match its state file '{path}' (the weights were replaced after "
                            "that save); to resume from these weights alone, move the state file away (optimizer "
                            "and schedule then start fresh), or copy the state file of the same save point with them")
    return state


NUMBERED_STATE = re.compile(r"^(\d+|iter_\d+)_train_state\.pth$")  # the states --keep_state counts


def prune_states(folder: str, keep: int, newest: str | int) -> None:
    """Delete the training-state files of all but the newest `keep` numbered save points (<epoch>, iter_<n>; by
    time of writing, `newest` being the one just written); their network files stay and load as weights alone.
    The states of `latest` and `best` are not numbered and always stay.
    """
    numbered = [name for name in os.listdir(folder) if NUMBERED_STATE.match(name) and name != state_file(newest)]
    numbered.sort(key=lambda name: os.stat(os.path.join(folder, name)).st_mtime_ns, reverse=True)
    newest_state = state_file(newest)
    if NUMBERED_STATE.match(newest_state) and os.path.isfile(os.path.join(folder, newest_state)):
        numbered.insert(0, newest_state)
    for name in numbered[keep:]:
        os.remove(os.path.join(folder, name))


# network weights ----------------------------------------------------------------------------------------------------

def unwrap_model(net: nn.Module) -> nn.Module:
    """The plain network inside DistributedDataParallel and torch.compile wrappers."""
    while True:
        if isinstance(net, nn.parallel.DistributedDataParallel):
            net = net.module
        elif hasattr(net, "_orig_mod"):
            net = net._orig_mod
        else:
            return net


def plain_state_dict(net: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict of the plain network inside any wrapper, on the CPU: what a network file holds."""
    return {k: v.detach().cpu() for k, v in unwrap_model(net).state_dict().items()}


def clean_state_dict(state_dict: Mapping[str, torch.Tensor], net: nn.Module) -> dict[str, torch.Tensor]:
    """Fix keys of older or wrapped checkpoints for `net`, as the original release's loading did.

    Strips `module.` (DataParallel, DDP) and `_orig_mod.` (torch.compile) prefixes; drops the running statistics
    that PyTorch before 0.4 stored for InstanceNorm layers, which track none; gives batch norms saved before 0.4,
    which had no `num_batches_tracked` counter, a counter of 0 (what PyTorch itself fills in for such files).
    """
    cleaned: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        while key.startswith(WRAPPER_PREFIXES):
            key = key.split(".", 1)[1]
        cleaned[key] = value
    for module_name, module in net.named_modules():
        prefix = f"{module_name}." if module_name else ""
        if isinstance(module, nn.modules.instancenorm._InstanceNorm) and not module.track_running_stats:
            for stat in INSTANCE_NORM_STATS:
                cleaned.pop(prefix + stat, None)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            cleaned.setdefault(prefix + "num_batches_tracked", torch.tensor(0, dtype=torch.long))
    return cleaned


def checked_weights(net: nn.Module, path: str, option_hint: str) -> dict[str, torch.Tensor]:
    """The state dict at `path`, cleaned and checked to fit `net` exactly (UserError naming the options if not)."""
    state_dict = safe_load(path)
    if not isinstance(state_dict, Mapping):
        raise UserError(f"'{path}' holds a {type(state_dict).__name__}, not a network state dict")
    state_dict = clean_state_dict(state_dict, net)
    expected = net.state_dict()
    problems = [f"unexpected {k}" for k in state_dict if k not in expected]
    problems += [f"missing {k}" for k in expected if k not in state_dict]
    problems += [f"{k} has shape {list(v.shape)}, network wants {list(expected[k].shape)}"
                 for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise UserError(f"checkpoint '{path}' does not fit the network built with {option_hint}: {shown}; "
                        "these options probably differ from the run that saved it")
    return state_dict


def read_network_weights(folder: str, suffix: str | int, networks: Mapping[str, nn.Module],
                         option_hints: Mapping[str, str], name_option: tuple[str, str] | None = None
                         ) -> dict[str, dict]:
    """Read and check `<suffix>_net_<name>.pth` for every network, finishing interrupted saves first.

    Nothing is loaded into the networks: every file is read and checked before the caller changes any of them.
    A missing file lists what the folder holds; `name_option` = (base name, option) names the option that picks
    among networks saved as `<base><value>` (("G", "--model_suffix"): one generator of a CycleGAN run's G_A, G_B).
    """
    recover(folder)
    weights = {}
    for name, net in networks.items():
        path = os.path.join(folder, network_file(suffix, name))
        if not os.path.isfile(path):
            raise UserError(missing_weights_message(folder, suffix, name, name_option))
        messages.info(f"loading the network from {path}")
        weights[name] = checked_weights(unwrap_model(net), path, option_hints[name])
    return weights


def missing_weights_message(folder: str, suffix: str | int, name: str,
                            name_option: tuple[str, str] | None = None) -> str:
    """Explain a missing network file and list the save points (or, with `name_option`, the networks) on disk."""
    path = os.path.join(folder, network_file(suffix, name))
    files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    if name_option:
        base, option = name_option
        siblings = re.compile(rf"^{re.escape(str(suffix))}_net_{re.escape(base)}(\w*)\.pth$")
        found = [(f, m.group(1)) for f in files if (m := siblings.match(f))]
        if found:
            choices = " or ".join(f"{option} {value}" if value else f"{option} ''" for _, value in found)
            return f"no checkpoint '{path}'; the run folder has {', '.join(f for f, _ in found)}: pick a generator " \
                   f"with {choices}"
    pattern = re.compile(rf"^(.+)_net_{re.escape(name)}\.pth$")
    saved = [m.group(1) for f in files if (m := pattern.match(f))]
    if not saved:
        shown = ", ".join(files[:8]) + (f" and {len(files) - 8} more" if len(files) > 8 else "")
        holds = f"it holds {shown}" if files else "it is empty" if os.path.isdir(folder) else "it does not exist"
        return (f"no checkpoint '{path}': the run folder has no saved net_{name} ({holds}); "
                "check --name and --checkpoints_dir, or train first")
    choices = ", ".join(f"--load_iter {s[5:]}" if s.startswith("iter_") else f"--epoch {s}" for s in saved)
    return f"no checkpoint '{path}'; this run has: {choices}"
