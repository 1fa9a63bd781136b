#!/usr/bin/env bash
# Download a CycleGAN dataset into ./datasets/NAME (unpaired images in trainA/, trainB/, testA/, testB/).
#   bash datasets/download_cyclegan_dataset.sh NAME [--force]
# An existing ./datasets/NAME is kept unless --force is given. IMG2IMG_BASE_URL overrides the server.
set -euo pipefail
source "$(dirname "$0")/../scripts/download_common.sh"
NAMES=(apple2orange summer2winter_yosemite horse2zebra monet2photo cezanne2photo ukiyoe2photo vangogh2photo maps
       cityscapes facades iphone2dslr_flower ae_photos mini mini_pix2pix mini_colorization)
NAME="${1:-}"
require_name dataset "$NAME" "${NAMES[@]}"
[ "$NAME" = cityscapes ] && cityscapes_instructions "dataset (photos in trainA/testA, labels in trainB/testB, 256x256)"
"$PY" "$FETCH" archive "$BASE_URL/cyclegan/datasets/$NAME.zip" "./datasets/$NAME" "${@:2}"
