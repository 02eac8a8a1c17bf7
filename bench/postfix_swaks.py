"""Same STARTTLS + AUTH PLAIN dialogue by us and by swaks against real Postfix + Dovecot, 50 ms per server reply.

Reproduce (as root, after `bash scripts/real-servers.sh --install-only` and the swaks packages below):
    .venv/bin/python bench/postfix_swaks.py [--runs 15] [--delay 0.05]
The real-server suite's Postfix (submission listener: STARTTLS + Dovecot SASL) and dnsmasq start from a temporary
directory; a proxy on loopback holds every chunk Postfix sends for --delay seconds. Both sides are fresh processes,
interleaved run by run, median of --runs each:
  ours : python -m checks run --profile custom --only auth.credentials --nameserver <dnsmasq> --connect-to <proxy>
  swaks: swaks --tls --tls-verify --auth PLAIN --quit-after AUTH --server <proxy>
Target: ours / swaks 1.0 or less. Also reported: each of our checks' median duration.
Needs swaks: apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from delay_proxy import DelayProxy  # noqa: E402
from recording import shown  # noqa: E402

from lab.real_servers import (  # noqa: E402
    LOOPBACK,
    RELAY_HOST,
    USERNAME,
    Listener,
    Processes,
    missing_prerequisites,
    start_all,
)

PASSWORD_VAR = "BENCH_REAL_PASSWORD"


def commands(*, nameserver: str, proxy_port: int, ca_file: str, password: str) -> tuple[list[str], list[str]]:
    ours = [sys.executable, "-m", "checks", "run", "--profile", "custom", "--host", RELAY_HOST, "--port", "587",
            "--security", "starttls", "--username", USERNAME, "--sender", USERNAME, "--password-env", PASSWORD_VAR,
            "--nameserver", nameserver, "--connect-to", f"{LOOPBACK}:{proxy_port}", "--ca-file", ca_file,
            "--timeout", "5", "--only", "auth.credentials", "--format", "json"]
    swaks = ["swaks", "--server", LOOPBACK, "--port", str(proxy_port), "--tls", "--tls-verify", "--tls-ca-path",
             ca_file, "--tls-sni", RELAY_HOST, "--auth", "PLAIN", "--auth-user", USERNAME, "--auth-password",
             password, "--quit-after", "AUTH", "--helo", "relay-console.invalid", "--from", USERNAME,
             "--to", USERNAME]
    return ours, swaks


def timed(command: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    problem = missing_prerequisites() or (None if shutil.which("swaks") else "swaks is not installed")
    if problem:
        print(json.dumps({"benchmark": "postfix_swaks", "skipped": problem}))
        return

    root = Path(tempfile.mkdtemp(prefix="rsb-"))
    processes = Processes(root)
    try:
        servers = start_all(root, processes)
        proxy = DelayProxy((LOOPBACK, servers.ports[Listener.SUBMISSION]), delay=args.delay)
        ours_cmd, swaks_cmd = commands(nameserver=servers.nameserver, proxy_port=proxy.port,
                                       ca_file=str(servers.ca_file), password=servers.password)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env[PASSWORD_VAR] = servers.password
        timed(ours_cmd, env), timed(swaks_cmd, env)  # warm the page cache for both
        ours, theirs, per_check = [], [], {}
        for _ in range(args.runs):
            seconds, done = timed(ours_cmd, env)
            if done.returncode != 0:
                raise SystemExit(f"our run failed ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-500:]}")
            ours.append(seconds)
            for result in json.loads(done.stdout)["results"]:
                per_check.setdefault(result["check_id"], []).append(result["duration_ms"])
            seconds, done = timed(swaks_cmd, env)
            if done.returncode != 0:
                raise SystemExit(f"swaks failed ({done.returncode}): {done.stdout[-800:]}{done.stderr[-300:]}")
            theirs.append(seconds)
        proxy.stop()
        replacements = {servers.password: "***", str(servers.ca_file): "<ca.pem>",
                        servers.nameserver: "<dnsmasq>", f"{LOOPBACK}:{proxy.port}": "<proxy>",
                        f"--port {proxy.port}": "--port <proxy>"}
    finally:
        processes.stop()
        shutil.rmtree(root, ignore_errors=True)

    ours_median, swaks_median = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({
        "benchmark": "postfix_swaks", "runs": args.runs, "reply_delay_s": args.delay,
        "ours_process_median_s": round(ours_median, 4), "swaks_process_median_s": round(swaks_median, 4),
        "ratio_process_vs_process": round(ours_median / swaks_median, 3),
        "our_check_median_ms": {check: statistics.median(values) for check, values in per_check.items()},
        "ours_command": shown(ours_cmd, replacements), "swaks_command": shown(swaks_cmd, replacements),
        "target": 1.0, "nproc": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
