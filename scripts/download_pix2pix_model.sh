#!/usr/bin/env bash
# Download a published pix2pix generator to ./checkpoints/NAME_pretrained/latest_net_G.pth.
#   bash scripts/download_pix2pix_model.sh NAME [--force]
# Then e.g.: python test.py --dataroot ./datasets/facades --name facades_label2photo_pretrained --model pix2pix \
#   --netG unet_256 --direction BtoA --dataset_mode aligned --norm batch
# An existing file is kept unless --force is given. IMG2IMG_BASE_URL overrides the server.
set -euo pipefail
source "$(dirname "$0")/download_common.sh"
NAMES=(edges2shoes sat2map map2sat facades_label2photo day2night)
NAME="${1:-}"
require_name model "$NAME" "${NAMES[@]}"
"$PY" "$FETCH" file "$BASE_URL/pix2pix/models-pytorch/$NAME.pth" "./checkpoints/${NAME}_pretrained/latest_net_G.pth" \
    "${@:2}"
