#!/usr/bin/env bash
# CUT and FastCUT quick start: generate the unpaired demo data (datasets/demo_shapes), train a small CUT and a small
# FastCUT on it (CPU, a few minutes each), test them, score each against the known answer (and with FID when the
# Inception weights are on this machine), and print the pages.
# The settings are those of scripts/demo_cyclegan.sh, so the scores compare directly (FastCUT trains twice as many
# epochs, in about the same time).
source "$(dirname "$0")/demo_common.sh"

"$PY" datasets/make_demo_dataset.py --kind unpaired --out datasets
for MODE in ${DEMO_MODES:-CUT FastCUT}; do
    NAME=demo_shapes_$(echo "$MODE" | tr '[:upper:]' '[:lower:]')
    # FastCUT's steps cost less, and its PatchNCE weight (10) makes it slower to learn the colours: twice the epochs
    if [ "$MODE" = FastCUT ]; then EPOCHS=16 DECAY=8; else EPOCHS=8 DECAY=4; fi
    COMMON=(--dataroot datasets/demo_shapes --name "$NAME" --model cut --CUT_mode "$MODE"
            --netG resnet_6blocks --ngf 16 --ndf 16 --load_size 64 --crop_size 64 --num_threads 1)
    "$PY" train.py "${COMMON[@]}" --n_epochs "${DEMO_EPOCHS:-$EPOCHS}" --n_epochs_decay "${DEMO_DECAY:-$DECAY}" \
        --batch_size 4 --lr 0.0005 --display_freq 160 --update_html_freq 160 --print_freq 160 --save_epoch_freq 4
    "$PY" test.py "${COMMON[@]}" --num_test 16
    echo "$MODE:"
    "$PY" scripts/score_demo_shapes.py "results/$NAME/test_latest/images"
    "$PY" scripts/evaluate.py "results/$NAME/test_latest" --metrics fid --skip_unavailable --no_progress
done
echo
for MODE in ${DEMO_MODES:-CUT FastCUT}; do
    NAME=demo_shapes_$(echo "$MODE" | tr '[:upper:]' '[:lower:]')
    echo "$MODE training page: checkpoints/$NAME/web/index.html   results page: results/$NAME/test_latest/index.html"
done
