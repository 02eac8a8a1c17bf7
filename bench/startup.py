"""Start-up cost: `python -m checks --help` time / bare `python -c pass` time, each a fresh process.

Reproduce: .venv/bin/python bench/startup.py [--runs 30]
Runs are interleaved (pass, help, pass, help, ...) after one warm-up each; the figure is the ratio of medians.
Uses hyperfine when it is installed (`--hyperfine`), else times the runs itself. Target: 3 or less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from recording import shown  # noqa: E402


def run(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--hyperfine", action="store_true", help="measure with hyperfine instead")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    bare, helped = [sys.executable, "-c", "pass"], [sys.executable, "-m", "checks", "--help"]
    if args.hyperfine and shutil.which("hyperfine"):
        out = ROOT / "bench" / ".hyperfine.json"
        subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(args.runs), "--export-json", str(out),
                        " ".join(bare), " ".join(helped)], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        medians = [r["median"] for r in json.loads(out.read_text())["results"]]
        out.unlink()
        tool = "hyperfine"
    else:
        run(bare, env), run(helped, env)
        timings: dict[str, list[float]] = {"bare": [], "help": []}
        for _ in range(args.runs):
            timings["bare"].append(run(bare, env))
            timings["help"].append(run(helped, env))
        medians = [statistics.median(timings["bare"]), statistics.median(timings["help"])]
        tool = "perf_counter around subprocess.run"
    result = {"benchmark": "startup", "runs": args.runs, "tool": tool,
              "python_c_pass_median_s": round(medians[0], 4), "checks_help_median_s": round(medians[1], 4),
              "ratio": round(medians[1] / medians[0], 2), "target": 3, "nproc": os.cpu_count(),
              "commands": [shown(bare), shown(helped)]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
