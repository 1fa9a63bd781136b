"""Export a trained generator to ONNX or TorchScript, to run it without this framework.

    python scripts/export.py --name demo_shapes_cyclegan --model_suffix _A --format onnx
    python scripts/export.py --name horse2zebra_pretrained --no_dropout --format torchscript --output h2z.pt

The file (by default <run folder>/<epoch>_net_G<model_suffix>.onnx or .pt) takes one float32 input of shape
(N, C, H, W) with values in [-1, 1] (pixel / 127.5 - 1; RGB, or gray for one channel), any N, and H and W that are
multiples of the generator's size multiple (4 for the ResNets, 128 / 256 for unet_128 / unet_256: reflect-pad other
sizes and crop the output back, as models/inference.py does). It returns (N, output_nc, H, W) in [-1, 1]. The
generator is exported in eval mode (test.py's --eval); see models/export.py. The generator's options come from the
run's train_opt.json, or from the flags, as for scripts/translate.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.export import export_generator  # noqa: E402
from models.inference import input_channels  # noqa: E402
from models.networks import input_size_multiple  # noqa: E402
from models.translator import load_generator  # noqa: E402
from options.inference_options import ExportOptions, generator_overrides  # noqa: E402
from util import messages  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    opt = ExportOptions().parse(argv)
    netG, gen_opt = load_generator(opt.run_dir, opt.model_suffix, opt.epoch, opt.load_iter, opt.device,
                                   **generator_overrides(opt))
    multiple = input_size_multiple(gen_opt.netG)
    channels = input_channels(netG) or gen_opt.input_nc
    try:
        os.makedirs(os.path.dirname(os.path.abspath(opt.output)), exist_ok=True)
        export_generator(netG, opt.output, opt.format, channels, example_size=max(256, multiple))
    except OSError as err:
        raise UserError(f"cannot write '{opt.output}': {err.strerror or err}; choose another --output") from None
    messages.info(f"wrote {opt.output} ({opt.format}): input (N, {channels}, H, W) in [-1, 1] with H and W multiples "
                  f"of {multiple}; output (N, C, H, W) in [-1, 1]")


if __name__ == "__main__":
    main()
