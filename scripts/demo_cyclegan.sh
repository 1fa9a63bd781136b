#!/usr/bin/env bash
# CycleGAN quick start: generate the unpaired demo data (datasets/demo_shapes), train a small CycleGAN on it (CPU,
# a few minutes), test it, score it against the known answer (and with FID when the Inception weights are on this
# machine), and print where the pages are.
source "$(dirname "$0")/demo_common.sh"

"$PY" datasets/make_demo_dataset.py --kind unpaired --out datasets
COMMON=(--dataroot datasets/demo_shapes --name demo_shapes_cyclegan --model cycle_gan
        --netG resnet_6blocks --ngf 16 --ndf 16 --load_size 64 --crop_size 64 --num_threads 1)
"$PY" train.py "${COMMON[@]}" --n_epochs "${DEMO_EPOCHS:-8}" --n_epochs_decay "${DEMO_DECAY:-4}" \
    --batch_size 4 --lr 0.0005 --display_freq 160 --update_html_freq 160 --print_freq 160 --save_epoch_freq 4
"$PY" test.py "${COMMON[@]}" --num_test 16
"$PY" scripts/score_demo_shapes.py results/demo_shapes_cyclegan/test_latest/images
"$PY" scripts/evaluate.py results/demo_shapes_cyclegan/test_latest --metrics fid --skip_unavailable --no_progress
echo
echo "training page: checkpoints/demo_shapes_cyclegan/web/index.html"
echo "results page:  results/demo_shapes_cyclegan/test_latest/index.html"
