#!/usr/bin/env bash
# The first run: generate the bundled demo data, train a small pix2pix on it (CPU, a few minutes), test it, print
# its metrics (L1, PSNR, SSIM; FID too when the Inception weights are on this machine) and where the pages are.
source "$(dirname "$0")/demo_common.sh"

"$PY" datasets/make_demo_dataset.py --kind paired --out datasets
COMMON=(--dataroot datasets/demo_facades --name demo_facades_pix2pix --model pix2pix --direction AtoB
        --netG unet_128 --ngf 16 --ndf 16 --load_size 143 --crop_size 128 --num_threads 2)
"$PY" train.py "${COMMON[@]}" --n_epochs "${DEMO_EPOCHS:-10}" --n_epochs_decay "${DEMO_DECAY:-5}" \
    --batch_size 4 --lr 0.0004 --display_freq 100 --update_html_freq 100 --print_freq 100 --save_epoch_freq 5 \
    --keep_state 0  # only latest keeps its training state: about 68 MB of checkpoints
"$PY" test.py "${COMMON[@]}" --load_size 128 --num_test 20
echo
"$PY" scripts/evaluate.py results/demo_facades_pix2pix/test_latest --metrics fid,l1,psnr,ssim --skip_unavailable \
    --no_progress
echo
echo "training page: checkpoints/demo_facades_pix2pix/web/index.html"
echo "results page:  results/demo_facades_pix2pix/test_latest/index.html"
