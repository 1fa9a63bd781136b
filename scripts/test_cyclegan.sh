#!/usr/bin/env bash
# Test the maps CycleGAN of train_cyclegan.sh in both directions; results in ./results/maps_cyclegan/test_latest/.
# Options given to this script are passed on and override the ones below (e.g. --gpu_ids -1 --batch_size 4).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
"$PY" "$ROOT/test.py" --dataroot ./datasets/maps --name maps_cyclegan --model cycle_gan --phase test --no_dropout "$@"
