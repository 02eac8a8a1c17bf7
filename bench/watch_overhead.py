"""Watch vs plain batch over 1,000 setups of the lab at 50 ms per reply: what saving, comparing and metrics cost.

Reproduce: .venv/bin/python bench/watch_overhead.py [--setups 1000] [--rounds 2] [--jobs 32]
The lab (CA, DNS, SMTP as Microsoft 365, 50 ms before every reply) runs in its own process (bench/lab_server.py).
Each round runs the same setups twice, interleaved: checks.batch.run.run_batch (nothing saved), then one watch
cycle, checks.history.watch.run_cycle (every run saved in a fresh SQLite history, each compared with the setup's
previous run, a Prometheus metrics file written). The first watch cycle of a round finds no previous runs, so
each round runs a second cycle too and both are timed. Target: watch wall time within 1.2x of the batch's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lab_server import LabProcess  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()

    from checks.batch.file import BatchSetup
    from checks.batch.run import run_batch, run_setup
    from checks.history.store import open_store
    from checks.history.watch import run_cycle

    batch_walls, first_cycles, next_cycles, sizes = [], [], [], []
    with LabProcess(args.delay, "m365") as lab, tempfile.TemporaryDirectory(prefix="watch-bench-") as folder:
        environ = {"BENCH_LAB_PASSWORD": lab.settings["password"]}
        values = {k: lab.settings[k] for k in ("profile", "host", "username", "sender", "nameserver", "connect_to",
                                                "ca_file")}
        values.update(password_env="BENCH_LAB_PASSWORD", timeout=10, deadline=120)
        setups = [BatchSetup(f"setup-{i:04d}", dict(values), f"row {i + 2}") for i in range(args.setups)]
        run_setup(setups[0], environ=environ)  # warm-up: imports, first TLS context
        for round_number in range(args.rounds):
            started = time.perf_counter()
            batch = run_batch(setups, jobs=args.jobs, environ=environ)
            batch_walls.append(time.perf_counter() - started)
            assert not batch.problems, [o.report.problems for o in batch.problems][:1]
            database = Path(folder) / f"history-{round_number}.sqlite3"
            store = open_store(f"sqlite:///{database}")
            try:
                for walls in (first_cycles, next_cycles):
                    started = time.perf_counter()
                    cycle = run_cycle(store, setups, environ=environ, jobs=args.jobs,
                                      metrics_file=Path(folder) / "relay.prom")
                    walls.append(time.perf_counter() - started)
                    assert len(cycle.saved) == args.setups and not cycle.batch.problems
            finally:
                store.close()
            sizes.append(database.stat().st_size + sum(p.stat().st_size for p in Path(folder).glob(
                f"{database.name}-*")))
    batch_wall = statistics.mean(batch_walls)
    result = {
        "benchmark": "watch_overhead", "setups": args.setups, "jobs": args.jobs, "reply_delay_s": args.delay,
        "rounds": args.rounds, "batch_wall_s": [round(w, 2) for w in batch_walls],
        "watch_first_cycle_wall_s": [round(w, 2) for w in first_cycles],
        "watch_next_cycle_wall_s": [round(w, 2) for w in next_cycles],
        "ratio_first_cycle": round(statistics.mean(first_cycles) / batch_wall, 3),
        "ratio_next_cycle": round(statistics.mean(next_cycles) / batch_wall, 3),
        "sqlite_bytes_per_run": round(statistics.mean(sizes) / (2 * args.setups)),
        "target_ratio": 1.2, "nproc": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
