#!/usr/bin/env bash
# Train pix2pix on facades, label maps -> photos (get the data: bash datasets/download_pix2pix_dataset.sh facades).
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/train.py" --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 \
    --direction BtoA --lambda_L1 100 --dataset_mode aligned --norm batch --pool_size 0 "$@"
