"""Mean L1 error between generated and target images over an aligned test split, e.g. to compare precisions.

    python scripts/test_l1.py --dataroot datasets/demo_facades --name RUN --model pix2pix [options as for test.py]

Prints one line: `L1 <value>` (images in [-1, 1], averaged over all pixels of all --num_test images).
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from data import create_dataset  # noqa: E402
from models import create_model, setup_for_test  # noqa: E402
from options.test_options import TestOptions  # noqa: E402
from util.errors import exit_on_user_error  # noqa: E402


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        opt = TestOptions().parse(argv)
        dataset = create_dataset(opt)
        model = create_model(opt)
        setup_for_test(model, opt, dataset.first_batch())
    total, count = 0.0, 0
    for batch in dataset:
        if count >= opt.num_test:
            break
        model.set_input(batch)
        model.test()
        visuals = model.get_current_visuals()
        fake, real = visuals["fake_B"].float(), visuals["real_B"].float()
        total += (fake - real).abs().mean(dim=(1, 2, 3)).sum().item()
        count += len(fake)
    print(f"L1 {total / max(count, 1):.5f}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
