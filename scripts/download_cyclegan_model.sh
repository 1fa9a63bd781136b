#!/usr/bin/env bash
# Download a published CycleGAN generator (one direction) to ./checkpoints/NAME_pretrained/latest_net_G.pth.
#   bash scripts/download_cyclegan_model.sh NAME [--force]
# Then e.g.: python test.py --dataroot ./datasets/horse2zebra/testA --name horse2zebra_pretrained --model test \
#   --no_dropout
# An existing file is kept unless --force is given. IMG2IMG_BASE_URL overrides the server.
set -euo pipefail
source "$(dirname "$0")/download_common.sh"
NAMES=(apple2orange orange2apple summer2winter_yosemite winter2summer_yosemite horse2zebra zebra2horse monet2photo
       style_monet style_cezanne style_ukiyoe style_vangogh sat2map map2sat cityscapes_photo2label
       cityscapes_label2photo facades_photo2label facades_label2photo iphone2dslr_flower)
NAME="${1:-}"
require_name model "$NAME" "${NAMES[@]}"
"$PY" "$FETCH" file "$BASE_URL/cyclegan/pretrained_models/$NAME.pth" \
    "./checkpoints/${NAME}_pretrained/latest_net_G.pth" "${@:2}"
