#!/usr/bin/env bash
# Run every benchmark and keep each one's JSON output in bench/results/ (see bench/README.md).
# Usage: bash bench/run_all.sh      (from the project root or anywhere; takes about 10 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
mkdir -p bench/results
{ date -u +%Y-%m-%dT%H:%M:%SZ; echo "nproc $(nproc)"; uname -srm; "$PY" --version; } > bench/results/machine.txt
for bench in checklist_rtt swaks_ratio batch_scale startup postfix_swaks watch_overhead history_latest; do
  echo "== $bench" >&2
  "$PY" "bench/$bench.py" | tee "bench/results/$bench.json"
done
