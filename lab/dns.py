"""A small real DNS server on loopback (UDP and TCP on one port) answering from an in-memory zone."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import selectors
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT")
MAX_CNAME_CHAIN = 8
UDP_PLAIN_LIMIT = 512  # RFC 1035 size for a query without EDNS
TCP_IDLE_TIMEOUT = 5.0  # seconds a TCP client may stay silent before we hang up
POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class Record:
    """One resource record of the lab zone; `value` is zone-file text (TXT may be given unquoted)."""

    name: str
    rtype: str
    value: str
    ttl: int = 300


_OUTLOOK_SPF = "v=spf1 include:spf.protection.outlook.com -all"
_GOOGLE_SPF = "v=spf1 include:_spf.google.com ~all"
_DKIM_KEY = ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/"
             "zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi"
             "tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB")
_PROVIDER_SPF: tuple[Record, ...] = (
    # The providers' own SPF trees (address ranges abridged): two lookups for Microsoft 365, four for Google.
    Record("spf.protection.outlook.com", "TXT", "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 "
           "ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all"),
    Record("spfd.protection.outlook.com", "TXT", "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 -all"),
    Record("_spf.google.com", "TXT", "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
           "include:_netblocks3.google.com ~all"),
    Record("_netblocks.google.com", "TXT", "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ~all"),
    Record("_netblocks2.google.com", "TXT", "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ~all"),
    Record("_netblocks3.google.com", "TXT", "v=spf1 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ~all"),
)


def m365_domain(domain: str, *, spf: str | None = _OUTLOOK_SPF, dmarc: str | None = "v=DMARC1; p=quarantine",
                dkim: bool = True) -> tuple[Record, ...]:
    """A sender domain hosted by Microsoft 365: MX, SPF, DKIM selector CNAMEs to the tenant and DMARC."""
    label = domain.replace(".", "-")
    records = [Record(domain, "MX", f"0 {label}.mail.protection.outlook.com.")]
    records += [Record(domain, "TXT", spf)] if spf else []
    records += [Record(f"_dmarc.{domain}", "TXT", dmarc)] if dmarc else []
    for selector in ("selector1", "selector2") if dkim else ():
        target = f"{selector}-{label}._domainkey.contoso.onmicrosoft.example"
        records += [Record(f"{selector}._domainkey.{domain}", "CNAME", target + "."), Record(target, "TXT", _DKIM_KEY)]
    return tuple(records)


# Sender domains with one SPF, DKIM or DMARC case each (tests and practice scenarios).
_NESTED = "v=spf1 include:_spf.spf-nested.example -all"
SENDER_DOMAIN_CASES: tuple[Record, ...] = (
    *m365_domain("spf-nested.example", spf=_NESTED, dmarc="v=DMARC1; p=reject"),
    Record("_spf.spf-nested.example", "TXT", "v=spf1 ip4:192.0.2.10 include:spf.protection.outlook.com -all"),
    *m365_domain("spf-redirect.example", spf="v=spf1 redirect=_spf.spf-nested.example", dmarc="v=DMARC1; p=reject"),
    *m365_domain("spf-11-lookups.example", spf="v=spf1 include:spf.protection.outlook.com "
                 + " ".join(f"include:s{i}.spf-11-lookups.example" for i in range(1, 10)) + " -all"),
    *(Record(f"s{i}.spf-11-lookups.example", "TXT", f"v=spf1 ip4:198.51.100.{i} -all") for i in range(1, 10)),
    *m365_domain("dmarc-missing.example", dmarc=None),
    *m365_domain("dmarc-none.example", dmarc="v=DMARC1; p=none; rua=mailto:dmarc@dmarc-none.example"),
    *m365_domain("dkim-missing.example", dkim=False),
)

LAB_ZONE: tuple[Record, ...] = (
    # Relay hosts and endpoints: every one points at loopback so the practice lab works offline.
    Record("smtp.gmail.com", "A", "127.0.0.1"),
    Record("smtp.office365.com", "CNAME", "smtp.office365.com.lab-edge.test."),  # like Microsoft's CNAME chain
    Record("smtp.office365.com.lab-edge.test", "A", "127.0.0.1"),
    Record("smtp.lab.test", "A", "127.0.0.1"),
    Record("smtp.lab.test", "AAAA", "::1"),
    Record("login.microsoftonline.com", "A", "127.0.0.1"),
    Record("graph.microsoft.com", "A", "127.0.0.1"),
    # Sender domains.
    *m365_domain("contoso.example", dmarc="v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@contoso.example"),
    Record("gmail.com", "MX", "5 gmail-smtp-in.l.google.com."),
    Record("gmail.com", "TXT", _GOOGLE_SPF),
    Record("gmail-lab.example", "MX", "5 gmail-smtp-in.l.google.com."),
    Record("gmail-lab.example", "TXT", _GOOGLE_SPF),
    Record("google._domainkey.gmail-lab.example", "TXT", _DKIM_KEY),
    Record("_dmarc.gmail-lab.example", "TXT", "v=DMARC1; p=reject"),
    Record("fabrikam.example", "MX", "1 aspmx.l.google.com."),  # hosted by Google, SPF names only Microsoft
    Record("fabrikam.example", "TXT", _OUTLOOK_SPF),
    Record("nomx.example", "A", "127.0.0.1"),
    Record("lab.test", "MX", "10 mail.lab.test."),
    Record("lab.test", "TXT", "v=spf1 ip4:127.0.0.1 -all"),
    Record("_dmarc.lab.test", "TXT", "v=DMARC1; p=reject"),
    Record("mail.lab.test", "A", "127.0.0.1"),
    *_PROVIDER_SPF,
    *SENDER_DOMAIN_CASES,
)


def _key(name: str | dns.name.Name) -> str:
    text = name.to_text(omit_final_dot=True) if isinstance(name, dns.name.Name) else name.rstrip(".")
    return text.lower()


def _rdata_text(rtype: str, value: str) -> str:
    if rtype != "TXT" or value.startswith('"'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    chunks = [escaped[i:i + 250] for i in range(0, len(escaped), 250)] or [""]
    return " ".join(f'"{chunk}"' for chunk in chunks)


class _Zone:
    """Records by owner name and type; knows NXDOMAIN from NODATA and follows CNAMEs like a resolver."""

    def __init__(self, records: Iterable[Record]) -> None:
        grouped: dict[str, dict[str, list[Record]]] = {}
        for record in records:
            rtype = record.rtype.upper()
            if rtype not in SUPPORTED_TYPES:
                raise ValueError(f"unsupported record type {record.rtype!r} (supported: {SUPPORTED_TYPES})")
            grouped.setdefault(_key(record.name), {}).setdefault(rtype, []).append(record)
        self._rrsets: dict[str, dict[str, dns.rrset.RRset]] = {}
        for owner, by_type in grouped.items():
            if "CNAME" in by_type and len(by_type) > 1:
                raise ValueError(f"{owner}: a CNAME cannot sit beside other records")
            self._rrsets[owner] = {
                rtype: dns.rrset.from_text_list(
                    dns.name.from_text(owner), min(r.ttl for r in recs), "IN", rtype,
                    [_rdata_text(rtype, r.value) for r in recs], origin=dns.name.root, relativize=False)
                for rtype, recs in by_type.items()
            }

    def lookup(self, qname: dns.name.Name, rtype: str) -> tuple[int, list[dns.rrset.RRset]]:
        """(rcode, answer RRsets) for a question, CNAME targets included."""
        answer: list[dns.rrset.RRset] = []
        current = qname
        for _ in range(MAX_CNAME_CHAIN):
            node = self._rrsets.get(_key(current))
            if node is None:
                return dns.rcode.NXDOMAIN, answer
            if rtype in node:
                answer.append(node[rtype])
                return dns.rcode.NOERROR, answer
            cname = node.get("CNAME")
            if cname is None:
                return dns.rcode.NOERROR, answer  # NODATA: the name exists without this type
            answer.append(cname)
            current = cname[0].target
        return dns.rcode.SERVFAIL, answer


class _Server:
    """The sockets, the zone and the threads behind one RunningDns."""

    def __init__(self, zone: _Zone, silent: frozenset[str], delay: float, host: str, port: int = 0,
                 lose_first: frozenset[str] = frozenset()) -> None:
        self.zone, self.silent, self.delay, self.host = zone, silent, delay, host
        self.lose_first, self.lost, self.lost_lock = lose_first, set(), threading.Lock()
        self.asked: list[tuple[str, str]] = []  # (name, type) of every question, in arrival order
        self.stopping = threading.Event()
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        self.udp, self.tcp = self._bind_pair(family, host, port)
        self.port = self.udp.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name=f"lab-dns-{self.port}", daemon=True)
        self.thread.start()

    @staticmethod
    def _bind_pair(family: int, host: str, port: int) -> tuple[socket.socket, socket.socket]:
        for _ in range(1 if port else 50):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((host, port))
            except OSError:
                udp.close()
                raise
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((host, udp.getsockname()[1]))
            except OSError as exc:
                udp.close()
                tcp.close()
                if exc.errno != errno.EADDRINUSE or port:
                    raise
                continue
            tcp.listen(16)
            udp.setblocking(False)
            tcp.setblocking(False)
            return udp, tcp
        raise OSError("no free port for both UDP and TCP on " + host)

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.udp, selectors.EVENT_READ, "udp")
            selector.register(self.tcp, selectors.EVENT_READ, "tcp")
            while not self.stopping.is_set():
                for key, _ in selector.select(POLL_INTERVAL):
                    try:
                        if key.data == "udp":
                            wire, peer = self.udp.recvfrom(65535)
                            self._spawn(self._answer_udp, wire, peer)
                        else:
                            conn, _peer = self.tcp.accept()
                            self._spawn(self._serve_tcp, conn)
                    except (BlockingIOError, InterruptedError, ConnectionError):
                        continue
                    except OSError:
                        if self.stopping.is_set():
                            return

    @staticmethod
    def _spawn(target, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def _answer_udp(self, wire: bytes, peer) -> None:
        reply = self.respond(wire, tcp=False)
        if reply is not None and not self.stopping.is_set():
            with contextlib.suppress(OSError):
                self.udp.sendto(reply, peer)

    def _serve_tcp(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TCP_IDLE_TIMEOUT)
            while not self.stopping.is_set():
                try:
                    header = _recv_exact(conn, 2)
                    if header is None:
                        return
                    wire = _recv_exact(conn, struct.unpack("!H", header)[0])
                    if wire is None:
                        return
                    reply = self.respond(wire, tcp=True)
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

    def respond(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The reply's wire form, or None to stay silent (unparseable query or a silent name)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if len(query.question) == 1:
            self.asked.append((_key(query.question[0].name), dns.rdatatype.to_text(query.question[0].rdtype)))
        if len(query.question) == 1 and _key(query.question[0].name) in self.silent:
            return None
        if not tcp and len(query.question) == 1 and self._lose(query.question[0]):
            return None
        if self.delay > 0 and self.stopping.wait(self.delay):
            return None
        response = dns.message.make_response(query, recursion_available=True)
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(query.question) != 1 or query.question[0].rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.FORMERR if len(query.question) != 1 else dns.rcode.REFUSED)
        else:
            question = query.question[0]
            rcode, answer = self.zone.lookup(question.name, dns.rdatatype.to_text(question.rdtype))
            response.set_rcode(rcode)
            response.answer.extend(answer)
        limit = 65535 if tcp else max(UDP_PLAIN_LIMIT, query.payload if query.edns >= 0 else 0)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC  # the client retries over TCP, as with a real server
            return response.to_wire(max_size=limit)

    def _lose(self, question: dns.rrset.RRset) -> bool:
        """True the first time a `lose_first` name is asked for a type: that UDP query is lost on the way."""
        key = (_key(question.name), question.rdtype)
        with self.lost_lock:
            if key[0] not in self.lose_first or key in self.lost:
                return False
            self.lost.add(key)
            return True

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=2.0)
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.close()


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


@dataclass(frozen=True)
class RunningDns:
    """A started lab DNS server; use as a context manager or call stop()."""

    host: str
    port: int
    _server: _Server = field(repr=False, compare=False)

    @property
    def nameserver(self) -> str:
        """The value for the `nameserver` setting / `--nameserver`: 'IP:PORT'."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def asked(self) -> list[tuple[str, str]]:
        """(name, type) of every question received so far, in arrival order."""
        return list(self._server.asked)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> RunningDns:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_dns(
    records: Iterable[Record] = LAB_ZONE,
    *,
    silent_names: Iterable[str] = ("silent.lab.test",),
    delay: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
    lose_first: Iterable[str] = (),
) -> RunningDns:
    """Start a DNS server on `host` (UDP + TCP, one free port, or `port`) answering from `records`.

    The first UDP query of each type for a `lose_first` name goes unanswered, as if the packet was lost.
    """
    server = _Server(_Zone(records), frozenset(_key(n) for n in silent_names), float(delay), host, port,
                     frozenset(_key(n) for n in lose_first))
    return RunningDns(host, server.port, server)
