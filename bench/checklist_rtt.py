"""One checklist against the lab answering each reply after 50 ms: wall time / (server replies x 50 ms).

Reproduce: .venv/bin/python bench/checklist_rtt.py [--runs 15] [--delay 0.05]
The lab (CA, DNS, SMTP as Microsoft 365) runs in a separate process (bench/lab_server.py); the checklist runs
in this process with the practice settings (lab DNS + connect_to), like tests/conftest.py's lab_settings.
Round trips are counted from the run's own transcript: one per complete server reply (a multi-line reply is
one). A warm-up run is made first and reported apart (cold imports); the figure is the median of --runs.
Target: ratio 1.2 or less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lab_server import LabProcess  # noqa: E402


def server_replies(report) -> int:
    """Complete server replies in the run's transcripts ('S: 250 ...' ends a reply; 'S: 250-...' continues)."""
    count = 0
    for result in report.results:
        for line in result.transcript:
            if line.startswith("S: ") and (len(line) == 6 or line[6] == " "):
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()

    from checks.runner import run_checklist
    from checks.settings.loading import config_from_values

    with LabProcess(args.delay, "m365") as lab:
        values = {k: lab.settings[k] for k in ("profile", "host", "username", "sender", "nameserver", "connect_to",
                                                "ca_file")}
        values.update(password_env="BENCH_LAB_PASSWORD", timeout=5, deadline=30)
        config = config_from_values(values, environ={"BENCH_LAB_PASSWORD": lab.settings["password"]})
        started = time.perf_counter()
        cold_report = run_checklist(config)
        cold = time.perf_counter() - started
        walls, replies, report = [], set(), cold_report
        for _ in range(args.runs):
            started = time.perf_counter()
            report = run_checklist(config)
            walls.append(time.perf_counter() - started)
            replies.add(server_replies(report))
    if report.problems or len(replies) != 1:
        raise SystemExit(f"unexpected run: problems={[r.check_id for r in report.problems]} replies={replies}")
    count = replies.pop()
    ideal = count * args.delay
    median = statistics.median(walls)
    dialogue = [line for r in report.results for line in r.transcript if line.startswith("C: ")]
    result = {
        "benchmark": "checklist_rtt", "runs": args.runs, "reply_delay_s": args.delay, "server_replies": count,
        "client_commands": [line[3:].split(" <")[0] for line in dialogue],
        "checks": [str(r.check_id) for r in report.results],
        "ideal_s": round(ideal, 3), "median_wall_s": round(median, 4), "min_wall_s": round(min(walls), 4),
        "max_wall_s": round(max(walls), 4), "cold_first_run_s": round(cold, 4),
        "ratio": round(median / ideal, 3), "target": 1.2, "nproc": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
