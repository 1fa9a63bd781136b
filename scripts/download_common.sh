# Shared by the download scripts (sourced, not run). Defines:
#   BASE_URL   the download server: $IMG2IMG_BASE_URL, else the original release's server
#   PY         a Python 3 interpreter: $PYTHON, else the repository's .venv, else python3
#   FETCH      scripts/fetch.py (download to a temporary file, check the archive, extract, move into place)
#   require_name KIND NAME VALID...   exit 2 with the valid names unless NAME is one of them
#   cityscapes_instructions LAYOUT    explain how to get Cityscapes under its licence, then exit 1
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_URL="${IMG2IMG_BASE_URL:-http://efrosgans.eecs.berkeley.edu}"
BASE_URL="${BASE_URL%/}"
PY="${PYTHON:-$REPO_ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
FETCH="$REPO_ROOT/scripts/fetch.py"

require_name() {
    local kind=$1 name=$2
    shift 2
    local valid
    for valid in "$@"; do
        [ "$name" = "$valid" ] && return 0
    done
    if [ -z "$name" ]; then
        echo "error: name a $kind" >&2
    else
        echo "error: unknown $kind '$name'" >&2
    fi
    echo "valid names: $*" >&2
    exit 2
}

cityscapes_instructions() {
    cat <<TEXT
The Cityscapes dataset cannot be redistributed here: its licence asks each user to register and download it.
1. Register at https://www.cityscapes-dataset.com and download gtFine_trainvaltest.zip and
   leftImg8bit_trainvaltest.zip; unzip both.
2. Build the $1 with:
   python datasets/prepare_cityscapes_dataset.py --gtFine_dir ./gtFine --leftImg8bit_dir ./leftImg8bit \\
       --output_dir ./datasets/cityscapes
TEXT
    exit 1
}
