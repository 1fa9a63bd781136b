"""Measure tiled inference and export backends (the numbers behind models/inference.py and models/export.py).

    python scripts/measure_inference.py tiles --weights checkpoints/demo_shapes_cyclegan/latest_net_G_A.pth \
        --netG resnet_6blocks --ngf 16 --images datasets/demo_shapes/testA     # tiled vs untiled at 1024
    python scripts/measure_inference.py memory --size 4096 --tile 256          # time and peak RSS, fresh process
    python scripts/measure_inference.py backends --sizes 256,1024              # onnxruntime vs PyTorch eager

`tiles`: an image of --size pixels (a mosaic of the images in --images, or a synthetic scene) runs through the
generator whole and in tiles, with thumbnail statistics for each of --thumbnail_sizes and with per-tile statistics.
Reported per setting: mean and max absolute difference from the untiled output in 8-bit levels, and the seam
ratio (mean gradient across tile borders / elsewhere), also divided by the untiled output's ratio at the same
lines. `memory`: one tiled run of resnet_9blocks (ngf 64, instance norm, random weights) in a fresh process;
reports seconds and the process's peak RSS. Like test.py, each run first tunes glibc's malloc (util/allocator.py)
unless --system_malloc is given. `backends`: median seconds per image of resnet_9blocks (ngf 64,
instance norm) in PyTorch eager and in onnxruntime with the same thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from models.generators import ResnetGenerator  # noqa: E402
from models.inference import translate  # noqa: E402
from models.networks import define_G, input_size_multiple  # noqa: E402
from models.tiling import TileGrid, seam_ratio  # noqa: E402
from util.allocator import keep_freed_memory  # noqa: E402


def synthetic_scene(size: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, size, size) in [-1, 1]: slow colour gradients across the image plus blotchy detail."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    base = torch.stack([torch.sin(3 * x), torch.cos(2 * y + x), x * y])
    detail = torch.nn.functional.interpolate(torch.randn(1, 3, size // 16, size // 16, generator=g),
                                             size=(size, size), mode="bicubic", align_corners=False)[0]
    return (0.7 * base + 0.3 * detail).clamp(-1, 1)[None]


def mosaic(folder: str, size: int, cell: int = 128) -> torch.Tensor:
    """(1, 3, size, size) in [-1, 1]: the folder's images (sorted, repeated) resized to `cell` and laid in a grid."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    n = size // cell
    canvas = np.zeros((size, size, 3), np.uint8)
    for i in range(n * n):
        image = Image.open(paths[i % len(paths)]).convert("RGB").resize((cell, cell), Image.BICUBIC)
        canvas[(i // n) * cell:(i // n + 1) * cell, (i % n) * cell:(i % n + 1) * cell] = np.asarray(image)
    return torch.from_numpy(canvas).permute(2, 0, 1)[None].float() / 127.5 - 1


def levels(image: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> 8-bit levels as saved (rounded, clipped), as float."""
    return ((image.float() + 1) * 127.5).round().clamp(0, 255)


def measure_tiles(args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    net = define_G(3, 3, args.ngf, args.netG, args.norm)
    if args.weights:
        net.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
    net.eval()
    multiple = input_size_multiple(args.netG)
    image = mosaic(args.images, args.size) if args.images else synthetic_scene(args.size)
    start = time.perf_counter()
    whole = levels(translate(net, image, multiple))
    result = {"size": args.size, "tile": args.tile, "tile_overlap": args.tile_overlap,
              "untiled_seconds": round(time.perf_counter() - start, 2)}
    grid = TileGrid.build(args.size, args.size, args.tile, args.tile_overlap, align=multiple)
    baseline = seam_ratio(whole, grid)
    result["untiled_seam_ratio"] = round(baseline, 3)
    settings = [("thumbnail", int(size)) for size in args.thumbnail_sizes.split(",")] + [("tile", -1)]
    for mode, thumbnail_size in settings:
        start = time.perf_counter()
        tiled = levels(translate(net, image, multiple, tile=args.tile, tile_overlap=args.tile_overlap,
                                 tile_stats=mode, thumbnail_size=max(thumbnail_size, 0) or None))
        seconds = time.perf_counter() - start
        diff = (tiled - whole).abs()
        ratio = seam_ratio(tiled, grid)
        name = {-1: "stats_tile", 0: "stats_thumbnail_default"}.get(thumbnail_size, f"stats_thumbnail_{thumbnail_size}")
        result[name] = {
            "mean_levels": round(float(diff.mean()), 2), "max_levels": int(diff.max()),
            "seam_ratio": round(ratio, 3), "seam_ratio_vs_untiled": round(ratio / baseline, 3),
            "seconds": round(seconds, 2)}
    return result


def measure_memory(args: argparse.Namespace) -> dict:
    """Run one tiled 4096 image in a fresh interpreter (so its peak RSS is its own) and read back the numbers."""
    if args.inner:
        torch.manual_seed(0)
        net = ResnetGenerator(3, 3, 64, "instance", False, n_blocks=9).eval()
        image = synthetic_scene(args.size)
        start = time.perf_counter()
        out = translate(net, image, 4, tile=args.tile, tile_overlap=args.tile_overlap,
                        tile_batch_size=args.tile_batch_size)
        seconds = time.perf_counter() - start
        assert out.shape[-2:] == image.shape[-2:]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak_mb = usage.ru_maxrss / 1024
        return {"size": args.size, "tile": args.tile, "tile_overlap": args.tile_overlap,
                "tile_batch_size": args.tile_batch_size, "system_malloc": args.system_malloc,
                "seconds": round(seconds, 1),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                "peak_rss_mb": round(peak_mb), "threads": torch.get_num_threads()}
    cmd = [sys.executable, __file__, "memory", "--inner", "--size", str(args.size), "--tile", str(args.tile),
           "--tile_overlap", str(args.tile_overlap), "--tile_batch_size", str(args.tile_batch_size)]
    cmd += ["--system_malloc"] if args.system_malloc else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_backends(args: argparse.Namespace) -> dict:
    import onnxruntime as ort

    from models.export import export_onnx

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = ResnetGenerator(3, 3, 64, "instance", False, n_blocks=9).eval()
    results: dict = {"threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "g.onnx")
        export_onnx(net, path, 3)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for size in (int(s) for s in args.sizes.split(",")):
            x = torch.rand(1, 3, size, size) * 2 - 1
            timings: dict[str, list[float]] = {"eager": [], "onnxruntime": []}
            with torch.inference_mode():
                reference = net(x)
            runners = {"eager": lambda x=x: net(x),
                       "onnxruntime": lambda x=x: session.run(None, {"input": x.numpy()})[0]}
            for _ in range(args.warmup + args.iters):
                for name, run in runners.items():
                    start = time.perf_counter()
                    with torch.inference_mode():
                        out = run()
                    timings[name].append(time.perf_counter() - start)
            diff = float((torch.as_tensor(out) - reference).abs().max())
            results[size] = {name: round(statistics.median(t[args.warmup:]), 3) for name, t in timings.items()}
            results[size]["max_abs_diff"] = diff
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("tiles", "memory", "backends"))
    p.add_argument("--weights", default=None, help="generator weights (.pth); random weights when omitted")
    p.add_argument("--netG", default="resnet_9blocks")
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--norm", default="instance")
    p.add_argument("--images", default=None, help="folder of images for the mosaic (synthetic scene if omitted)")
    p.add_argument("--size", type=int, default=None, help="image side (tiles 1024, memory 4096)")
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--tile_overlap", type=int, default=32)
    p.add_argument("--tile_batch_size", type=int, default=4)
    p.add_argument("--thumbnail_sizes", default="0",
                   help="tiles: comma-separated thumbnail sides to try (0: the default)")
    p.add_argument("--sizes", default="256,1024", help="backends: image sides")
    p.add_argument("--threads", type=int, default=0, help="backends: threads for both (0: PyTorch's default)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--system_malloc", action="store_true",
                   help="keep glibc's default malloc instead of the tuning test.py applies (util/allocator.py)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.system_malloc:
        keep_freed_memory()
    if args.size is None:
        args.size = 4096 if args.what == "memory" else 1024
    result = {"tiles": measure_tiles, "memory": measure_memory, "backends": measure_backends}[args.what](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
