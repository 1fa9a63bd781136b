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
if [ "$NAME" = cityscapes ]; then
    cat <<'TEXT'
The Cityscapes dataset cannot be redistributed here: its licence asks each user to register and download it.
1. Register at https://www.cityscapes-dataset.com and download gtFine_trainvaltest.zip and
   leftImg8bit_trainvaltest.zip; unzip both.
2. Build the dataset (photos in trainA/testA, labels in trainB/testB, 256x256) with:
   python datasets/prepare_cityscapes_dataset.py --gtFine_dir ./gtFine --leftImg8bit_dir ./leftImg8bit \
       --output_dir ./datasets/cityscapes
TEXT
    exit 1
fi
"$PY" "$FETCH" archive "$BASE_URL/cyclegan/datasets/$NAME.zip" "./datasets/$NAME" "${@:2}"
