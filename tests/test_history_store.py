"""The run store behaves the same on SQLite and on a real PostgreSQL server: save, list, read back, keep."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from checks.history import migrations, schema
from checks.history.horizons import Horizon
from checks.history.store import RunFilter, RunNotFound, StoreError, open_store
from checks.knowledge.facts import ReplyFacts
from checks.model import CheckId, CheckResult, RunReport, Status, Verdict
from checks.report.export import to_json
from checks.settings.check import SettingsFacts
from checks.smtp.facts import TlsFacts

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def report(run_id: str, *, hours_ago: float = 0, failing: CheckId | None = None, host: str = "smtp.office365.com"
           ) -> RunReport:
    """A finished Microsoft 365 run: settings warn about Basic auth, TLS and AUTH pass unless `failing`."""
    started = NOW - dt.timedelta(hours=hours_ago)
    results = (
        CheckResult.of(CheckId.SETTINGS, "Settings", Status.WARN, "Basic auth goes away",
                    facts=SettingsFacts("2026-12-31")),
        CheckResult.of(CheckId.TLS, "TLS", Status.PASS, "TLS 1.3", reply="220 2.0.0 SMTP server ready",
                    transcript=("S: 220 ready", "C: STARTTLS"),
                    facts=TlsFacts(certificate_not_after="2027-03-01")),
        CheckResult.of(CheckId.AUTH_CREDENTIALS, "Sign-in", Status.FAIL if failing is CheckId.AUTH_CREDENTIALS
                    else Status.PASS, "535 5.7.139" if failing else "Signed in",
                    facts=ReplyFacts(535, "smtp-auth-disabled") if failing else {}),
    )
    return RunReport(run_id, started, started + dt.timedelta(seconds=2), "0.1.0", "m365-basic", host, 587,
                     "starttls", "app@contoso.test", results)


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_saved_runs_list_newest_first_with_verdict_causes_and_horizons(store):
    # Given three runs of one setup saved over three hours, the middle one failing to sign in
    store.save(report("run-one", hours_ago=3), setup="Contoso", label="T-100", user="ann")
    store.save(report("run-two", hours_ago=2, failing=CheckId.AUTH_CREDENTIALS), setup="Contoso")
    store.save(report("run-three", hours_ago=1), setup="Contoso")
    # When the history is listed
    runs = store.runs()
    # Then the newest comes first, each with its verdict, the cause of its problem and the go-live dates
    assert [r.run_id for r in runs] == ["run-three", "run-two", "run-one"]
    assert [r.verdict for r in runs] == [Verdict.READY, Verdict.PROBLEMS, Verdict.READY]
    assert runs[1].problems == ("auth.credentials",)
    assert runs[1].causes == ("auth.credentials:smtp-auth-disabled",)
    assert runs[2].label == "T-100" and runs[2].user == "ann"
    assert runs[0].horizons == {Horizon.BASIC_AUTH: dt.date(2026, 12, 31), Horizon.CERTIFICATE: dt.date(2027, 3, 1)}
    assert runs[0].started_at == NOW - dt.timedelta(hours=1)


def test_a_stored_run_reads_back_as_the_same_report(store):
    # Given a saved run with a server reply and a transcript
    original = report("abcdef123456", failing=CheckId.AUTH_CREDENTIALS)
    store.save(original, setup="Contoso")
    # When it is opened by its id, or by its first six characters
    again = store.get("abcdef123456").report()
    prefix = store.get("abcdef").report()
    # Then it is the same JSON report (facts were never part of a report)
    assert to_json(again) == to_json(original) == to_json(prefix)


def test_unknown_and_ambiguous_run_ids_are_refused_with_a_reason(store):
    store.save(report("aaaaaa111111"), setup="one")
    store.save(report("aaaaaa222222"), setup="two")
    with pytest.raises(RunNotFound, match="not in the history"):
        store.get("zzzzzz")
    with pytest.raises(RunNotFound, match="more than one run"):
        store.get("aaaaaa")


def test_filters_and_the_newest_run_of_each_setup(store):
    # Given runs of two setups on two hosts, labelled with tickets
    store.save(report("c-old", hours_ago=30), setup="Contoso", label="TICKET-7")
    store.save(report("c-new", hours_ago=1, failing=CheckId.AUTH_CREDENTIALS), setup="Contoso")
    store.save(report("f-old", hours_ago=5, host="smtp.gmail.com"), setup="Fabrikam_100%")
    store.save(report("f-new", hours_ago=2, host="smtp.gmail.com"), setup="Fabrikam_100%")
    ids = lambda query: [r.run_id for r in store.runs(query)]  # noqa: E731
    # Then each filter narrows the list the way its name says
    assert ids(RunFilter(latest=True)) == ["c-new", "f-new"]
    assert ids(RunFilter(name="ticket-7")) == ["c-old"]
    assert ids(RunFilter(name="_100%")) == ["f-new", "f-old"]  # LIKE wildcards are taken literally
    assert ids(RunFilter(host="SMTP.GMAIL.COM")) == ["f-new", "f-old"]
    assert ids(RunFilter(verdict=Verdict.PROBLEMS)) == ["c-new"]
    assert ids(RunFilter(since=NOW - dt.timedelta(hours=3))) == ["c-new", "f-new"]
    assert ids(RunFilter(limit=1)) == ["c-new"]
    assert store.latest_of(["Contoso", "nobody"]).keys() == {"Contoso"}


def test_the_newest_run_stays_newest_when_an_older_one_is_saved_later(store):
    # Given a setup's run from an hour ago, then one from yesterday saved after it (an imported or late run)
    store.save(report("recent", hours_ago=1), setup="Contoso")
    store.save_many([(report("late-a", hours_ago=30), {"setup": "Contoso"}),
                     (report("late-b", hours_ago=20), {"setup": "Contoso"})])
    # Then the newest run of the setup is still the recent one; pruning it away leaves no stale pointer
    assert [r.run_id for r in store.runs(RunFilter(latest=True))] == ["recent"]
    store.prune(1, now=NOW + dt.timedelta(days=3))
    assert store.runs(RunFilter(latest=True)) == []


def test_a_run_without_a_name_belongs_to_its_host_and_port(store):
    store.save(report("anon"))
    assert store.runs()[0].setup == "smtp.office365.com:587"


def test_retention_deletes_runs_older_than_keep_days(store):
    # Given a run from 400 days ago and one from today
    store.save(report("ancient", hours_ago=400 * 24), setup="x")
    store.save(report("recent", hours_ago=1), setup="x")
    # When runs older than a year are pruned (0 would keep everything)
    assert store.prune(0, now=NOW) == 0
    assert store.prune(365, now=NOW) == 1
    # Then only today's run is left
    assert [r.run_id for r in store.runs()] == ["recent"]


def test_alerts_wait_until_delivered(store):
    # Given two alerts kept for a webhook
    store.add_alerts([{"run_id": "r1", "setup": "s", "kind": "broke", "payload": {"text": "one"}},
                      {"run_id": "r2", "setup": "s", "kind": "recovered", "payload": {"text": "two"}}])
    waiting = store.pending_alerts()
    assert [p["text"] for _, p in waiting] == ["one", "two"]
    # When a delivery fails, they stay; when it succeeds, they are gone
    store.mark_alerts([i for i, _ in waiting], delivered=False)
    assert len(store.pending_alerts()) == 2
    store.mark_alerts([i for i, _ in waiting], delivered=True)
    assert store.pending_alerts() == []


def test_run_limit_holds_across_two_consoles_sharing_the_database(store_url):
    # Given two console replicas on one database and a limit of 2 runs per hour per client
    first, second = open_store(store_url), open_store(store_url)
    hour = dt.timedelta(hours=1)
    take = lambda store, client, at=NOW: store.take_runs([client], count=1, limit=2, window=hour, now=at)  # noqa: E731
    try:
        # When they take turns counting one client's runs
        counts = [take(first, "client:192.0.2.7"), take(second, "client:192.0.2.7", NOW + dt.timedelta(minutes=10)),
                  take(first, "client:192.0.2.7", NOW + dt.timedelta(minutes=20)), take(second, "client:192.0.2.8")]
        later = take(first, "client:192.0.2.7", NOW + dt.timedelta(minutes=61))
        batch = second.take_runs(["client:192.0.2.9"], count=3, limit=2, window=hour, now=NOW)
    finally:
        first.close()
        second.close()
    # Then the third run within the hour is refused, wherever it lands, with the wait until the first ages out;
    # another client is not affected, an hour later one run is free again, and a batch over the limit is refused
    assert counts == [None, None, 40 * 60.0, None]
    assert later is None and batch == 3600.0


def _version_1_database(url: str) -> None:
    """A database as version 1 of the console left it: the runs table and two saved runs of one setup."""
    store = open_store(url)
    store.close()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alerts"))
        connection.execute(sa.text("DROP TABLE run_counters"))
        connection.execute(sa.text("DROP TABLE latest_runs"))
        connection.execute(schema.schema_info.update().values(version=1))
        for run_id, day in (("from-v1", 2), ("older-v1", 1)):
            connection.execute(schema.runs.insert().values(
                run_id=run_id, setup="Contoso", label="", host="smtp.office365.com", port=587, profile="m365-basic",
                started_at=dt.datetime(2026, 1, day), finished_at=dt.datetime(2026, 1, day), verdict="ready",
                problems="", causes="[]", horizons="{}", user_name="", source="cli", batch_id="", tool_version="0.0.9",
                report=to_json(report(run_id), compact=True)))
    engine.dispose()


def test_a_database_from_version_1_opens_and_keeps_its_runs(store_url):
    # Given a history written by version 1 (no alerts, counters or newest-run tables yet)
    _version_1_database(store_url)
    # When this version opens it
    store = open_store(store_url)
    try:
        # Then it is upgraded in place: the old runs are there, the newest known per setup, and the new tables work
        assert [r.run_id for r in store.runs()] == ["from-v1", "older-v1"]
        assert [r.run_id for r in store.runs(RunFilter(latest=True))] == ["from-v1"]
        store.save(report("after-upgrade"), setup="Contoso")
        assert [r.run_id for r in store.runs(RunFilter(latest=True))] == ["after-upgrade"]
        assert store.get("from-v1").report().run_id == "from-v1"
        store.add_alerts([{"run_id": "from-v1", "setup": "Contoso", "kind": "broke", "payload": {"text": "t"}}])
        assert len(store.pending_alerts()) == 1
        with store.engine.connect() as connection:
            assert migrations.current_version(connection) == schema.SCHEMA_VERSION
    finally:
        store.close()


def test_a_database_from_a_newer_version_is_refused(store_url):
    store = open_store(store_url)
    with store.engine.begin() as connection:
        connection.execute(schema.schema_info.update().values(version=schema.SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(StoreError, match="update the console"):
        open_store(store_url)


def test_unusable_database_urls_are_refused_by_name(tmp_path):
    with pytest.raises(StoreError, match="hidden|\\*\\*\\*"):
        open_store("postgresql://ann:s3cret-password@127.0.0.1:1/nothing")
    try:
        open_store("postgresql://ann:s3cret-password@127.0.0.1:1/nothing")
    except StoreError as exc:
        assert "s3cret-password" not in str(exc)
    with pytest.raises(ValueError, match="sqlite:///PATH or postgresql://"):
        open_store("mysql://x@y/z")


def test_horizon_dates_in_the_stored_row_are_plain_json(store):
    store.save(report("h1"), setup="x")
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(schema.runs.c.horizons)).scalar()
    assert json.loads(stored) == {"basic_auth": "2026-12-31", "certificate": "2027-03-01"}


def test_the_consoles_hosting_guard_counts_in_a_shared_postgresql_history(request, monkeypatch):
    # Given two console replicas whose history is the same PostgreSQL database, 2 runs per hour allowed
    from console.history_store import SharedLedger, shared_ledger
    from console.hosting import HostingLimits, admit

    url = request.getfixturevalue("postgres").create_database("shared_console")
    monkeypatch.setenv("RELAY_CONSOLE_DB", url)
    limits = HostingLimits(hosted=True, max_runs_per_hour=2)
    replicas = [SharedLedger(open_store(url)), SharedLedger(open_store(url))]
    assert isinstance(shared_ledger(), SharedLedger)
    try:
        # When one browser's runs land on alternating replicas
        answers = [admit(state={}, client="192.0.2.7", limits=limits, ledger=replicas[i % 2]) for i in range(3)]
    finally:
        for replica in replicas:
            replica.store.close()
    # Then the third is refused although each replica saw fewer than 2
    assert answers[:2] == [None, None] and "2 runs per hour" in answers[2]
