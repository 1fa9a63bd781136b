"""Measure training and inference speed for each precision and compile setting.

    python scripts/benchmark.py                                  # all cases, --amp off and bf16, eager
    python scripts/benchmark.py --cases pix2pix --amp off,bf16 --compile off,on --json bench.json
    python scripts/benchmark.py --peak                           # also: how close to this machine's limit?

Cases: `pix2pix` (default pix2pix: unet_256, basic D, batch norm, 256x256, batch 1), `cycle_gan` (default
CycleGAN: resnet_9blocks, instance norm, 256x256, batch 1), `inference` (one resnet_9blocks generator,
instance norm, in eval mode under inference mode, as test.py runs it; --test_batch_size images at a time) and
`fid_features` (FID/KID feature extraction: torch-fidelity's Inception-v3, random weights, on --test_batch_size
uint8 images of --size pixels at a time, which it resizes to 299x299, as metrics/ runs it). Every
setting runs in a fresh process, so peak memory (RSS on CPU, max_memory_allocated on CUDA) and compile caches are
its own. Like train.py and test.py, each setting first tunes glibc's malloc (util/allocator.py) unless
--system_malloc is given. Reported: median seconds per iteration after warm-up, images per second, peak memory,
and the achieved GFLOP/s (operations of one iteration counted with torch's FlopCounterMode, divided by its time).
With --peak, the best throughput of a plain 3x3 convolution is measured first for each precision, and each row
shows what fraction of it the setting reaches; the case's GFLOP divided by the peak estimates the shortest time any
implementation of the same networks could reach on this device (they are almost all convolutions).
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

CASES = ("pix2pix", "cycle_gan", "inference", "fid_features")
CASE_OPTIONS = {
    "pix2pix": ["--model", "pix2pix"],
    "cycle_gan": ["--model", "cycle_gan"],
    "inference": ["--model", "test", "--netG", "resnet_9blocks", "--norm", "instance", "--no_dropout"],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from: {', '.join(CASES)}")
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
    p.add_argument("--peak", action="store_true",
                   help="also measure this device's best convolution throughput per precision and report how close "
                        "each setting comes to it")
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
        opt = TestOptions().parse(argv, save=False) if case == "inference" else TrainOptions().parse(argv)
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


def resolve_device(args: argparse.Namespace) -> str:
    return "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")


def run_peak(amp: str, args: argparse.Namespace) -> dict:
    """Measure the convolution peak for one precision in this process."""
    device = resolve_device(args)
    return {"case": "peak", "amp": amp, "device": device, "gflops": measure_conv_peak(device, AMP_DTYPES[amp])}


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
            "batch_size": batch, "size": args.size, "s_per_iter": batch / rate,
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
        times = []
        for i in range(args.warmup + args.iters):
            start = time.perf_counter()
            model.set_input(data)
            step()
            if opt.device.type == "cuda":
                torch.cuda.synchronize(opt.device)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        gflop = None if compiled else count_gflop(model, data, step)
    seconds = statistics.median(times)
    if opt.device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(opt.device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return {"case": case, "amp": amp, "compile": compiled, "channels_last": args.channels_last,
            "device": str(opt.device), "batch_size": batch, "size": args.size, "s_per_iter": seconds, "gflop": gflop,
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


def format_table(results: list[dict]) -> str:
    header = (f"{'case':<10} {'amp':<5} {'compile':<8} {'batch':>5} {'s/iter':>8} {'img/s':>7} {'peak MB':>8} "
              f"{'GFLOP/s':>8} {'of peak':>8}  device")
    rows = [header, "-" * len(header)]
    for r in results:
        if "error" in r:
            rows.append(f"{r['case']:<10} {r['amp']:<5} {str(r['compile']):<8} failed: {r['error']}")
            continue
        gflops = f"{r['gflops']:.0f}" if r.get("gflops") else "-"
        of_peak = f"{r['of_peak']:.0%}" if r.get("of_peak") else "-"
        rows.append(f"{r['case']:<10} {r['amp']:<5} {str(r['compile']):<8} {r['batch_size']:>5} "
                    f"{r['s_per_iter']:>8.3f} {r['images_per_s']:>7.2f} {r['peak_memory_mb']:>8.0f} "
                    f"{gflops:>8} {of_peak:>8}  {r['device']}")
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
        result = run_peak(amp, args) if case == "peak" else run_one(case, amp, compiled == "on", args)
        print(json.dumps({**result, "tuned_malloc": tuned_malloc}))
        return
    passthrough = [a for a in argv if not a.startswith("--json")]
    if args.json:
        passthrough = [a for a in passthrough if a != args.json]
    for case in args.cases.split(","):
        if case not in CASES:
            raise UserError(f"unknown case '{case}' in --cases; choose from {', '.join(CASES)}")
    amps = args.amp.split(",")
    peaks = measure_peaks(amps, passthrough) if args.peak else {}
    results = []
    for case in args.cases.split(","):
        for compiled in (c == "on" for c in args.compile.split(",")):
            if compiled and case == "fid_features":
                continue  # the feature extractor always runs eager, as metrics/ runs it
            for amp in amps:
                results.append(run_in_subprocess(case, amp, compiled, passthrough))
                add_throughput(results, peaks)
                print(format_table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"conv_peak_gflops": peaks, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
