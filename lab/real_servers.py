"""Real servers on loopback (Postfix + Dovecot SASL, dnsmasq, socat) for the real-server tests and benchmarks.

Installs nothing (scripts/real-servers.sh does that): it writes every configuration into a temporary directory,
starts the Debian binaries from there, and stops them by their process ids after the session. Postfix delivers
nothing (every transport is `error`); the tests go no further than AUTH, MAIL FROM and a refused RCPT TO.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import dns.message
import dns.query

RELAY_HOST = "smtp.relay.test"
SMTPS_HOST = "smtps.relay.test"  # resolves to SECOND_LOOPBACK, where Postfix listens on the real port 465 only
SECOND_LOOPBACK = "127.0.0.2"
RELAY_DOMAIN = "relay.test"
USERNAME = "alice@relay.test"
OTHER_SENDER = "mallory@relay.test"
GOOGLE_DOMAIN = "google-hosted.test"
MICROSOFT_DOMAIN = "m365-hosted.test"
NO_MX_DOMAIN = "no-mx.test"
LOOPBACK = "127.0.0.1"
REQUIRED_BINARIES = ("postfix", "dovecot", "dnsmasq", "socat")
SBIN_PATHS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
START_SECONDS = 20.0
STOP_SECONDS = 10.0


class Listener(StrEnum):
    """One Postfix smtpd listener, each on its own loopback port."""

    SUBMISSION = "submission"  # STARTTLS + Dovecot SASL, certificate from the CA given with --ca-file
    NO_STARTTLS = "no-starttls"  # plain SMTP: no STARTTLS, no AUTH
    NO_AUTH = "no-auth"  # STARTTLS, but SASL turned off
    SMTPS = "smtps"  # implicit TLS (wrapper mode) + SASL
    EXPIRED = "expired"  # STARTTLS + SASL, certificate expired yesterday
    WRONG_NAME = "wrong-name"  # STARTTLS + SASL, certificate for another host name
    UNTRUSTED = "untrusted"  # STARTTLS + SASL, certificate from a CA the client is not given
    SMTPS_465 = "smtps-465"  # implicit TLS + SASL on 127.0.0.2 port 465 (nothing on 127.0.0.2 port 587)


@dataclass(frozen=True)
class RealServers:
    """Where the started servers listen and what a user would type to reach them."""

    root: Path
    ca_file: Path
    dns_port: int
    ports: dict[Listener, int]  # on LOOPBACK, except SMTPS_465 (on SECOND_LOOPBACK, absent if 465 was taken)
    closed_port: int
    silent_port: int
    password: str = field(repr=False)

    @property
    def nameserver(self) -> str:
        return f"{LOOPBACK}:{self.dns_port}"

    def logs(self) -> str:
        """The servers' own logs, for a failing assertion's message."""
        parts = []
        for name in ("postfix.log", "dovecot.log", "dnsmasq.log", "postfix-start.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


def find_binary(name: str) -> str | None:
    """The binary from PATH or the usual sbin directories (sbin is often not on a non-root PATH)."""
    return shutil.which(name) or next((str(Path(d) / name) for d in SBIN_PATHS if (Path(d) / name).is_file()), None)


def missing_prerequisites() -> str | None:
    """Why these tests cannot run here, or None when they can."""
    missing = [name for name in REQUIRED_BINARIES if find_binary(name) is None]
    if missing:
        return (f"real servers not installed ({', '.join(missing)} missing): run `bash scripts/real-servers.sh` "
                "as root on Debian")
    if os.geteuid() != 0:
        return "real servers need root (Postfix and Dovecot start as root and drop privileges): run as root"
    try:
        import trustme  # noqa: F401
    except ImportError:
        return "trustme is not installed (requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def bindable(address: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def wait_until(ready: Callable[[], bool], what: str, *, seconds: float = START_SECONDS,
               logs: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {seconds:g} s\n{logs()}")


def tcp_open(port: int, address: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def tcp_greets(port: int) -> bool:
    """True once a plain SMTP listener sends its 220 greeting."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2) as sock:
            return sock.recv(64).startswith(b"220")
    except OSError:
        return False


def dns_answers(port: int, name: str) -> bool:
    try:
        reply = dns.query.udp(dns.message.make_query(name, "A"), LOOPBACK, port=port, timeout=0.5)
    except (OSError, dns.exception.DNSException):
        return False
    return bool(reply.answer)


# --------------------------------------------------------------------------------------------- certificates


def write_certificates(root: Path) -> dict[str, tuple[Path, Path]]:
    """A trusted CA (written to ca.pem) and leaf certificates: good, expired, wrong name, untrusted issuer."""
    # lazy: trustme loads only when the real-server lab makes certificates
    import trustme

    now = dt.datetime.now(dt.UTC)
    trusted = trustme.CA(organization_name="Relay Test CA")
    rogue = trustme.CA(organization_name="Rogue Test CA")
    trusted.cert_pem.write_to_path(str(root / "ca.pem"))
    leaves = {
        "good": trusted.issue_cert(RELAY_HOST, SMTPS_HOST, not_after=now + dt.timedelta(days=365)),
        "expired": trusted.issue_cert(RELAY_HOST, not_before=now - dt.timedelta(days=90),
                                      not_after=now - dt.timedelta(days=1)),
        "wrong-name": trusted.issue_cert("mail.elsewhere.test", not_after=now + dt.timedelta(days=365)),
        "untrusted": rogue.issue_cert(RELAY_HOST, not_after=now + dt.timedelta(days=365)),
    }
    files = {}
    for name, leaf in leaves.items():
        cert, key = root / f"{name}.crt", root / f"{name}.key"
        cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        key.write_bytes(leaf.private_key_pem.bytes())
        key.chmod(0o600)
        files[name] = (cert, key)
    return files


# ------------------------------------------------------------------------------------------------- dovecot


def dovecot_conf(root: Path, auth_socket: Path) -> str:
    return f"""\
base_dir = {root}/dovecot-run
state_dir = {root}/dovecot-state
instance_name = realservers-dovecot
log_path = {root}/dovecot.log
protocols = none
listen = {LOOPBACK}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/dovecot-users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {auth_socket} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
service anvil {{
  chroot =
}}
"""


# ------------------------------------------------------------------------------------------------- postfix


def postfix_main_cf(root: Path, good: tuple[Path, Path]) -> str:
    cert, key = good
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/postfix-queue
data_directory = {root}/postfix-data
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
mail_owner = postfix
setgid_group = postdrop
myhostname = {RELAY_HOST}
mydomain = {RELAY_DOMAIN}
myorigin = $mydomain
mydestination =
inet_interfaces = {LOOPBACK}
inet_protocols = ipv4
mynetworks = 192.0.2.1/32
default_transport = error:real-servers test relay delivers nothing
relay_transport = error:real-servers test relay delivers nothing
local_transport = error:real-servers test relay delivers nothing
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP Postfix (real-servers test)
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sender_login_maps = inline:{{ {USERNAME}={USERNAME} }}
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
"""


INTERNAL_SERVICES = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_master_cf(ports: dict[Listener, int], certs: dict[str, tuple[Path, Path]]) -> str:
    sasl = ("-o smtpd_sasl_auth_enable=yes",)

    def with_cert(name: str) -> tuple[str, ...]:
        cert, key = certs[name]
        return (f"-o smtpd_tls_cert_file={cert}", f"-o smtpd_tls_key_file={key}", *sasl)

    options = {
        Listener.SUBMISSION: sasl,
        Listener.NO_STARTTLS: ("-o smtpd_tls_security_level=none",),
        Listener.NO_AUTH: ("-o smtpd_sasl_auth_enable=no",),
        Listener.SMTPS: ("-o smtpd_tls_wrappermode=yes", *sasl),
        Listener.EXPIRED: with_cert("expired"),
        Listener.WRONG_NAME: with_cert("wrong-name"),
        Listener.UNTRUSTED: with_cert("untrusted"),
        Listener.SMTPS_465: ("-o smtpd_tls_wrappermode=yes", *sasl),
    }
    lines = []
    for listener, port in ports.items():
        address = SECOND_LOOPBACK if listener is Listener.SMTPS_465 else LOOPBACK
        lines.append(f"{address}:{port} inet n - n - - smtpd")
        lines += [f"  -o syslog_name=postfix/{listener}", *(f"  {o}" for o in options[listener])]
    return "\n".join(lines) + "\n" + INTERNAL_SERVICES


# ---------------------------------------------------------------------------------------------------- dnsmasq


def dnsmasq_args(port: int) -> list[str]:
    """A DNS server for the .test zones only: no upstream, no hosts file, loopback only."""
    return [
        find_binary("dnsmasq") or "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", "--no-poll", "--bind-interfaces", f"--listen-address={LOOPBACK}", f"--port={port}",
        "--pid-file=", "--log-facility=-", "--log-queries", "--local=/test/",
        f"--host-record={RELAY_HOST},{LOOPBACK}", f"--host-record={SMTPS_HOST},{SECOND_LOOPBACK}", "--local-ttl=300",
        f"--mx-host={RELAY_DOMAIN},{RELAY_HOST},10",
        f"--txt-record={RELAY_DOMAIN},v=spf1 ip4:{LOOPBACK} -all",
        f"--txt-record=_dmarc.{RELAY_DOMAIN},v=DMARC1; p=reject",
        f"--mx-host={GOOGLE_DOMAIN},aspmx.l.google.com,1",
        f"--mx-host={GOOGLE_DOMAIN},alt1.aspmx.l.google.com,5",
        f"--txt-record={GOOGLE_DOMAIN},v=spf1 include:_spf.google.com ~all",
        "--txt-record=_spf.google.com,v=spf1 ip4:192.0.2.0/24 ~all",  # the providers' includes, as documentation IPs
        "--txt-record=spf.protection.outlook.com,v=spf1 ip4:198.51.100.0/24 -all",
        f"--mx-host={MICROSOFT_DOMAIN},m365-hosted-test.mail.protection.outlook.com,0",
        f"--txt-record={MICROSOFT_DOMAIN},v=spf1 include:spf.protection.outlook.com -all",
        f"--txt-record={NO_MX_DOMAIN},v=spf1 -all",
    ]


# ---------------------------------------------------------------------------------------------- processes


@dataclass
class Processes:
    """The processes this session started, stopped by their own ids (a process group for each)."""

    root: Path
    started: list[subprocess.Popen] = field(default_factory=list)
    postfix: str | None = None

    def spawn(self, args: list[str], log: str) -> subprocess.Popen:
        with open(self.root / log, "ab") as out:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd=self.root)
        self.started.append(process)
        return process

    def stop(self) -> None:
        if self.postfix:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run([self.postfix, "-c", str(self.root / "postfix"), "stop"], capture_output=True,
                               timeout=STOP_SECONDS)
            self._wait_for_postfix_master()
        for process in reversed(self.started):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_SECONDS)

    def _wait_for_postfix_master(self) -> None:
        pid_file = self.root / "postfix-queue" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # the master we started, by its own pid file


def postfix_complaint(postfix: str, config_dir: Path) -> str:
    """Postfix prints a fatal configuration error only to a terminal (else to syslog): ask again under `script`."""
    script = find_binary("script")
    if script is None:
        return "(see syslog)"
    try:
        again = subprocess.run([script, "-qec", f"{postfix} -c {config_dir} check", "/dev/null"],
                               capture_output=True, text=True, timeout=STOP_SECONDS)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"(could not ask again: {exc})"
    return again.stdout.strip() or "(no message)"


def start_all(root: Path, processes: Processes) -> RealServers:
    root.chmod(0o755)  # Postfix and Dovecot children run as their own users
    certs = write_certificates(root)
    password = "Rs-" + secrets.token_urlsafe(12)
    ports = {listener: free_port() for listener in Listener if listener is not Listener.SMTPS_465}
    if bindable(SECOND_LOOPBACK, 465) and bindable(SECOND_LOOPBACK, 587):
        ports[Listener.SMTPS_465] = 465
    dns_port, closed_port, silent_port = free_port(), free_port(), free_port()
    servers = RealServers(root, root / "ca.pem", dns_port, ports, closed_port, silent_port, password)

    # Postfix: its own config directory, every listener on loopback.
    config_dir = root / "postfix"
    config_dir.mkdir()
    (root / "postfix-queue").mkdir()  # `postfix start` creates the rest (create-missing) with the right owners
    (config_dir / "main.cf").write_text(postfix_main_cf(root, certs["good"]))
    (config_dir / "master.cf").write_text(postfix_master_cf(ports, certs))
    postfix = find_binary("postfix") or "postfix"
    started = subprocess.run([postfix, "-c", str(config_dir), "start"], capture_output=True, text=True,
                             timeout=START_SECONDS, cwd=root)
    (root / "postfix-start.log").write_text(started.stdout + started.stderr)
    processes.postfix = postfix
    if started.returncode != 0:
        raise RuntimeError(f"postfix start failed ({started.returncode}): {postfix_complaint(postfix, config_dir)}\n"
                           f"{servers.logs()}")
    plain_ports = [p for listener, p in ports.items() if listener not in (Listener.SMTPS, Listener.SMTPS_465)]
    wait_until(lambda: all(tcp_greets(p) for p in plain_ports), "Postfix listeners", logs=servers.logs)
    wait_until(lambda: tcp_open(ports[Listener.SMTPS]), "Postfix smtps listener", logs=servers.logs)
    if Listener.SMTPS_465 in ports:
        wait_until(lambda: tcp_open(465, SECOND_LOOPBACK), "Postfix smtps listener on port 465", logs=servers.logs)

    # Dovecot: SASL only (no mail protocols), passwd-file users, its auth socket in Postfix's queue (private/auth).
    users = root / "dovecot-users"
    users.write_text(f"{USERNAME}:{{PLAIN}}{password}::::::\n")
    users.chmod(0o640)
    shutil.chown(users, group="dovecot")
    (root / "dovecot-state").mkdir()
    auth_socket = root / "postfix-queue" / "private" / "auth"
    (root / "dovecot.conf").write_text(dovecot_conf(root, auth_socket))
    processes.spawn([find_binary("dovecot") or "dovecot", "-F", "-c", str(root / "dovecot.conf")], "dovecot.out")
    wait_until(auth_socket.exists, "Dovecot's auth socket", logs=servers.logs)

    # dnsmasq: the .test zones (MX, SPF TXT, the relay's A record) on a loopback port.
    processes.spawn(dnsmasq_args(dns_port), "dnsmasq.log")
    wait_until(lambda: dns_answers(dns_port, RELAY_HOST), "dnsmasq", logs=servers.logs)

    # A silent port: socat accepts and never says a word (reads the client into /dev/null).
    processes.spawn([find_binary("socat") or "socat", "-u",
                     f"TCP-LISTEN:{silent_port},bind={LOOPBACK},reuseaddr,fork", "OPEN:/dev/null,wronly"],
                    "socat.log")
    wait_until(lambda: tcp_open(silent_port), "socat silent port", logs=servers.logs)
    return servers
