"""Build the Cityscapes datasets (pix2pix and CycleGAN layouts) from the official download.

    python datasets/prepare_cityscapes_dataset.py --gtFine_dir ./gtFine --leftImg8bit_dir ./leftImg8bit \
        --output_dir ./datasets/cityscapes

Get gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip from https://www.cityscapes-dataset.com (free
registration, under its licence) and unzip them. For the train and val splits (val becomes test), each photo
<city>_<seq>_<frame>_leftImg8bit.png and its colour label map <city>_<seq>_<frame>_gtFine_color.png are resized
to 256x256 and written as
    <output_dir>/<train|test>/<i>.jpg       photo | label side by side (pix2pix, --direction AtoB: photo->label)
    <output_dir>/<train|test>A/<i>_A.jpg    photo  (CycleGAN domain A)
    <output_dir>/<train|test>B/<i>_B.jpg    label  (CycleGAN domain B)
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from util.errors import UserError, exit_on_user_error  # noqa: E402

SIZE = 256
SPLITS = {"train": "train", "val": "test"}
PHOTO_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_color.png"


def frames(folder: str, split: str, suffix: str) -> dict[str, str]:
    """<city>_<seq>_<frame> -> path, for every file of the split (one subfolder per city)."""
    paths = glob.glob(os.path.join(folder, split, "*", "*" + suffix))
    return {os.path.basename(p)[: -len(suffix)]: p for p in paths}


def save_jpeg(image: Image.Image, path: str) -> None:
    image.save(path, format="JPEG", quality=100, subsampling=0)


def prepare_split(gt_dir: str, photo_dir: str, out_dir: str, split: str) -> int:
    """Write one split in both layouts; every photo needs its label map and the other way round."""
    labels, photos = frames(gt_dir, split, LABEL_SUFFIX), frames(photo_dir, split, PHOTO_SUFFIX)
    if not labels and not photos:
        return 0
    lonely = sorted(set(labels) ^ set(photos))
    if lonely:
        raise UserError(f"{len(lonely)} {split} frame(s) lack a photo or a label map: {', '.join(lonely[:10])}")
    name = SPLITS[split]
    for sub in (name, name + "A", name + "B"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    for i, key in enumerate(sorted(photos)):
        photo = Image.open(photos[key]).convert("RGB").resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        label = Image.open(labels[key]).convert("RGB").resize((SIZE, SIZE), Image.Resampling.NEAREST)
        pair = Image.new("RGB", (2 * SIZE, SIZE))
        pair.paste(photo, (0, 0))
        pair.paste(label, (SIZE, 0))
        save_jpeg(pair, os.path.join(out_dir, name, f"{i}.jpg"))
        save_jpeg(photo, os.path.join(out_dir, name + "A", f"{i}_A.jpg"))
        save_jpeg(label, os.path.join(out_dir, name + "B", f"{i}_B.jpg"))
    print(f"{split} -> {name}: {len(photos)} frames")
    return len(photos)


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gtFine_dir", required=True, help="the unzipped gtFine folder (has train/, val/)")
    parser.add_argument("--leftImg8bit_dir", required=True, help="the unzipped leftImg8bit folder")
    parser.add_argument("--output_dir", default="./datasets/cityscapes", help="where the datasets go")
    args = parser.parse_args(argv)
    for folder, option in ((args.gtFine_dir, "--gtFine_dir"), (args.leftImg8bit_dir, "--leftImg8bit_dir")):
        if not os.path.isdir(folder):
            raise UserError(f"{option} {folder} is not a folder; unzip the Cityscapes download first")
    total = sum(prepare_split(args.gtFine_dir, args.leftImg8bit_dir, args.output_dir, s) for s in SPLITS)
    if total == 0:
        raise UserError(f"no *{PHOTO_SUFFIX} / *{LABEL_SUFFIX} files under train/ or val/ of the given folders")
    print(f"wrote {total} frames to {args.output_dir}")


if __name__ == "__main__":
    main()
