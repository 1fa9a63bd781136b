#!/usr/bin/env bash
# Test the colorization model of train_colorization.sh on ./datasets/colorization/test/.
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/test.py" --dataroot ./datasets/colorization --name color_pix2pix --model colorization "$@"
