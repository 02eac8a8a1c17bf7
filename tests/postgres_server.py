"""A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster in a temporary folder, loopback only.

Like the real-server suite's Postfix: nothing is installed here (scripts/real-servers.sh does that) and nothing
system-wide is touched. initdb refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "relay"
DATABASE = "postgres"
START_SECONDS = 30


@dataclass(frozen=True)
class RunningPostgres:
    root: Path
    port: int
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def create_database(self, name: str) -> str:
        """A new empty database on this server; returns its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname=DATABASE, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def dump(self, database: str = DATABASE) -> str:
        """The database as pg_dump writes it (plain SQL)."""
        dump = shutil.which("pg_dump") or str(self.bin_dir / "pg_dump")
        return subprocess.run([dump, "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, database],
                              check=True, capture_output=True, text=True, timeout=60).stdout


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None."""
    if bin_dir() is None:
        return "PostgreSQL is not installed (Debian: sudo bash scripts/real-servers.sh --install-only)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs the `postgres` user (Debian's postgresql package creates it)"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    account = pwd.getpwnam("postgres")
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> RunningPostgres:
    binaries = bin_dir()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="relay-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    data, port = root / "data", _free_port()
    environment = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E",
                                    "UTF8", "--no-sync", "--no-instructions"]),
                   check=True, capture_output=True, env=environment, timeout=START_SECONDS)
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off "
               "-c full_page_writes=off -c synchronous_commit=off")
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                                    "-w", "-t", str(START_SECONDS), "-o", options, "start"]),
                   check=True, capture_output=True, env=environment, timeout=START_SECONDS + 5)
    return RunningPostgres(root, port, binaries)


def stop(server: RunningPostgres) -> None:
    subprocess.run(_as_server_user([str(server.bin_dir / "pg_ctl"), "-D", str(server.root / "data"), "-m",
                                    "immediate", "-w", "stop"]), capture_output=True, timeout=START_SECONDS)
    shutil.rmtree(server.root, ignore_errors=True)
