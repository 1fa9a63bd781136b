#!/usr/bin/env bash
# Test the facades pix2pix model of train_pix2pix.sh; results in ./results/facades_pix2pix/test_latest/.
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/test.py" --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 \
    --direction BtoA --dataset_mode aligned --norm batch "$@"
