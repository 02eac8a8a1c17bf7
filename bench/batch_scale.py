"""A batch of 200 setups against the lab answering each reply after 50 ms: speed-up over one at a time, memory.

Reproduce: .venv/bin/python bench/batch_scale.py [--setups 200] [--sample 20] [--jobs 16 32]
The lab (CA, DNS, SMTP as Microsoft 365) runs in a separate process (bench/lab_server.py); the batch runs in
this process through checks.batch.run.run_batch (the engine behind `python -m checks batch`).
Baseline: the same setups one at a time (run_setup in a loop) on a sample of --sample setups; its mean per
setup is extrapolated to all --setups (said so in the output: `baseline_extrapolated`).
Peak memory: ru_maxrss of this process (the client only: the lab is another process), read after each batch.
Targets: speed-up 20x or more, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lab_server import LabProcess  # noqa: E402


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", type=int, default=200)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[32, 16])
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--only", help="run only these checks (and what they need), e.g. an older checklist's")
    args = parser.parse_args()
    only = [part.strip() for part in args.only.split(",")] if args.only else None

    from checks.batch.file import BatchSetup
    from checks.batch.run import run_batch, run_setup

    with LabProcess(args.delay, "m365") as lab:
        environ = {"BENCH_LAB_PASSWORD": lab.settings["password"]}
        values = {k: lab.settings[k] for k in ("profile", "host", "username", "sender", "nameserver", "connect_to",
                                                "ca_file")}
        values.update(password_env="BENCH_LAB_PASSWORD", timeout=10, deadline=120)
        setups = [BatchSetup(f"setup-{i:03d}", dict(values), f"row {i + 2}") for i in range(args.setups)]
        rss_before = maxrss_mb()
        run_setup(setups[0], environ=environ, only=only)  # warm-up: imports, first TLS context
        one_by_one = []
        for setup in setups[: args.sample]:
            started = time.perf_counter()
            outcome = run_setup(setup, environ=environ, only=only)
            one_by_one.append(time.perf_counter() - started)
            assert outcome.verdict == "ready", outcome.report.problems
        per_setup = statistics.mean(one_by_one)
        baseline = per_setup * args.setups
        batches = []
        for jobs in args.jobs:
            cpu = time.process_time()
            started = time.perf_counter()
            batch = run_batch(setups, jobs=jobs, environ=environ, only=only)
            wall = time.perf_counter() - started
            problems = [o.name for o in batch.outcomes if o.verdict != "ready"]
            batches.append({"jobs": jobs, "wall_s": round(wall, 3), "cpu_s": round(time.process_time() - cpu, 3),
                            "speedup": round(baseline / wall, 1), "setups_per_s": round(args.setups / wall, 1),
                            "setups_with_problems": len(problems), "peak_rss_mb_after": round(maxrss_mb(), 1)})
    result = {
        "benchmark": "batch_scale", "only": args.only, "setups": args.setups, "reply_delay_s": args.delay,
        "baseline_sample": args.sample, "baseline_per_setup_s": round(per_setup, 4),
        "baseline_extrapolated_s": round(baseline, 2), "batches": batches,
        "rss_before_mb": round(rss_before, 1), "targets": {"speedup": 20, "peak_rss_mb": 300},
        "nproc": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
