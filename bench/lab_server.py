"""Start lab servers (CA, DNS, SMTP with a reply delay) in this process; print their settings as one JSON line.

Benchmarks run it as a separate process so the server's CPU does not compete with the client being measured:
    python bench/lab_server.py --reply-delay 0.05 [--personality m365|gmail|generic]
It serves until its standard input closes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROFILE_OF = {"gmail": "gmail", "m365": "m365-basic", "generic": "custom"}
HOST_OF = {"gmail": "smtp.gmail.com", "m365": "smtp.office365.com", "generic": "smtp.lab.test"}


def main() -> None:
    from lab.dns import start_dns
    from lab.pki import LabPKI
    from lab.smtp import LAB_ACCOUNTS, Personality, start_smtp

    parser = argparse.ArgumentParser()
    parser.add_argument("--reply-delay", type=float, default=0.05)
    parser.add_argument("--personality", default="m365", choices=sorted(PROFILE_OF))
    args = parser.parse_args()
    pki = LabPKI()
    dns = start_dns()
    personality = Personality(args.personality)
    smtp = start_smtp(pki=pki, personality=personality, reply_delay=args.reply_delay)
    username, password = LAB_ACCOUNTS[personality]
    print(json.dumps({
        "profile": PROFILE_OF[args.personality], "host": HOST_OF[args.personality], "username": username,
        "sender": username, "password": password, "nameserver": dns.nameserver, "ca_file": str(pki.ca_file),
        "smtp_host": smtp.host, "smtp_port": smtp.port, "connect_to": f"{smtp.host}:{smtp.port}",
    }), flush=True)
    try:
        sys.stdin.read()
    finally:
        smtp.stop()
        dns.stop()
        pki.close()


class LabProcess:
    """The lab servers in a child process; `settings` holds what a user would enter (password included)."""

    def __init__(self, reply_delay: float = 0.05, personality: str = "m365") -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--reply-delay", str(reply_delay),
             "--personality", personality],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the lab server process did not start")
        self.settings: dict[str, Any] = json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=15)

    def __enter__(self) -> LabProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()
