"""Same SMTP dialogue (STARTTLS + AUTH PLAIN) by us and by swaks against one lab server: our time / swaks' time.

Reproduce: .venv/bin/python bench/swaks_ratio.py [--runs 15] [--delay 0.05]
Needs swaks (Debian package `swaks`) with Net::SSLeay and IO::Socket::SSL
(`apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl`).

The lab answers as Gmail (AUTH PLAIN offered) with 50 ms per reply, in a separate process. Both sides run as
fresh processes, interleaved run by run, median of --runs each:
  ours : python -m checks run --only auth.credentials ...   (+ dns.host, port, smtp.greeting, tls, auth.mechanisms)
  swaks: swaks --tls --tls-verify --auth PLAIN --quit-after AUTH ...
Also given: ours in-process (run_checklist, warm) against the same swaks subprocess figure.
Server replies are counted from each side's transcript; swaks waits for the reply to QUIT, we do not.
Target: ratio (fresh process vs fresh process) 1.1 or less.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checklist_rtt import server_replies  # noqa: E402
from lab_server import LabProcess  # noqa: E402
from recording import shown  # noqa: E402

PASSWORD_VAR = "BENCH_LAB_PASSWORD"


def swaks_command(settings: dict) -> list[str]:
    return ["swaks", "--server", settings["smtp_host"], "--port", str(settings["smtp_port"]), "--tls",
            "--tls-verify", "--tls-ca-path", settings["ca_file"], "--tls-sni", settings["host"],
            "--auth", "PLAIN", "--auth-user", settings["username"], "--auth-password", settings["password"],
            "--quit-after", "AUTH", "--helo", "relay-console.invalid", "--from", settings["sender"],
            "--to", settings["sender"]]


def our_command(settings: dict) -> list[str]:
    return [sys.executable, "-m", "checks", "run", "--profile", settings["profile"], "--host", settings["host"],
            "--username", settings["username"], "--sender", settings["sender"], "--password-env", PASSWORD_VAR,
            "--nameserver", settings["nameserver"], "--connect-to", settings["connect_to"],
            "--ca-file", settings["ca_file"], "--timeout", "5", "--only", "auth.credentials", "--format", "json"]


def timed(command: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    return time.perf_counter() - started, done


def swaks_replies(output: str) -> int:
    return sum(1 for line in output.splitlines()
               if line[:4] in ("<-  ", "<~  ") and (len(line) == 7 or line[7] == " "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    if not shutil.which("swaks"):
        raise SystemExit("swaks is not installed: apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl")

    from checks.model import CheckId
    from checks.runner import run_checklist
    from checks.settings.loading import config_from_values

    with LabProcess(args.delay, "gmail") as lab:
        settings = lab.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env[PASSWORD_VAR] = settings["password"]
        ours_cmd, swaks_cmd = our_command(settings), swaks_command(settings)
        timed(ours_cmd, env), timed(swaks_cmd, env)  # warm the page cache for both
        ours, theirs, our_replies, their_replies = [], [], set(), set()
        for _ in range(args.runs):
            seconds, done = timed(ours_cmd, env)
            if done.returncode != 0:
                raise SystemExit(f"our run failed ({done.returncode}): {done.stderr[-500:]}")
            ours.append(seconds)
            document = json.loads(done.stdout)
            our_replies.add(sum(1 for r in document["results"] for line in r["transcript"]
                                if line.startswith("S: ") and (len(line) == 6 or line[6] == " ")))
            seconds, done = timed(swaks_cmd, env)
            if done.returncode != 0:
                raise SystemExit(f"swaks failed ({done.returncode}): {done.stdout[-800:]}{done.stderr[-300:]}")
            theirs.append(seconds)
            their_replies.add(swaks_replies(done.stdout))

        config = config_from_values({**{k: settings[k] for k in ("profile", "host", "username", "sender",
                                                                 "nameserver", "connect_to", "ca_file")},
                                     "password_env": PASSWORD_VAR, "timeout": 5}, environ=env)
        run_checklist(config, only=[CheckId.AUTH_CREDENTIALS])  # warm-up: imports
        in_process, in_replies = [], set()
        for _ in range(args.runs):
            started = time.perf_counter()
            report = run_checklist(config, only=[CheckId.AUTH_CREDENTIALS])
            in_process.append(time.perf_counter() - started)
            in_replies.add(server_replies(report))

        placeholders = {settings["password"]: "***", settings["ca_file"]: "<lab ca.pem>",
                        settings["nameserver"]: "<lab dns>", settings["connect_to"]: "<lab smtp>",
                        f"--port {settings['smtp_port']}": "--port <lab smtp port>"}
    ours_median, swaks_median = statistics.median(ours), statistics.median(theirs)
    in_median = statistics.median(in_process)
    result = {
        "benchmark": "swaks_ratio", "runs": args.runs, "reply_delay_s": args.delay,
        "ours_process_median_s": round(ours_median, 4), "swaks_process_median_s": round(swaks_median, 4),
        "ratio_process_vs_process": round(ours_median / swaks_median, 3),
        "ours_in_process_median_s": round(in_median, 4),
        "ratio_in_process_vs_swaks_process": round(in_median / swaks_median, 3),
        "server_replies": {"ours": sorted(our_replies), "ours_in_process": sorted(in_replies),
                           "swaks": sorted(their_replies)},
        "ours_overhead_s": round(ours_median - max(our_replies) * args.delay, 4),
        "swaks_overhead_s": round(swaks_median - max(their_replies) * args.delay, 4),
        "ours_command": shown(ours_cmd, placeholders),
        "swaks_command": shown(swaks_cmd, placeholders),
        "target": 1.1, "nproc": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
