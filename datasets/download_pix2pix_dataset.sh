#!/usr/bin/env bash
# Download a pix2pix dataset into ./datasets/NAME (A|B image pairs in train/, val/, test/).
#   bash datasets/download_pix2pix_dataset.sh NAME [--force]
# An existing ./datasets/NAME is kept unless --force is given. IMG2IMG_BASE_URL overrides the server.
set -euo pipefail
source "$(dirname "$0")/../scripts/download_common.sh"
NAMES=(facades cityscapes maps edges2shoes edges2handbags night2day)
NAME="${1:-}"
require_name dataset "$NAME" "${NAMES[@]}"
if [ "$NAME" = cityscapes ]; then
    cat <<'TEXT'
The Cityscapes dataset cannot be redistributed here: its licence asks each user to register and download it.
1. Register at https://www.cityscapes-dataset.com and download gtFine_trainvaltest.zip and
   leftImg8bit_trainvaltest.zip; unzip both.
2. Build the aligned pix2pix dataset (photo | label, 256x256) with:
   python datasets/prepare_cityscapes_dataset.py --gtFine_dir ./gtFine --leftImg8bit_dir ./leftImg8bit \
       --output_dir ./datasets/cityscapes
TEXT
    exit 1
fi
"$PY" "$FETCH" archive "$BASE_URL/pix2pix/datasets/$NAME.tar.gz" "./datasets/$NAME" "${@:2}"
