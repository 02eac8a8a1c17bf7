"""`history --latest` over a store of 100,000 runs: the newest run of each setup, on SQLite.

Reproduce: .venv/bin/python bench/history_latest.py [--runs 100000] [--setups 1000] [--repeat 15]
Builds a throwaway SQLite history: --setups setups with --runs runs in all, each row a real report of the lab
(Microsoft 365 basic auth, every check run, transcripts kept) saved through RunStore.save_many with its own run id
and time. Then times, median of --repeat: RunStore.runs(RunFilter(latest=True, limit=0)) in this process, and the
whole command `python -m checks history --latest --limit 0 --format json` as a fresh process (start-up included).
Also reports the database size per run. Target: the listing under 200 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lab_server import LabProcess  # noqa: E402
from recording import shown  # noqa: E402

CHUNK = 2000


def lab_report():
    """One real report from the lab (the rows are copies of it with their own id and time)."""
    from checks.runner import run_checklist
    from checks.settings.loading import config_from_values

    with LabProcess(0.0, "m365") as lab:
        values = {k: lab.settings[k] for k in ("profile", "host", "username", "sender", "password", "nameserver",
                                                "connect_to", "ca_file")}
        return run_checklist(config_from_values(values))


def fill(store, report, *, runs: int, setups: int) -> float:
    started = time.perf_counter()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for first in range(0, runs, CHUNK):
        items = []
        for number in range(first, min(runs, first + CHUNK)):
            moment = start + dt.timedelta(minutes=number)
            copy = dataclasses.replace(report, run_id=f"{number:012x}", started_at=moment, finished_at=moment)
            items.append((copy, {"setup": f"customer-{number % setups:05d}", "source": "watch"}))
        store.save_many(items)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--setups", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from checks.history.store import RunFilter, open_store
    from checks.report.export import to_json

    report = lab_report()
    with tempfile.TemporaryDirectory(prefix="history-bench-") as folder:
        database = Path(folder) / "history.sqlite3"
        url = f"sqlite:///{database}"
        store = open_store(url)
        fill_seconds = fill(store, report, runs=args.runs, setups=args.setups)
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        in_process = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            latest = store.runs(RunFilter(latest=True, limit=0))
            in_process.append(time.perf_counter() - started)
        assert len(latest) == args.setups and latest[0].run_id == f"{args.runs - 1:012x}"
        store.close()
        command = [sys.executable, "-m", "checks", "history", "--latest", "--limit", "0", "--format", "json",
                   "--db", url]
        processes = []
        for _ in range(max(3, args.repeat // 3)):
            started = time.perf_counter()
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
            processes.append(time.perf_counter() - started)
        assert len(json.loads(result.stdout)["runs"]) == args.setups
        size = database.stat().st_size
    result = {
        "benchmark": "history_latest", "runs": args.runs, "setups": args.setups,
        "fill_s": round(fill_seconds, 1), "fill_runs_per_s": round(args.runs / fill_seconds),
        "latest_in_process_ms": round(statistics.median(in_process) * 1000, 1),
        "latest_in_process_min_ms": round(min(in_process) * 1000, 1),
        "latest_command_ms": round(statistics.median(processes) * 1000, 1),
        "command": shown(command, {url: "sqlite:///<100,000-run history>"}),
        "report_json_bytes": len(to_json(report, compact=True)),
        "database_bytes": size, "bytes_per_run": round(size / args.runs), "target_ms": 200, "nproc": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
