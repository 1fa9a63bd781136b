"""Measure training and inference speed for each precision and compile setting.

    python scripts/benchmark.py                                  # all cases, --amp off and bf16, eager
    python scripts/benchmark.py --cases pix2pix --amp off,bf16 --compile off,on --json bench.json
    python scripts/benchmark.py --peak                           # also: how close to this machine's limit?

    python scripts/benchmark.py --cases cycle_gan,cut,fastcut --amp off --rounds 3   # CUT against CycleGAN

Cases: `pix2pix` (default pix2pix: unet_256, basic D, batch norm, 256x256, batch 1), `cycle_gan` (default
CycleGAN: resnet_9blocks, instance norm, 256x256, batch 1), `cut` and `fastcut` (default CUT and FastCUT:
resnet_9blocks with anti-aliased down- and upsampling, anti-aliased basic D, F with 256 patches per layer, batch
1), `cut_plain` (CUT with --no_antialias --no_antialias_up, to show what anti-aliasing costs) and `inference` (one
resnet_9blocks generator, instance norm, in eval mode under inference mode, as test.py runs it; --test_batch_size
images at a time). Every setting runs in a fresh process, so peak memory (RSS on CPU, max_memory_allocated on CUDA)
and compile caches are its own. Like train.py and test.py, each setting first tunes glibc's malloc
(util/allocator.py) unless --system_malloc is given. Reported: median seconds per iteration after warm-up, the
mean CPU seconds per iteration (all threads of the process; on a shared machine this tracks the work done better
than wall time), images per second, peak memory, and the achieved GFLOP/s (operations of one iteration counted
with torch's FlopCounterMode, divided by its time). Cases other than cycle_gan are also compared with the cycle_gan
run of the same round and settings: mean wall seconds, mean CPU seconds and peak memory as multiples of CycleGAN's
(means, because FastCUT's steps differ: half of them mirror the images and need one more encoder pass).
`--rounds N` repeats every setting N times, interleaved (each round runs every case once), and summarises each
setting by its medians over the rounds, which keeps the comparison fair on a machine whose load changes.
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

CASES = ("pix2pix", "cycle_gan", "cut", "fastcut", "cut_plain", "inference")
DEFAULT_CASES = ("pix2pix", "cycle_gan", "cut", "fastcut", "inference")
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
    options = TestOptions() if case == "inference" else TrainOptions()
    with contextlib.redirect_stdout(io.StringIO()):
        opt = options.parse(argv)
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


def run_one(case: str, amp: str, compiled: bool, args: argparse.Namespace) -> dict:
    """Time one setting in this process."""
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
        if "error" in r or r["case"] in (REFERENCE_CASE, "inference"):
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
        ratio = r.get("vs_cycle_gan")
        versus = (f"{ratio['s_per_iter']:.2f}, {ratio['cpu_s_per_iter']:.2f}, {ratio['peak_memory']:.2f}" if ratio
                  else "-")
        rows.append(f"{r['case']:<10} {r['amp']:<5} {str(r['compile']):<8} {r['batch_size']:>5} "
                    f"{r['s_per_iter']:>8.3f} {r['cpu_s_per_iter']:>8.3f} {r['images_per_s']:>7.2f} "
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
    if args.rounds < 1:
        raise UserError(f"--rounds must be 1 or more, got {args.rounds}")
    results = []
    for round_index in range(args.rounds):
        for case in args.cases.split(","):
            for compiled in (c == "on" for c in args.compile.split(",")):
                for amp in amps:
                    result = run_in_subprocess(case, amp, compiled, passthrough)
                    results.append({**result, "round": round_index})
                    add_throughput(results, peaks)
                    add_reference_ratios(results)
                    print(format_table(results[-1:]).splitlines()[-1], flush=True)
        if args.rounds > 1:  # rows whose CycleGAN ran later in the round get their ratios now
            print(f"round {round_index + 1} of {args.rounds}:")
            print(format_table([r for r in results if r["round"] == round_index]), flush=True)
    summary = summarize_rounds(results) if args.rounds > 1 else results
    print()
    if args.rounds > 1:
        print(f"medians over {args.rounds} interleaved rounds:")
    print(format_table(summary))
    if args.json:
        report = {"conv_peak_gflops": peaks, "results": results, "summary": summary}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
