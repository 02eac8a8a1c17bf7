#!/usr/bin/env bash
# Set up (first run) and start the relay console; it opens on the built-in practice lab, no network needed.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m console "$@"
