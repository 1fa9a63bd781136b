#!/usr/bin/env bash
# The first run: generate the bundled demo data, train a small pix2pix on it (CPU, a few minutes), test it, print
# its metrics (L1, PSNR, SSIM; FID too when the Inception weights are on this machine) and where the pages are.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
# PyTorch's compute threads wait on each other when other work holds some of the cores (a run then takes several
# times longer): use the cores that are free now, unless OMP_NUM_THREADS is set.
if [ -z "${OMP_NUM_THREADS:-}" ]; then
    OMP_NUM_THREADS=$("$PY" -c 'from util.threads import free_cores; print(free_cores())' 2>/dev/null || echo 1)
    export OMP_NUM_THREADS
fi
echo "compute threads: $OMP_NUM_THREADS (set OMP_NUM_THREADS to choose)"

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
