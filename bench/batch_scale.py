"""A batch of 200 setups against the lab answering each reply after 50 ms: speed-up over one at a time, memory.

Reproduce: .venv/bin/python bench/batch_scale.py [--setups 200] [--sample 20] [--jobs 16 32]
The lab (CA, DNS, SMTP as Microsoft 365) runs in a separate process (bench/lab_server.py); the batch runs in
this process through checks.batch.run.run_batch (the engine behind `python -m checks batch`).
Baseline: the same setups one at a time (run_setup in a loop) on a sample of --sample setups; its mean per
setup is extrapolated to all --setups (said so in the output: `baseline_extrapolated`).
Peak memory: ru_maxrss of this process (the client only: the lab is another process), read after each batch, and
of the largest worker process when the batch runs in worker processes (--processes; by default what
`python -m checks batch` picks: one per core when there are more setups than --jobs). CPU counts the workers'.
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


def maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", type=int, default=200)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[32, 16])
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--only", help="run only these checks (and what they need), e.g. an older checklist's")
    parser.add_argument("--processes", type=int, default=None,
                        help="worker processes (default: what `python -m checks batch` picks for this batch)")
    args = parser.parse_args()
    only = [part.strip() for part in args.only.split(",")] if args.only else None

    from checks.batch.file import BatchSetup
    from checks.batch.processes import auto_processes, usable_cpus
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
            processes = (auto_processes(args.setups, jobs, usable_cpus()) if args.processes is None
                         else args.processes)
            cpu, children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            batch = run_batch(setups, jobs=jobs, processes=processes, environ=environ, only=only)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            workers_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            problems = [o.name for o in batch.outcomes if o.verdict != "ready"]
            batches.append({"jobs": jobs, "processes": processes, "wall_s": round(wall, 3),
                            "cpu_s": round(time.process_time() - cpu + workers_cpu, 3),
                            "speedup": round(baseline / wall, 1), "setups_per_s": round(args.setups / wall, 1),
                            "setups_with_problems": len(problems), "peak_rss_mb_after": round(maxrss_mb(), 1),
                            "worker_peak_rss_mb": round(maxrss_mb(resource.RUSAGE_CHILDREN), 1)
                            if processes > 1 else None})
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
