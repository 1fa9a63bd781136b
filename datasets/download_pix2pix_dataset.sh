#!/usr/bin/env bash
# Download a pix2pix dataset into ./datasets/NAME (A|B image pairs in train/, val/, test/).
#   bash datasets/download_pix2pix_dataset.sh NAME [--force]
# An existing ./datasets/NAME is kept unless --force is given. IMG2IMG_BASE_URL overrides the server.
set -euo pipefail
source "$(dirname "$0")/../scripts/download_common.sh"
NAMES=(facades cityscapes maps edges2shoes edges2handbags night2day)
NAME="${1:-}"
require_name dataset "$NAME" "${NAMES[@]}"
[ "$NAME" = cityscapes ] && cityscapes_instructions "aligned pix2pix dataset (photo | label, 256x256)"
"$PY" "$FETCH" archive "$BASE_URL/pix2pix/datasets/$NAME.tar.gz" "./datasets/$NAME" "${@:2}"
