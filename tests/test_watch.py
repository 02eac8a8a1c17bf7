"""Watch end to end against the lab: a setup works, breaks, recovers; alerts reach a webhook once each."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from checks.batch.file import load_batch
from checks.cli.main import main
from checks.history.store import open_store
from checks.history.watch import run_cycle
from checks.history.webhook import deliver
from lab.entra import EntraScenario
from lab.smtp import LAB_ACCOUNTS, Personality, Scenario
from lab.switchboard import SwitchableSmtp

TOKEN = "hook-token-b2f1c9"  # a webhook URL's secret part


class WebhookReceiver:
    """An incoming-webhook endpoint on loopback that keeps every JSON body it is sent (or answers 500)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.raw: list[bytes] = []
        self.failing = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.raw.append(data)
                if receiver.failing:
                    self.send_response(500)
                else:
                    receiver.bodies.append(json.loads(data))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"

    def kinds(self) -> list[list[str]]:
        return [[alert["kind"] for alert in body["alerts"]] for body in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    yield hook
    hook.close()


@pytest.fixture
def gmail_relay(pki) -> Iterator[SwitchableSmtp]:
    with SwitchableSmtp([Scenario.WORKING, Scenario.BAD_CREDENTIALS], pki=pki, personality=Personality.GMAIL) as relay:
        yield relay


def write_batch(path: Path, rows: list[dict]) -> Path:
    columns = ["name"] + sorted({k for row in rows for k in row if k != "name"})
    lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def gmail_row(relay: SwitchableSmtp, lab_dns, pki, name: str = "shop") -> dict:
    username = LAB_ACCOUNTS[Personality.GMAIL][0]
    return {"name": name, "profile": "gmail", "host": "smtp.gmail.com", "username": username, "sender": username,
            "password_env": "SHOP_PASSWORD", "nameserver": lab_dns.nameserver, "connect_to": relay.connect_to,
            "ca_file": str(pki.ca_file), "timeout": 3, "deadline": 20}


def oauth_row(server, relay, lab_dns, pki, **extra: str) -> dict:
    """A Microsoft 365 OAuth2 setup against the lab's Entra emulator (secrets: SHOP_SECRET, SHOP_TOKEN)."""
    return {"profile": "m365-oauth2", "host": "smtp.office365.com", "sender": server.sender,
            "tenant_id": server.tenant_id, "client_id": server.client_id, "client_secret_env": "SHOP_SECRET",
            "refresh_token_env": "SHOP_TOKEN", "login_url": server.base_url, "graph_url": server.graph_url,
            "nameserver": lab_dns.nameserver, "connect_to": f"{relay.host}:{relay.port}", "ca_file": str(pki.ca_file),
            "timeout": 3, "deadline": 30, **extra}


def watch(argv: list[str], environ: dict) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["watch", *argv], stdin=io.StringIO(""), stdout=out, stderr=err, environ=environ)
    return code, out.getvalue(), err.getvalue()


def metrics(path: Path) -> dict[tuple[str, tuple], float]:
    """Every sample of the metrics file, parsed by prometheus_client's own parser."""
    samples = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_watch_alerts_once_when_a_setup_breaks_and_once_when_it_recovers(gmail_relay, lab_dns, pki, receiver,
                                                                          tmp_path, store_url):
    # Given a batch file with one Gmail setup behind a lab relay that works, a webhook and a metrics file
    batch = write_batch(tmp_path / "setups.csv", [gmail_row(gmail_relay, lab_dns, pki)])
    prom = tmp_path / "relay.prom"
    environ = {"SHOP_PASSWORD": LAB_ACCOUNTS[Personality.GMAIL][1]}
    argv = [str(batch), "--once", "--db", store_url, "--webhook", receiver.url, "--metrics-file", str(prom)]
    statuses = []
    # When the watch runs while the relay works, after it breaks (the password is refused), and after it recovers
    for scenario in (Scenario.WORKING, Scenario.WORKING, Scenario.BAD_CREDENTIALS, Scenario.BAD_CREDENTIALS,
                     Scenario.WORKING):
        gmail_relay.switch(scenario)
        code, out, err = watch(argv, environ)
        statuses.append(code)
        samples = metrics(prom)
        failing = scenario is Scenario.BAD_CREDENTIALS
        # Then the metrics file says what this run found
        assert samples[("relay_console_verdict", (("host", "smtp.gmail.com"), ("setup", "shop"),
                                                  ("verdict", "problems")))] == (1.0 if failing else 0.0)
        status = "fail" if failing else "pass"
        assert samples[("relay_console_check_status", (("check", "auth.credentials"), ("setup", "shop"),
                                                       ("status", status)))] == 1.0
        assert ("relay_console_last_run_timestamp_seconds", (("setup", "shop"),)) in samples
    # And the exit status follows the verdict, and the webhook heard exactly "broke" and then "recovered"
    assert statuses == [0, 0, 1, 1, 0]
    assert receiver.kinds() == [["broke"], ["recovered"]]
    assert "BROKE shop" in receiver.bodies[0]["text"] and "auth.credentials" in receiver.bodies[0]["text"]
    assert receiver.bodies[0]["alerts"][0]["previous_verdict"] == "ready"
    # And every run is in the history
    store = open_store(store_url)
    try:
        assert [r.verdict.value for r in store.runs()] == ["ready", "problems", "problems", "ready", "ready"]
    finally:
        store.close()


def test_a_client_secret_expiring_in_20_days_alerts_once_not_on_every_run(entra, smtp_lab, lab_dns, pki, receiver,
                                                                            tmp_path):
    # Given an OAuth2 setup whose client secret expires in 20 days
    server = entra(EntraScenario.WORKING)
    relay = smtp_lab(personality=Personality.M365, xoauth2_validator=server.xoauth2_validator)
    expires = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
    row = oauth_row(server, relay, lab_dns, pki, name="oauth-shop", secret_expires=expires.isoformat())
    batch = write_batch(tmp_path / "oauth.csv", [row])
    prom = tmp_path / "relay.prom"
    environ = {"SHOP_SECRET": server.client_secret, "SHOP_TOKEN": server.refresh_token}
    argv = [str(batch), "--once", "--db", f"sqlite:///{tmp_path / 'h.sqlite3'}", "--webhook", receiver.url,
            "--metrics-file", str(prom)]
    # When the watch runs three times
    outputs = [watch(argv, environ) for _ in range(3)]
    # Then the secret's date raised one alert, on the first run only, and the metrics count 20 days to it
    assert receiver.kinds() == [["horizon"]], [o[1:] for o in outputs]
    alert = receiver.bodies[0]["alerts"][0]
    assert (alert["horizon"], alert["date"], alert["days"]) == ("client_secret", expires.isoformat(), 20)
    assert "client secret expires on" in receiver.bodies[0]["text"]
    samples = metrics(prom)
    assert samples[("relay_console_horizon_days", (("date", expires.isoformat()), ("horizon", "client_secret"),
                                                   ("setup", "oauth-shop")))] == 20.0
    assert "HORIZON oauth-shop" in outputs[0][1] and "HORIZON" not in outputs[1][1] + outputs[2][1]


def test_a_failed_webhook_is_retried_and_its_alerts_go_with_the_next_cycle(gmail_relay, lab_dns, pki, receiver,
                                                                           tmp_path):
    # Given a setup that works, then breaks while the webhook answers 500
    setups = load_batch(write_batch(tmp_path / "b.csv", [gmail_row(gmail_relay, lab_dns, pki)]))
    environ = {"SHOP_PASSWORD": LAB_ACCOUNTS[Personality.GMAIL][1]}
    store = open_store(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    send = partial(deliver, sleep=lambda seconds: None)
    try:
        run_cycle(store, setups, environ=environ, webhook_url=receiver.url, send=send)
        gmail_relay.switch(Scenario.BAD_CREDENTIALS)
        receiver.failing = True
        failed = run_cycle(store, setups, environ=environ, webhook_url=receiver.url, send=send)
        # Then the POST was tried three times, the run is saved, and the alert waits
        assert (failed.delivery.delivered, failed.delivery.attempts, failed.pending) == (False, 3, 1)
        assert len(receiver.raw) == 3 and store.runs()[0].verdict.value == "problems"
        assert TOKEN not in failed.delivery.problem
        # When the webhook answers again, the next cycle delivers the waiting alert (and nothing new)
        receiver.failing = False
        later = run_cycle(store, setups, environ=environ, webhook_url=receiver.url, send=send)
    finally:
        store.close()
    assert later.delivery.delivered and later.alerts == ()
    assert receiver.kinds() == [["broke"]]


def test_watch_refuses_bad_input_with_exit_2(tmp_path, gmail_relay, lab_dns, pki):
    batch = write_batch(tmp_path / "b.csv", [gmail_row(gmail_relay, lab_dns, pki)])
    db = ["--db", f"sqlite:///{tmp_path / 'h.sqlite3'}"]
    assert watch([str(tmp_path / "missing.csv"), "--once", *db], {})[0] == 2
    code, _, err = watch([str(batch), "--once", "--webhook", "ftp://example.test/x", *db], {})
    assert code == 2 and "--webhook" in err
    assert watch([str(batch), "--every", "soon", *db], {})[0] == 2
    assert watch([str(batch), "--once", "--webhook-env", "NOT_SET", *db], {})[0] == 2
    assert watch([str(batch), "--once", "--db", "mysql://x@y/z"], {})[0] == 2
    code, _, err = watch([str(batch), "--once", "--metrics-file", str(tmp_path / "no" / "x.prom"), *db], {})
    assert code == 2 and "--metrics-file" in err


def test_every_repeats_cycles_until_interrupted(gmail_relay, lab_dns, pki, tmp_path):
    # Given a watch every 15 minutes whose third wait is interrupted (Ctrl-C)
    from checks.cli.main import build_parser
    from checks.cli.watch import run_watch_command

    batch = write_batch(tmp_path / "b.csv", [gmail_row(gmail_relay, lab_dns, pki)])
    args = build_parser(command="watch").parse_args(["watch", str(batch), "--every", "15m", "--db",
                                                     f"sqlite:///{tmp_path / 'h.sqlite3'}"])
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise KeyboardInterrupt

    out, err = io.StringIO(), io.StringIO()
    code = run_watch_command(args, stdout=out, stderr=err, sleep=sleep, deps=None,
                             environ={"SHOP_PASSWORD": LAB_ACCOUNTS[Personality.GMAIL][1]})
    # Then three cycles ran, each followed by a wait of what was left of 15 minutes, and the exit is 130
    assert code == 130 and out.getvalue().count(" watch: ") == 3
    assert all(800 < w <= 900 for w in waits)


def test_a_setup_not_proven_yet_exits_3_unless_incomplete_is_allowed(entra, smtp_lab, lab_dns, pki, tmp_path):
    # Given an OAuth2 setup without a refresh token yet (the token and AUTH checks cannot run)
    server = entra(EntraScenario.WORKING)
    relay = smtp_lab(personality=Personality.M365, xoauth2_validator=server.xoauth2_validator)
    row = oauth_row(server, relay, lab_dns, pki, name="no-token")
    row.pop("refresh_token_env")
    batch = write_batch(tmp_path / "b.csv", [row])
    argv = [str(batch), "--once", "--db", f"sqlite:///{tmp_path / 'h.sqlite3'}"]
    # Then the watch exits 3 (incomplete), and 0 when told that incomplete is acceptable
    assert watch(argv, {"SHOP_SECRET": server.client_secret})[0] == 3
    assert watch([*argv, "--allow-incomplete"], {"SHOP_SECRET": server.client_secret})[0] == 0


def stored(verdict: str, *, causes: tuple[str, ...] = (), horizons: dict | None = None, day: int = 1):
    from checks.history.records import StoredRun
    from checks.model import Verdict

    moment = dt.datetime(2026, 12, day, 6, tzinfo=dt.UTC)
    return StoredRun(run_id=f"run-{day}", setup="shop", label="", host="smtp.office365.com", port=587,
                     profile="m365-basic", started_at=moment, finished_at=moment, verdict=Verdict(verdict),
                     problems=tuple(c.split(":")[0] for c in causes), causes=causes, horizons=horizons or {})


def test_alerts_name_a_new_cause_a_verdict_change_and_a_moved_horizon_date():
    from checks.history.alerts import alerts_for
    from checks.history.horizons import Horizon

    # A setup still failing, now for a second reason: one "new_cause" alert naming only the new one
    [alert] = alerts_for(stored("problems", causes=("tls",)), stored("problems", causes=("tls", "sender"), day=2))
    assert (alert.kind, alert.new_causes) == ("new_cause", ("sender",))
    # The same causes again: nothing to say
    assert alerts_for(stored("problems", causes=("tls",)), stored("problems", causes=("tls",), day=2)) == []
    # Ready -> not proven yet (the refresh token went missing): a verdict alert
    [alert] = alerts_for(stored("ready"), stored("incomplete", day=2))
    assert alert.kind == "verdict" and "ready -> incomplete" in alert.text
    # A certificate date inside the window that moves (a renewal that is still too short) is said again
    first = {Horizon.CERTIFICATE: dt.date(2026, 12, 20)}
    assert alerts_for(stored("ready", horizons=first), stored("ready", horizons=first, day=2)) == []
    moved = {Horizon.CERTIFICATE: dt.date(2026, 12, 25)}
    [alert] = alerts_for(stored("ready", horizons=first), stored("ready", horizons=moved, day=2))
    assert (alert.kind, alert.horizon, alert.days) == ("horizon", "certificate", 23)
