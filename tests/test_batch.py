"""Batch runs: loading files, concurrency bound, crash isolation, invalid settings, interrupts, report shapes."""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from checks.batch.file import BatchFileError, BatchSetup, load_batch, load_secrets, secrets_environ
from checks.batch.processes import auto_processes
from checks.batch.report import batch_to_csv, batch_to_json, problem_counts, summary_rows
from checks.batch.run import BATCH_COLUMNS, SetupState, run_batch
from checks.cli.main import main
from checks.model import CheckId, Status, Verdict
from checks.runner import run_checklist
from lab.forwarding import relay
from lab.smtp import Personality, Scenario

ROOT = Path(__file__).resolve().parents[1]
CANARY = "Canary-Batch-7c1f3a"
PW_VAR = "LAB_BATCH_PASSWORD"


def batch_values(lab_settings, server, **overrides):
    """Lab settings with the password moved out to a reference (a batch file never holds it)."""
    values = lab_settings(server, **overrides)
    values.pop("password", None)
    values.setdefault("password_env", PW_VAR)
    return values


def write_csv(path: Path, setups: list[dict]) -> Path:
    columns = ["name"] + sorted({k for s in setups for k in s if k != "name"})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(setups)
    return path


def cli(argv, *, environ=None):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


class CountingProxy:
    """A TCP relay on loopback in front of a lab server that records how many connections are open at once."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.active = self.peak = self.total = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self.lock:
            self.active += 1
            self.total += 1
            self.peak = max(self.peak, self.active)
        try:
            relay(client, self.target, idle=10)
        finally:
            with self.lock:
                self.active -= 1

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(2)


# ------------------------------------------------------------------------------------------------ loading


def test_csv_batch_file_is_read_with_names_rows_and_normalised_keys(tmp_path):
    # Given a CSV with a name column, a dashed key and a blank line
    path = tmp_path / "setups.csv"
    path.write_text("Name,host,Password-Env,port\r\nacme,smtp.office365.com,ACME_PW,587\r\n,,,\r\n"
                    "beta,smtp.gmail.com,BETA_PW,\r\n", encoding="utf-8")
    # When it is loaded
    setups = load_batch(path)
    # Then each row is a setup named by its row, with keys as settings and empty cells left out
    assert [s.name for s in setups] == ["acme", "beta"]
    assert setups[0].values == {"host": "smtp.office365.com", "password_env": "ACME_PW", "port": "587"}
    assert setups[1].where == "row 4" and "port" not in setups[1].values


def test_toml_batch_file_has_one_setup_table_per_setup():
    # Given a TOML batch file
    data = b'[[setup]]\nname = "one"\nprofile = "gmail"\nport = 465\nsecurity = "tls"\n\n' \
           b'[[setup]]\nname = "two"\nhost = "smtp.lab.test"\n'
    # When it is loaded from uploaded bytes
    setups = load_batch(data, name="batch.toml")
    # Then the tables become setups with their typed values
    assert [(s.name, s.where) for s in setups] == [("one", "setup 1"), ("two", "setup 2")]
    assert setups[0].values == {"profile": "gmail", "port": 465, "security": "tls"}


@pytest.mark.parametrize(("data", "name", "where"), [
    (f"name,host,password\nacme,h.example,\nbeta,h.example,{CANARY}\n".encode(), "b.csv", "row 3"),
    (f'[[setup]]\nname = "acme"\nclient_secret = "{CANARY}"\n'.encode(), "b.toml", "setup 1 ('acme')"),
])
def test_inline_secret_is_refused_naming_the_row_without_the_value(data, name, where):
    # Given a batch file with a secret written inline
    # When it is loaded
    with pytest.raises(BatchFileError) as caught:
        load_batch(data, name=name)
    # Then the whole file is refused, naming the row and the column, never showing the value
    message = str(caught.value)
    assert where in message and "inline" in message and "_env" in message
    assert CANARY not in message


def test_cli_refuses_inline_secret_with_exit_2(tmp_path):
    # Given a CSV batch file with a password column
    path = write_csv(tmp_path / "b.csv", [{"name": "acme", "host": "smtp.lab.test", "password": CANARY}])
    # When the batch command reads it
    code, out, err = cli(["batch", str(path)])
    # Then nothing runs, the row is named and the secret is not echoed
    assert code == 2 and out == ""
    assert "row 2" in err and "password" in err and CANARY not in err


@pytest.mark.parametrize(("data", "needle"), [
    (b"host,port\nsmtp.lab.test,587\n", "no 'name' column"),
    (b"name,host\na,h1.example\na,h2.example\n", "already used in row 2"),
    (b"", "empty"),
    (b'top = 1\n[[setup]]\nname = "x"\n', "unexpected top-level key 'top'"),
])
def test_unusable_batch_files_are_refused_with_a_reason(data, needle):
    # Given a batch file that cannot be used as a whole
    # When it is loaded
    with pytest.raises(BatchFileError) as caught:
        load_batch(data, name="batch.toml" if data.startswith(b"top") else "batch.csv")
    # Then the message says why
    assert needle in str(caught.value)


def test_secrets_file_is_read_as_dotenv_or_toml():
    # Given a .env text and a TOML text
    dotenv = load_secrets(b'# comment\nexport ACME_PW="a b c"\nBETA_PW=xyz\n', name="s.env")
    toml = load_secrets(b'ACME_PW = "from-toml"\n', name="s.toml")
    # When they are used as the lookup for *_env references
    lookup = secrets_environ(toml, {"ACME_PW": "from-env", "OTHER": "1"})
    # Then values are parsed and the secrets file wins over the environment
    assert dotenv == {"ACME_PW": "a b c", "BETA_PW": "xyz"}
    assert lookup["ACME_PW"] == "from-toml" and lookup["OTHER"] == "1"


def test_broken_secrets_file_names_the_line_not_the_value():
    # Given a .env file whose second line is not NAME=value
    # When it is read
    with pytest.raises(BatchFileError) as caught:
        load_secrets(f"A=1\n{CANARY}\n".encode(), name="s.env")
    # Then the line is named and its text is not shown
    assert "line 2" in str(caught.value) and CANARY not in str(caught.value)


# ------------------------------------------------------------------------------------------------ running


def test_invalid_settings_become_a_failing_settings_row_and_the_batch_goes_on(smtp_lab, lab_settings):
    # Given one valid setup and one with an impossible port and an unset secret reference
    server = smtp_lab()
    setups = [BatchSetup("good", batch_values(lab_settings, server), "row 2"),
              BatchSetup("bad", {"profile": "custom", "host": "smtp.lab.test", "port": "99999",
                                 "username": "a@lab.test", "password_env": "UNSET_VAR"}, "row 3")]
    # When the batch runs
    batch = run_batch(setups, jobs=2, environ={PW_VAR: server.account[1]})
    # Then the valid setup ran fully and the invalid one has one failing settings row naming the fields
    good, bad = batch.outcomes
    assert good.state is SetupState.DONE and good.verdict is Verdict.READY and len(good.report.results) > 5
    assert bad.state is SetupState.INVALID and len(bad.report.results) == 1
    row = bad.report.results[0]
    assert row.check_id is CheckId.SETTINGS and row.status is Status.FAIL
    assert "port" in row.summary and "password_env" in row.summary and "row 3" in row.remediation
    assert bad.report.host == "smtp.lab.test"


def test_a_setup_whose_run_breaks_keeps_its_rows_with_error_and_others_finish(smtp_lab, lab_settings):
    # Given a runner that breaks in the middle of one setup's run (after the port check finished)
    server = smtp_lab()

    class Boom(RuntimeError):
        pass

    def runner(config, *, observer=None, **kwargs):
        if config.sender_domain == "lab.test":
            class Breaking:
                def __getattr__(self, name):
                    return getattr(observer, name)

                def on_finish(self, result):
                    observer.on_finish(result)
                    if result.check_id is CheckId.PORT:
                        raise Boom(f"simulated fault {CANARY}")

            return run_checklist(config, observer=Breaking(), **kwargs)
        return run_checklist(config, observer=observer, **kwargs)

    values = batch_values(lab_settings, server)
    broken = dict(values, username="relay@lab.test", sender="relay@lab.test", password_env="CANARY_VAR")
    setups = [BatchSetup("ok-1", values), BatchSetup("breaks", broken), BatchSetup("ok-2", values)]
    # When the batch runs
    batch = run_batch(setups, jobs=3, environ={PW_VAR: server.account[1], "CANARY_VAR": CANARY}, runner=runner)
    # Then the broken setup has its finished rows plus `error` rows for the rest; the others are untouched
    states = {o.name: o.state for o in batch.outcomes}
    assert states == {"ok-1": SetupState.DONE, "breaks": SetupState.CRASHED, "ok-2": SetupState.DONE}
    crashed = batch.outcomes[1].report
    statuses = {r.check_id: r.status for r in crashed.results}
    assert statuses[CheckId.PORT] is Status.PASS and statuses[CheckId.SMTP_GREETING] is Status.ERROR
    assert statuses[CheckId.AUTH_CREDENTIALS] is Status.ERROR
    assert all("Boom" in r.summary for r in crashed.results if r.status is Status.ERROR)
    assert CANARY not in batch_to_json(batch) and CANARY not in batch_to_csv(batch)


def test_no_more_than_jobs_setups_talk_to_servers_at_once(smtp_lab, lab_settings):
    # Given 8 setups behind a proxy that counts open connections, and a lab server answering in 50 ms
    server = smtp_lab(reply_delay=0.05)
    proxy = CountingProxy((server.host, server.port))
    try:
        values = batch_values(lab_settings, server, connect_to=f"127.0.0.1:{proxy.port}")
        setups = [BatchSetup(f"s{i}", values) for i in range(8)]
        # When the batch runs with --jobs 3
        started = time.monotonic()
        batch = run_batch(setups, jobs=3, environ={PW_VAR: server.account[1]})
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    # Then every setup connected, never more than 3 at a time, and they did overlap
    assert [o.verdict for o in batch.outcomes] == [Verdict.READY] * 8
    assert proxy.total == 8
    assert 2 <= proxy.peak <= 3
    assert elapsed < 8 * 0.4  # sequential would need 8 conversations of 8 replies x 50 ms


def test_observer_hears_every_setup_on_the_callers_thread(smtp_lab, lab_settings):
    # Given an observer that records events and the thread they arrive on
    server = smtp_lab()
    events, threads = [], set()

    class Recorder:
        def on_batch_plan(self, names):
            events.append(("plan", tuple(names)))

        def on_setup_start(self, name):
            threads.add(threading.get_ident())
            events.append(("start", name))

        def on_setup_finish(self, outcome):
            threads.add(threading.get_ident())
            events.append(("finish", outcome.name))

    setups = [BatchSetup(n, batch_values(lab_settings, server)) for n in ("a", "b", "c")]
    # When the batch runs
    run_batch(setups, jobs=2, observer=Recorder(), environ={PW_VAR: server.account[1]})
    # Then the plan comes first, each setup starts and finishes once, all on this thread
    assert events[0] == ("plan", ("a", "b", "c"))
    assert sorted(e[1] for e in events if e[0] == "finish") == ["a", "b", "c"]
    assert threads == {threading.get_ident()}


def _worker_pids() -> list[int]:
    """Process ids of this test process's batch workers (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"checks.batch.processes" in command:
            found.append(int(entry.name))
    return found


def test_worker_processes_give_the_same_rows_in_file_order_and_no_secret_in_their_command_line(smtp_lab,
                                                                                              lab_settings):
    # Given 12 setups (a wrong canary password in one) and an observer noting the thread of each event
    good, bad = smtp_lab(), smtp_lab(Scenario.BAD_CREDENTIALS, personality=Personality.GMAIL)
    setups = [BatchSetup(f"s{i:02d}", batch_values(lab_settings, good)) for i in range(11)]
    setups.insert(5, BatchSetup("wrong", batch_values(lab_settings, bad, password_env="CANARY_VAR")))
    environ = {PW_VAR: good.account[1], "CANARY_VAR": CANARY}
    threads, commands = set(), []

    class Recorder:
        def on_setup_start(self, name):
            threads.add(threading.get_ident())
            commands.extend(Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _worker_pids())

        def on_setup_finish(self, outcome):
            threads.add(threading.get_ident())

    # When the batch runs in 2 worker processes, and again in this process
    spread = run_batch(setups, jobs=4, processes=2, observer=Recorder(), environ=environ)
    local = run_batch(setups, jobs=4, environ=environ)
    # Then both give every setup, in file order, with the same statuses; events came on this thread
    assert [o.name for o in spread.outcomes] == [s.name for s in setups]
    assert [[r.status for r in o.report.results] for o in spread.outcomes] == \
        [[r.status for r in o.report.results] for o in local.outcomes]
    assert spread.outcomes[5].verdict is Verdict.PROBLEMS and spread.outcomes[0].verdict is Verdict.READY
    assert threads == {threading.get_ident()}
    # And the secrets went to the workers through their pipes: not in a command line, not in the report
    assert commands and not any(CANARY.encode() in c or good.account[1].encode() in c for c in commands)
    assert CANARY not in batch_to_json(spread)
    assert _worker_pids() == []  # the workers ended with the batch


def test_a_worker_process_that_dies_costs_only_its_setups_and_the_batch_ends(smtp_lab, lab_settings):
    # Given 12 setups whose server answers each reply after 0.2 s, 6 at a time, shared with 1 worker process
    server = smtp_lab(reply_delay=0.2)
    setups = [BatchSetup(f"s{i:02d}", batch_values(lab_settings, server)) for i in range(12)]

    class KillTheWorker:
        killed_after: list[str] = []

        def on_setup_start(self, name):
            if name == "s05":  # the first round is handed out: 3 setups here, 3 in the worker
                os.kill(_worker_pids()[0], signal.SIGKILL)
            elif name > "s05":
                self.killed_after.append(name)

    # When the worker is killed while it holds setups
    started = time.monotonic()
    batch = run_batch(setups, jobs=6, processes=2, observer=KillTheWorker(), environ={PW_VAR: server.account[1]})
    # Then the batch ends with every setup: the worker's are error rows naming it, all others ran here
    assert time.monotonic() - started < 60
    by_name = {o.name: o for o in batch.outcomes}
    crashed = [o for o in batch.outcomes if o.state is SetupState.CRASHED]
    assert len(batch.outcomes) == 12 and 1 <= len(crashed) <= 3
    assert all(r.status is Status.ERROR for o in crashed for r in o.report.results)
    assert all("batch worker 0 ended" in o.report.results[0].summary for o in crashed)
    assert KillTheWorker.killed_after and all(by_name[n].state is SetupState.DONE for n in KillTheWorker.killed_after)


def test_worker_processes_are_used_only_when_the_batch_is_bigger_than_one_round_of_jobs():
    # Given batches of various sizes on machines of various sizes
    # Then one process when every setup fits in one round of --jobs, else one per core, 8 setups each at least
    assert auto_processes(32, 32, 16) == 1
    assert auto_processes(200, 32, 2) == 2
    assert auto_processes(200, 32, 64) == 4  # 32 jobs: at least 8 at once in each process
    assert auto_processes(10_000, 64, 64) == 8
    assert auto_processes(200, 8, 16) == 1


def test_processes_is_checked_on_the_command_line(tmp_path):
    # Given a batch file
    path = write_csv(tmp_path / "b.csv", [{"name": "a", "profile": "gmail", "username": "a@gmail.com"}])
    # When --processes is 0 or above the limit
    for value in ("0", "9"):
        code, _, err = cli(["batch", str(path), "--processes", value])
        # Then it is a usage error naming the option and the range
        assert code == 2 and "--processes: give a number from 1 to 8" in err


# ------------------------------------------------------------------------------------------------ reports


@pytest.fixture
def mixed_batch(smtp_lab, lab_settings):
    """A finished batch: one working setup, one with a wrong (canary) password, one invalid."""
    good = smtp_lab()
    bad = smtp_lab(Scenario.BAD_CREDENTIALS, personality=Personality.GMAIL)
    setups = [BatchSetup("works", batch_values(lab_settings, good)),
              BatchSetup("=wrong-password", batch_values(lab_settings, bad, password_env="CANARY_VAR")),
              BatchSetup("invalid", {"profile": "nope"})]
    return run_batch(setups, jobs=3, environ={PW_VAR: good.account[1], "CANARY_VAR": CANARY})


def test_csv_report_has_a_leading_setup_column_and_a_summary_row_per_setup(mixed_batch):
    # Given a finished batch
    # When it is written as CSV
    text = batch_to_csv(mixed_batch)
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    # Then the header is the report's columns after `setup`, rows are grouped by setup, each ends with a summary
    assert text.split("\r\n", 1)[0] == ",".join(BATCH_COLUMNS)
    setups = list(dict.fromkeys(r["setup"] for r in records))
    assert setups == ["works", "'=wrong-password", "invalid"]  # formula-like name neutralised
    for name in setups:
        mine = [r for r in records if r["setup"] == name]
        assert mine[-1]["check_id"] == "summary" and len({r["run_id"] for r in mine}) == 1
    wrong = [r for r in records if r["setup"] == "'=wrong-password"]
    assert any(r["check_id"] == "auth.credentials" and r["status"] == "fail" for r in wrong)
    assert wrong[-1]["status"] == "fail" and "auth.credentials" in wrong[-1]["summary"]


def test_json_report_is_a_setups_list_of_reports(mixed_batch):
    # Given a finished batch
    # When it is written as JSON
    document = json.loads(batch_to_json(mixed_batch))
    # Then "setups" holds one report per setup (run + results) with its name and summary
    assert [s["setup"] for s in document["setups"]] == ["works", "=wrong-password", "invalid"]
    for entry in document["setups"]:
        assert set(entry) >= {"setup", "state", "summary", "run", "results"}
        assert {"id", "started_at", "host", "port", "verdict"} <= set(entry["run"])
    assert document["batch"]["setups"] == 3 and document["batch"]["problems"] == 2
    assert document["setups"][2]["state"] == "invalid"
    assert document["setups"][2]["results"][0]["check_id"] == "settings"


def test_summary_rows_and_problem_counts(mixed_batch):
    # Given a finished batch
    # When the summary and the failing-check counts are asked for
    summary = {row["setup"]: row for row in summary_rows(mixed_batch)}
    counts = problem_counts(mixed_batch)
    # Then each setup has its verdict and counts, and failing checks are counted per setup
    assert summary["works"]["verdict"] == "ready" and summary["works"]["fail"] == 0
    assert summary["=wrong-password"]["problems"] == "auth.credentials"
    assert counts == {"settings": 1, "auth.credentials": 1}


def test_canary_secret_never_appears_in_any_output(mixed_batch, smtp_lab, lab_settings, tmp_path):
    # Given a finished batch in which one setup used a canary password, and a CLI run of the same
    encoded = base64.b64encode(CANARY.encode()).decode().rstrip("=")
    server = smtp_lab(Scenario.BAD_CREDENTIALS)
    path = write_csv(tmp_path / "b.csv", [{"name": "canary", **batch_values(lab_settings, server,
                                                                          password_env="CANARY_VAR")}])
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"CANARY_VAR={CANARY}\n", encoding="utf-8")
    outputs = [batch_to_csv(mixed_batch), batch_to_json(mixed_batch)]
    for fmt in ("csv", "json", "table"):
        code, out, err = cli(["batch", str(path), "--secrets", str(secrets), "--format", fmt])
        assert code == 1
        outputs += [out, err]
    # Then neither the canary nor its base64 form is in any of them
    for text in outputs:
        assert CANARY not in text and encoded not in text


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_batch_exit_codes_and_output_file(smtp_lab, lab_settings, tmp_path):
    # Given a batch of working setups and one with a failing setup
    server = smtp_lab()
    working = write_csv(tmp_path / "ok.csv", [{"name": f"s{i}", **batch_values(lab_settings, server)}
                                              for i in range(3)])
    failing = write_csv(tmp_path / "bad.csv", [{"name": "bad", **batch_values(lab_settings, server,
                                                                               password_env="WRONG")}])
    environ = {PW_VAR: server.account[1], "WRONG": "not-the-password"}
    # When each runs (JSON to a file, table to stdout, a missing file)
    ok = cli(["batch", str(working), "--format", "json", "--output", str(tmp_path / "r.json"), "--jobs", "2"],
             environ=environ)
    bad = cli(["batch", str(failing)], environ=environ)
    missing = cli(["batch", str(tmp_path / "nope.csv")])
    bad_jobs = cli(["batch", str(working), "--jobs", "0"])
    # Then: 0 and the report file, 1 with the table, 2 for an unreadable file or a bad --jobs
    assert ok[0] == 0 and "written to" in ok[2]
    assert len(json.loads((tmp_path / "r.json").read_text())["setups"]) == 3
    assert bad[0] == 1 and "bad" in bad[1] and "auth.credentials" in bad[1] and "1 with problems" in bad[1]
    assert missing[0] == 2 and "no such file" in missing[2]
    assert bad_jobs[0] == 2 and "--jobs" in bad_jobs[2]


def _all_worker_pids() -> list[int]:
    """Every batch worker process on the machine, whoever started it."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and b"checks.batch.processes" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("processes", ["1", "2"])
def test_sigint_writes_the_setups_that_finished(smtp_lab, lab_settings, tmp_path, processes):
    # Given a batch of 2 setups on a fast lab server and 3 on a server taking 1.5 s per reply (in one process, or
    # shared with a worker process)
    fast, slow = smtp_lab(), smtp_lab(reply_delay=1.5)
    rows = [{"name": f"fast-{i}", **batch_values(lab_settings, fast, timeout=5, deadline=60)} for i in range(2)]
    rows += [{"name": f"slow-{i}", **batch_values(lab_settings, slow, timeout=5, deadline=60)} for i in range(3)]
    path = write_csv(tmp_path / "b.csv", rows)
    output = tmp_path / "report.csv"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment[PW_VAR] = fast.account[1]
    process = subprocess.Popen([sys.executable, "-m", "checks", "batch", str(path), "--jobs", "5", "--format", "csv",
                                "--output", str(output), "--processes", processes], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # When it is interrupted once the fast setups are done and the slow ones are still talking
        time.sleep(6.0)  # start-up, imports and the fast setups' checks, on a loaded machine too
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    # Then the report holds the finished setups and stderr says how many did not finish
    assert process.returncode == 130
    assert "2 setups finished" in err and "3 did not finish" in err
    records = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"), newline="")))
    assert sorted({r["setup"] for r in records}) == ["fast-0", "fast-1"]
    assert fast.account[1] not in output.read_text(encoding="utf-8")
    assert _all_worker_pids() == []  # no worker outlives the command
