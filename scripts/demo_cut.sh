#!/usr/bin/env bash
# CUT and FastCUT quick start: generate the unpaired demo data (datasets/demo_shapes), train a small CUT and a small
# FastCUT on it (CPU, a few minutes each), test them, score each against the known answer, and print the pages.
# The settings are those of scripts/demo_cyclegan.sh, so the scores compare directly.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3

"$PY" datasets/make_demo_dataset.py --kind unpaired --out datasets
for MODE in ${DEMO_MODES:-CUT FastCUT}; do
    NAME=demo_shapes_$(echo "$MODE" | tr '[:upper:]' '[:lower:]')
    COMMON=(--dataroot datasets/demo_shapes --name "$NAME" --model cut --CUT_mode "$MODE"
            --netG resnet_6blocks --ngf 16 --ndf 16 --load_size 64 --crop_size 64 --num_threads 1)
    "$PY" train.py "${COMMON[@]}" --n_epochs "${DEMO_EPOCHS:-8}" --n_epochs_decay "${DEMO_DECAY:-4}" \
        --batch_size 4 --lr 0.0005 --display_freq 160 --update_html_freq 160 --print_freq 160 --save_epoch_freq 4
    "$PY" test.py "${COMMON[@]}" --num_test 16
    echo "$MODE:"
    "$PY" scripts/score_demo_shapes.py "results/$NAME/test_latest/images"
done
echo
for MODE in ${DEMO_MODES:-CUT FastCUT}; do
    NAME=demo_shapes_$(echo "$MODE" | tr '[:upper:]' '[:lower:]')
    echo "$MODE training page: checkpoints/$NAME/web/index.html   results page: results/$NAME/test_latest/index.html"
done
