#!/usr/bin/env bash
# Train colorization (L -> ab) on colour photos in ./datasets/colorization/train/
# (e.g. bash datasets/download_cyclegan_dataset.sh mini_colorization, then use --dataroot ./datasets/mini_colorization).
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/train.py" --dataroot ./datasets/colorization --name color_pix2pix --model colorization "$@"
