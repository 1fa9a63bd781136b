#!/usr/bin/env bash
# Run one direction of a trained model over a folder of single images (here facades label maps in testB/)
# with --model test; it loads latest_net_G.pth of the run (a pix2pix run, or a pretrained download).
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/test.py" --dataroot ./datasets/facades/testB/ --name facades_pix2pix --model test --netG unet_256 \
    --direction BtoA --dataset_mode single --norm batch "$@"
