"""Save points: a run's network files and its training-state file, written and read as one consistent set.

A save point `<suffix>` is `<suffix>_net_<name>.pth` for each network (plain state dicts, the original release's
names) plus `<suffix>_train_state.pth` (see util/resume.py). Writing one:

1. every file is written to `<final name>.pending` (temporary file, fsync, rename: never half a file);
2. the state file's pending copy, written last, carries a digest of each network file: it is the commit record;
3. the pending files are renamed to their final names, the state file last.

A crash before step 2 leaves the previous save point untouched (its stray pending files are dropped on the next
save or load); a crash after it is finished on the next load. Either way the files that load belong together.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

from util.checkpoint import atomic_save, fsync_dir, safe_load
from util.errors import UserError

PENDING = ".pending"


def network_file(suffix: str | int, name: str) -> str:
    return f"{suffix}_net_{name}.pth"


def state_file(suffix: str | int) -> str:
    return f"{suffix}_train_state.pth"


def file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_writable(folder: str) -> None:
    """Raise UserError unless files can be created in `folder` (made if missing)."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, f".write_test_{os.getpid()}")
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.remove(probe)
    except OSError as err:
        raise UserError(f"the checkpoints folder '{folder}' is not writable ({err.strerror or err}); "
                        "fix its permissions or choose another --checkpoints_dir") from err


def write_save_point(folder: str, suffix: str | int, networks: dict[str, dict[str, Any]],
                     state: dict[str, Any]) -> None:
    """Write the network state dicts and `state` (plus a manifest of the network files) as one save point.

    A failed write (disk full, permissions) raises UserError and leaves the previous save point as it was.
    """
    finish_interrupted_save(folder, suffix)
    written: list[str] = []
    try:
        manifest = {}
        for name, weights in networks.items():
            pending = os.path.join(folder, network_file(suffix, name)) + PENDING
            atomic_save(weights, pending)
            written.append(pending)
            manifest[network_file(suffix, name)] = file_digest(pending)
        atomic_save({**state, "manifest": manifest}, os.path.join(folder, state_file(suffix)) + PENDING)
    except OSError as err:
        for path in written:
            os.remove(path)
        raise UserError(f"cannot save checkpoint '{suffix}' in '{folder}': {err.strerror or err}; the previous "
                        "save is intact; free disk space or fix permissions, then resume with --continue_train"
                        ) from err
    finish_interrupted_save(folder, suffix)


def finish_interrupted_save(folder: str, suffix: str | int) -> None:
    """Complete a save point whose commit record exists; drop the pending files of one that never got that far
    and the temporary files of writes that a crash cut short.
    """
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if name.startswith(".tmp_") and name.endswith(".pth"):
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
            print(f"warning: cannot finish the interrupted save '{suffix}' in '{folder}' ({err.strerror or err}); "
                  "loading the previous complete save", file=sys.stderr)


def read_state(folder: str, suffix: str | int, network_names: list[str]) -> dict[str, Any] | None:
    """The training state of save point `suffix`, checked against its network files; None when there is none."""
    path = os.path.join(folder, state_file(suffix))
    if not os.path.isfile(path):
        return None
    state = safe_load(path)
    if not isinstance(state, dict) or not isinstance(state.get("manifest"), dict):
        raise UserError(f"'{path}' is not a training-state file of this framework; delete it to resume from the "
                        "weights alone")
    manifest = state["manifest"]
    expected = {network_file(suffix, name) for name in network_names}
    if set(manifest) != expected:
        raise UserError(f"'{path}' belongs to a model with networks {sorted(manifest)}, this one has "
                        f"{sorted(expected)}; check --model and --name")
    for name, digest in manifest.items():
        if file_digest(os.path.join(folder, name)) != digest:
            raise UserError(f"'{name}' was changed after '{path}' was saved, so they no longer belong together; "
                            "delete the state file to resume from the weights alone")
    return state
