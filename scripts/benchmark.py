"""Measure training and inference speed for each precision and compile setting.

    python scripts/benchmark.py                                  # all cases, --amp off and bf16, eager
    python scripts/benchmark.py --cases pix2pix --amp off,bf16 --compile off,on --json bench.json
    python scripts/benchmark.py --peak                           # also: how close to this machine's limit?

    python scripts/benchmark.py --cases cycle_gan,cut,fastcut --amp off --rounds 3   # CUT against CycleGAN

Cases: `pix2pix` (default pix2pix: unet_256, basic D, batch norm, 256x256, batch 1), `cycle_gan` (default
CycleGAN: resnet_9blocks, instance norm, 256x256, batch 1), `cut` and `fastcut` (default CUT and FastCUT:
resnet_9blocks with anti-aliased down- and upsampling, anti-aliased basic D, F with 256 patches per layer, batch
1), `cut_plain` (CUT with --no_antialias --no_antialias_up, to show what anti-aliasing costs; not run by default),
`inference` (one resnet_9blocks generator, instance norm, in eval mode under inference mode, as test.py runs it;
--test_batch_size images at a time) and `fid_features` (FID/KID feature extraction: torch-fidelity's Inception-v3,
random weights, on --test_batch_size uint8 images of --size pixels at a time, which it resizes to 299x299, as
metrics/ runs it). Every setting runs in a fresh process, so peak memory (RSS on CPU, max_memory_allocated on CUDA)
and compile caches are its own. Like train.py and test.py, each setting first tunes glibc's malloc
(util/allocator.py) unless --system_malloc is given. Reported: median seconds per iteration after warm-up, the
mean CPU seconds per iteration (all threads of the process; on a shared machine this tracks the work done better
than wall time), images per second, peak memory, and the achieved GFLOP/s (operations of one iteration counted
with torch's FlopCounterMode, divided by its time). The training cases other than cycle_gan are also compared with
the cycle_gan run of the same round and settings: mean wall seconds, mean CPU seconds and peak memory as multiples
of CycleGAN's (means, because FastCUT's steps differ: half of them mirror the images and need one more encoder
pass). `--rounds N` repeats every setting N times, interleaved (each round runs every case once), and summarises
each setting by its medians over the rounds, which keeps the comparison fair on a machine whose load changes.
With --peak, the best throughput of a plain 3x3 convolution is measured first for each precision, and each row
shows what fraction of it the setting reaches; the case's GFLOP divided by the peak estimates the shortest time any
implementation of the same networks could reach on this device (they are almost all convolutions).

Inference measurements (named in --cases, each run once in a fresh process; --amp and --compile do not apply):

    python scripts/benchmark.py --cases tiles --weights checkpoints/demo_shapes_cyclegan/latest_net_G_A.pth \
        --images datasets/demo_shapes/testA          # tiled vs whole at 1024 px, 256-px tiles
    python scripts/benchmark.py --cases large,backends                    # 4096 px in tiles; onnxruntime vs eager

`tiles`: a --tiles_size image (a mosaic of the --images, or a synthetic scene) runs through the generator (--weights,
loaded with its run's options by models/translator.py; random resnet_9blocks otherwise) whole and in --tile tiles
overlapping by --tile_overlap, with thumbnail statistics (the default half-size thumbnail, and a quarter-size one) and
with per-tile statistics. Per setting: mean and max difference from the whole-image output in 8-bit levels, and
the seam ratio (mean gradient across tile borders / elsewhere; 1 = no seam), also relative to the whole-image
output's ratio at the same lines. `large`: one --large_size image through resnet_9blocks (ngf 64, instance norm,
random weights) in --tile tiles: seconds and the process's peak RSS. `backends`: median seconds per image of
resnet_9blocks in PyTorch eager and in onnxruntime (models/export.py) with the same thread count, at --backend_sizes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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

import torch  # noqa: E402

from util.allocator import keep_freed_memory  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402

CASES = ("pix2pix", "cycle_gan", "cut", "fastcut", "cut_plain", "inference", "fid_features")
DEFAULT_CASES = tuple(case for case in CASES if case != "cut_plain")
REFERENCE_CASE = "cycle_gan"  # the other training cases are compared with it
CASE_OPTIONS = {
    "pix2pix": ["--model", "pix2pix"],
    "cycle_gan": ["--model", "cycle_gan"],
    "cut": ["--model", "cut"],
    "fastcut": ["--model", "cut", "--CUT_mode", "FastCUT"],
    "cut_plain": ["--model", "cut", "--no_antialias", "--no_antialias_up"],
    "inference": ["--model", "test", "--netG", "resnet_9blocks", "--norm", "instance", "--no_dropout"],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(DEFAULT_CASES), help=f"comma-separated, from: {', '.join(CASES)}")
    p.add_argument("--amp", default="off,bf16", help="comma-separated precisions: off, bf16, fp16")
    p.add_argument("--compile", default="off", help="comma-separated: off, on")
    p.add_argument("--channels_last", action="store_true", help="use the channels-last memory layout")
    p.add_argument("--system_malloc", action="store_true",
                   help="keep glibc's default malloc instead of the tuning train.py and test.py apply")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--size", type=int, default=256, help="image side")
    p.add_argument("--test_batch_size", type=int, default=8, help="images per inference batch")
    p.add_argument("--warmup", type=int, default=2, help="untimed iterations first (compilation happens here)")
    p.add_argument("--iters", type=int, default=5, help="timed iterations")
    p.add_argument("--rounds", type=int, default=1,
                   help="run every setting this many times, interleaved, and summarise each by its medians")
    p.add_argument("--peak", action="store_true",
                   help="also measure this device's best convolution throughput per precision and report how close "
                        "each setting comes to it")
    p.add_argument("--peak_repeats", type=int, default=8, help="timed calls of each convolution shape for --peak")
    p.add_argument("--weights", default=None,
                   help="tiles: generator weights (.pth; its run's train_opt.json gives the options); random "
                        "resnet_9blocks when omitted")
    p.add_argument("--images", default=None, help="tiles: a folder of images to lay out as a mosaic (default: a "
                                                  "synthetic scene)")
    p.add_argument("--tiles_size", type=int, default=1024, help="tiles: image side")
    p.add_argument("--large_size", type=int, default=4096, help="large: image side")
    p.add_argument("--tile", type=int, default=256, help="tiles, large: tile side")
    p.add_argument("--tile_overlap", type=int, default=32, help="tiles, large: tile overlap")
    p.add_argument("--backend_sizes", default="256,1024", help="backends: comma-separated image sides")
    p.add_argument("--ngf", type=int, default=64, help="tiles, large, backends: filters of the random generator")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: case,amp,compile in this process
    return p.parse_args(argv)


def build_model(case: str, amp: str, compiled: bool, channels_last: bool, device: str, size: int, workdir: str,
                batch: dict):
    """The real model of `case`, set up as train.py / test.py would, without reading any data (`batch` stands in
    for the first one).
    """
    from models import create_model, prepare_to_run
    from options.test_options import TestOptions
    from options.train_options import TrainOptions

    argv = ["--dataroot", workdir, "--checkpoints_dir", workdir, "--name", case, "--amp", amp,
            "--gpu_ids", "-1" if device == "cpu" else "", "--load_size", str(size), "--crop_size", str(size),
            *CASE_OPTIONS[case]]
    argv += ["--compile"] if compiled else []
    argv += ["--channels_last"] if channels_last else []
    with contextlib.redirect_stdout(io.StringIO()):
        opt = TestOptions().parse(argv) if case == "inference" else TrainOptions().parse(argv)
        model = create_model(opt)
        model.data_dependent_initialize(batch)
        model.setup()
        prepare_to_run(model, opt, ddp=False)  # no checkpoint to load: random weights run just as fast
        if case == "inference":
            model.eval()
        else:
            model.train()
    return model, opt


def count_gflop(model, data: dict, step) -> float:
    """Floating-point operations of one more iteration, in GFLOP (a multiply-add counts as two)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model.set_input(data)
        step()
    return counter.get_total_flops() / 1e9


AMP_DTYPES = {"off": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
PEAK_SHAPES = ((256, 64, 1), (256, 64, 4), (512, 32, 4), (128, 128, 1))  # (channels, side, batch) of 3x3 convs


def measure_conv_peak(device: str, dtype: torch.dtype, repeats: int = 8) -> float:
    """Best GFLOP/s of a plain 3x3 convolution on `device` in `dtype`, over a few shapes and both memory layouts.

    This bounds what any implementation of these networks can reach: they are almost all convolutions.
    """
    best = 0.0
    for channels, side, batch in PEAK_SHAPES:
        for layout in (torch.contiguous_format, torch.channels_last):
            conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            conv = conv.to(device=device, dtype=dtype, memory_format=layout)
            x = torch.randn(batch, channels, side, side, device=device, dtype=dtype).contiguous(memory_format=layout)
            flop = 2 * batch * side * side * channels * channels * 9
            with torch.inference_mode():
                for i in range(repeats + 2):
                    start = time.perf_counter()
                    conv(x)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    if i >= 2:  # the first calls pick and prepare kernels
                        best = max(best, flop / (time.perf_counter() - start) / 1e9)
    return best


# inference measurements ---------------------------------------------------------------------------------------------

def synthetic_scene(size: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, size, size) in [-1, 1]: slow colour gradients across the image plus blotchy detail."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    base = torch.stack([torch.sin(3 * x), torch.cos(2 * y + x), x * y])
    detail = torch.nn.functional.interpolate(torch.randn(1, 3, max(size // 16, 1), max(size // 16, 1), generator=g),
                                             size=(size, size), mode="bicubic", align_corners=False)[0]
    return (0.7 * base + 0.3 * detail).clamp(-1, 1)[None]


def mosaic(folder: str, size: int, cell: int = 128) -> torch.Tensor:
    """(1, 3, size, size) in [-1, 1]: the folder's images (sorted, repeated) resized to `cell` and laid in a grid."""
    from PIL import Image

    from data.image_folder import load_image, make_dataset
    from util.util import image_to_tensor

    paths = make_dataset(folder)
    n = max(size // cell, 1)
    canvas = Image.new("RGB", (size, size))
    for i in range(n * n):
        tile = load_image(paths[i % len(paths)]).resize((cell, cell), Image.Resampling.BICUBIC)
        canvas.paste(tile, ((i % n) * cell, (i // n) * cell))
    return image_to_tensor(canvas, 3)


def random_resnet(ngf: int) -> torch.nn.Module:
    """resnet_9blocks with instance norm and fixed random weights, in eval mode."""
    from models.networks import define_G

    torch.manual_seed(0)
    return define_G(3, 3, ngf, "resnet_9blocks", "instance").eval()


def levels(image: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> 8-bit levels as saved (rounded, clipped), as float."""
    return ((image.float() + 1) * 127.5).round().clamp(0, 255)


def measure_tiles(args: argparse.Namespace) -> dict:
    """Tiled against whole-image output: differences and seams for each statistics setting."""
    from models.inference import translate
    from models.networks import input_size_multiple
    from models.tiling import TileGrid, seam_ratio
    from models.translator import load_generator

    if args.weights:
        net, opt = load_generator(args.weights)
        net, netG = net.eval(), opt.netG
    else:
        net, netG = random_resnet(args.ngf), "resnet_9blocks"
    multiple = input_size_multiple(netG)
    size = args.tiles_size
    image = mosaic(args.images, size) if args.images else synthetic_scene(size)
    start = time.perf_counter()
    whole = levels(translate(net, image, multiple))
    result = {"case": "tiles", "netG": netG, "weights": args.weights, "size": size, "tile": args.tile,
              "tile_overlap": args.tile_overlap, "whole_seconds": time.perf_counter() - start}
    grid = TileGrid.build(size, size, args.tile, args.tile_overlap, align=multiple)
    baseline = seam_ratio(whole, grid)
    result["whole_seam_ratio"] = baseline
    settings = {"stats_thumbnail": ("thumbnail", None), "stats_thumbnail_quarter": ("thumbnail", size // 4),
                "stats_tile": ("tile", None)}
    for name, (stats, thumbnail) in settings.items():
        start = time.perf_counter()
        tiled = levels(translate(net, image, multiple, tile=args.tile, tile_overlap=args.tile_overlap,
                                 tile_stats=stats, thumbnail_size=thumbnail))
        seconds = time.perf_counter() - start
        diff = (tiled - whole).abs()
        ratio = seam_ratio(tiled, grid)
        result[name] = {"mean_levels": float(diff.mean()), "max_levels": int(diff.max()), "seam_ratio": ratio,
                        "seam_ratio_vs_whole": ratio / baseline, "seconds": seconds}
    return result


def measure_large(args: argparse.Namespace) -> dict:
    """One large image through resnet_9blocks in tiles: time and this process's peak memory."""
    from models.inference import translate

    net, image = random_resnet(args.ngf), synthetic_scene(args.large_size)
    start = time.perf_counter()
    out = translate(net, image, 4, tile=args.tile, tile_overlap=args.tile_overlap)
    seconds = time.perf_counter() - start
    assert out.shape[-2:] == image.shape[-2:]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"case": "large", "size": args.large_size, "tile": args.tile, "tile_overlap": args.tile_overlap,
            "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_memory_mb": usage.ru_maxrss / 1024, "threads": torch.get_num_threads()}


def measure_backends(args: argparse.Namespace) -> dict:
    """Median seconds per image of resnet_9blocks in PyTorch eager and in onnxruntime, same thread count."""
    import onnxruntime as ort

    from models.export import INPUT_NAME, export_onnx

    net = random_resnet(args.ngf)
    result: dict = {"case": "backends", "threads": torch.get_num_threads(), "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "g.onnx")
        export_onnx(net, path, 3)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for size in (int(s) for s in args.backend_sizes.split(",")):
            x = torch.rand(1, 3, size, size) * 2 - 1
            runners = {"eager": lambda x=x: net(x),
                       "onnxruntime": lambda x=x: session.run(None, {INPUT_NAME: x.numpy()})}
            times: dict[str, list[float]] = {name: [] for name in runners}
            for i in range(args.warmup + args.iters):
                for name, run in runners.items():  # alternate, so that load changes hit both alike
                    start = time.perf_counter()
                    with torch.inference_mode():
                        run()
                    if i >= args.warmup:
                        times[name].append(time.perf_counter() - start)
            with torch.inference_mode():
                diff = float((torch.from_numpy(runners["onnxruntime"]()[0]) - net(x)).abs().max())
            result["sizes"][size] = {**{name: statistics.median(t) for name, t in times.items()}, "max_abs_diff": diff}
    return result


def format_measurement(r: dict) -> str:
    """A few lines for one inference measurement."""
    if "error" in r:
        return f"{r['case']}: failed: {r['error']}"
    if r["case"] == "tiles":
        lines = [f"tiles: {r['netG']} at {r['size']} px, {r['tile']}-px tiles overlapping {r['tile_overlap']} px; "
                 f"whole image {r['whole_seconds']:.1f} s, seam ratio {r['whole_seam_ratio']:.3f}"]
        labels = {"stats_thumbnail": "thumbnail (half size)", "stats_thumbnail_quarter": "thumbnail (quarter size)",
                  "stats_tile": "tile"}
        for name, label in labels.items():
            m = r[name]
            lines.append(f"  --tile_stats {label:<25} mean {m['mean_levels']:.2f} levels, max {m['max_levels']:>3}, "
                         f"seam ratio {m['seam_ratio']:.3f} ({m['seam_ratio_vs_whole']:.3f} of whole), "
                         f"{m['seconds']:.1f} s")
        return "\n".join(lines)
    if r["case"] == "large":
        return (f"large: {r['size']}x{r['size']} resnet_9blocks in {r['tile']}-px tiles: {r['seconds']:.0f} s "
                f"({r['cpu_seconds']:.0f} s CPU, {r['threads']} threads), peak RSS {r['peak_memory_mb']:.0f} MB")
    lines = [f"backends ({r['threads']} threads): median seconds per image"]
    for size, m in r["sizes"].items():
        lines.append(f"  {size}x{size}: eager {m['eager']:.3f} s, onnxruntime {m['onnxruntime']:.3f} s "
                     f"(max difference {m['max_abs_diff']:.1e})")
    return "\n".join(lines)


MEASURE = {"tiles": measure_tiles, "large": measure_large, "backends": measure_backends}


def resolve_device(args: argparse.Namespace) -> str:
    return "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")


def run_peak(amp: str, args: argparse.Namespace) -> dict:
    """Measure the convolution peak for one precision in this process."""
    device = resolve_device(args)
    gflops = measure_conv_peak(device, AMP_DTYPES[amp], args.peak_repeats)
    return {"case": "peak", "amp": amp, "device": device, "gflops": gflops}


def run_fid_features(amp: str, args: argparse.Namespace) -> dict:
    """Time FID feature extraction in this process: images per second of metrics/'s batched Inception-v3."""
    from torch.utils.flop_counter import FlopCounterMode

    from metrics.inception_metrics import extraction_rate, random_inception

    device = resolve_device(args)
    network = random_inception().to(device)  # random weights compute as fast as the real ones
    batch = args.test_batch_size
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rate = extraction_rate(network, size=args.size, batch_size=batch, amp=amp, device=device, batches=args.iters,
                           warmup=args.warmup)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        network(torch.zeros(batch, 3, args.size, args.size, dtype=torch.uint8, device=device))
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": "fid_features", "amp": amp, "compile": False, "channels_last": False, "device": device,
            "batch_size": batch, "size": args.size, "s_per_iter": batch / rate, "mean_s_per_iter": batch / rate,
            "cpu_s_per_iter": None,
            "gflop": counter.get_total_flops() / 1e9, "images_per_s": rate, "peak_memory_mb": peak_mb,
            "iters": args.iters, "threads": torch.get_num_threads()}


def run_one(case: str, amp: str, compiled: bool, args: argparse.Namespace) -> dict:
    """Time one setting in this process."""
    if case == "fid_features":
        return run_fid_features(amp, args)
    device = resolve_device(args)
    with tempfile.TemporaryDirectory() as workdir:
        batch = args.test_batch_size if case == "inference" else 1
        images = torch.rand(batch, 3, args.size, args.size) * 2 - 1
        data = {"A": images, "B": images.flip(-1), "A_paths": [f"{i}.png" for i in range(batch)],
                "B_paths": [f"{i}.png" for i in range(batch)]}
        model, opt = build_model(case, amp, compiled, args.channels_last, device, args.size, workdir, data)
        step = model.test if case == "inference" else model.optimize_parameters
        if opt.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(opt.device)
        times, cpu_times = [], []
        for i in range(args.warmup + args.iters):
            start, cpu_start = time.perf_counter(), time.process_time()
            model.set_input(data)
            step()
            if opt.device.type == "cuda":
                torch.cuda.synchronize(opt.device)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
        gflop = None if compiled else count_gflop(model, data, step)
    seconds = statistics.median(times)
    if opt.device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(opt.device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return {"case": case, "amp": amp, "compile": compiled, "channels_last": args.channels_last,
            "device": str(opt.device), "batch_size": batch, "size": args.size, "s_per_iter": seconds,
            "mean_s_per_iter": statistics.mean(times), "cpu_s_per_iter": statistics.mean(cpu_times), "gflop": gflop,
            "images_per_s": batch / seconds, "peak_memory_mb": peak_mb, "iters": args.iters,
            "threads": torch.get_num_threads()}


def run_in_subprocess(case: str, amp: str, compiled: bool, argv: list[str]) -> dict:
    """Run one setting in a fresh interpreter and read back its result (or its error)."""
    command = [sys.executable, __file__, *argv, "--one", f"{case},{amp},{'on' if compiled else 'off'}"]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        error = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"case": case, "amp": amp, "compile": compiled, "error": error}
    return json.loads(lines[-1])


def add_throughput(results: list[dict], peaks: dict[str, float]) -> None:
    """Add achieved GFLOP/s and, where the peak was measured, the fraction of it and the implied floor time."""
    eager_gflop = {(r["case"], r["batch_size"]): r["gflop"] for r in results if r.get("gflop")}
    for r in results:
        if "error" in r:
            continue
        r["gflop"] = r.get("gflop") or eager_gflop.get((r["case"], r["batch_size"]))  # compiled: same operations
        r["gflops"] = r["gflop"] / r["s_per_iter"] if r["gflop"] else None
        peak = peaks.get(r["amp"])
        r["of_peak"] = r["gflops"] / peak if peak and r["gflops"] else None
        r["floor_s"] = r["gflop"] / peak if peak and r["gflop"] else None


def same_setting(a: dict, b: dict) -> bool:
    return all(a.get(key) == b.get(key) for key in ("amp", "compile", "channels_last", "device", "round"))


def add_reference_ratios(results: list[dict]) -> None:
    """Compare every training case with the cycle_gan run of the same round and settings, once both exist."""
    references = [r for r in results if r["case"] == REFERENCE_CASE and "error" not in r]
    for r in results:
        if "error" in r or r["case"] in (REFERENCE_CASE, "inference", "fid_features"):
            continue
        reference = next((ref for ref in references if same_setting(r, ref)), None)
        if reference is not None:
            r["vs_cycle_gan"] = {
                "s_per_iter": r["mean_s_per_iter"] / reference["mean_s_per_iter"],
                "cpu_s_per_iter": r["cpu_s_per_iter"] / reference["cpu_s_per_iter"],
                "peak_memory": r["peak_memory_mb"] / reference["peak_memory_mb"],
            }


def summarize_rounds(results: list[dict]) -> list[dict]:
    """One row per setting: the median over its rounds of every timing, memory and ratio."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        if "error" not in r:
            groups.setdefault((r["case"], r["amp"], r["compile"]), []).append(r)
    summary = []
    for rows in groups.values():
        row = {**rows[0], "rounds": len(rows)}
        row.pop("round", None)
        for key in ("s_per_iter", "mean_s_per_iter", "cpu_s_per_iter", "images_per_s", "peak_memory_mb", "gflops",
                    "of_peak"):
            values = [r[key] for r in rows if r.get(key) is not None]
            row[key] = statistics.median(values) if values else None
        ratios = [r["vs_cycle_gan"] for r in rows if "vs_cycle_gan" in r]
        if ratios:
            row["vs_cycle_gan"] = {key: statistics.median(ratio[key] for ratio in ratios) for key in ratios[0]}
        summary.append(row)
    return summary + [r for r in results if "error" in r]


def format_table(results: list[dict]) -> str:
    header = (f"{'case':<10} {'amp':<5} {'compile':<8} {'batch':>5} {'s/iter':>8} {'CPU s':>8} {'img/s':>7} "
              f"{'peak MB':>8} {'GFLOP/s':>8} {'of peak':>8}  {'x CycleGAN (s, CPU s, memory)':<30} device")
    rows = [header, "-" * len(header)]
    for r in results:
        if "error" in r:
            rows.append(f"{r['case']:<10} {r['amp']:<5} {str(r['compile']):<8} failed: {r['error']}")
            continue
        gflops = f"{r['gflops']:.0f}" if r.get("gflops") else "-"
        of_peak = f"{r['of_peak']:.0%}" if r.get("of_peak") else "-"
        cpu_seconds = f"{r['cpu_s_per_iter']:.3f}" if r.get("cpu_s_per_iter") is not None else "-"
        ratio = r.get("vs_cycle_gan")
        versus = (f"{ratio['s_per_iter']:.2f}, {ratio['cpu_s_per_iter']:.2f}, {ratio['peak_memory']:.2f}" if ratio
                  else "-")
        rows.append(f"{r['case']:<10} {r['amp']:<5} {str(r['compile']):<8} {r['batch_size']:>5} "
                    f"{r['s_per_iter']:>8.3f} {cpu_seconds:>8} {r['images_per_s']:>7.2f} "
                    f"{r['peak_memory_mb']:>8.0f} {gflops:>8} {of_peak:>8}  {versus:<30} {r['device']}")
    return "\n".join(rows)


def measure_peaks(amps: list[str], passthrough: list[str]) -> dict[str, float]:
    """The convolution peak of each precision, each measured in a fresh process."""
    peaks = {}
    for amp in amps:
        result = run_in_subprocess("peak", amp, False, passthrough)
        if "error" in result:
            print(f"peak {amp}: failed: {result['error']}", flush=True)
            continue
        peaks[amp] = result["gflops"]
        print(f"best 3x3 convolution, {amp}: {peaks[amp]:.0f} GFLOP/s on {result['device']}", flush=True)
    return peaks


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.one:
        case, amp, compiled = args.one.split(",")
        tuned_malloc = not args.system_malloc and keep_freed_memory()  # before anything large is allocated
        if case in MEASURE:
            result = MEASURE[case](args)
        else:
            result = run_peak(amp, args) if case == "peak" else run_one(case, amp, compiled == "on", args)
        print(json.dumps({**result, "tuned_malloc": tuned_malloc}))
        return
    passthrough = [a for a in argv if not a.startswith("--json")]
    if args.json:
        passthrough = [a for a in passthrough if a != args.json]
    for case in args.cases.split(","):
        if case not in CASES + tuple(MEASURE):
            raise UserError(f"unknown case '{case}' in --cases; choose from {', '.join(CASES + tuple(MEASURE))}")
    amps = args.amp.split(",")
    if args.rounds < 1:
        raise UserError(f"--rounds must be 1 or more, got {args.rounds}")
    speed_cases = [case for case in args.cases.split(",") if case in CASES]
    peaks = measure_peaks(amps, passthrough) if args.peak and speed_cases else {}
    results, measurements = [], []
    for case in args.cases.split(","):
        if case in MEASURE:
            measurements.append(run_in_subprocess(case, "off", False, passthrough))
            print(format_measurement(measurements[-1]), flush=True)
    for round_index in range(args.rounds):
        for case in speed_cases:
            for compiled in (c == "on" for c in args.compile.split(",")):
                if compiled and case == "fid_features":
                    continue  # the feature extractor always runs eager, as metrics/ runs it
                for amp in amps:
                    result = run_in_subprocess(case, amp, compiled, passthrough)
                    results.append({**result, "round": round_index})
                    add_throughput(results, peaks)
                    add_reference_ratios(results)
                    print(format_table(results[-1:]).splitlines()[-1], flush=True)
        if args.rounds > 1 and results:  # rows whose CycleGAN ran later in the round get their ratios now
            print(f"round {round_index + 1} of {args.rounds}:")
            print(format_table([r for r in results if r["round"] == round_index]), flush=True)
    summary = summarize_rounds(results) if args.rounds > 1 else results
    if results:
        print()
        if args.rounds > 1:
            print(f"medians over {args.rounds} interleaved rounds:")
        print(format_table(summary))
    if args.json:
        report = {"conv_peak_gflops": peaks, "results": results, "summary": summary, "inference": measurements}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
