"""`run --save`, `batch --save` and `history` (list, show, compare) from the command line, against the lab."""

from __future__ import annotations

import csv
import io
import json

import pytest

from checks.cli.main import main
from lab.smtp import Personality, Scenario

PASSWORD_VAR = "LAB_PASSWORD"


def cli(argv: list[str], environ: dict | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


def run_flags(settings: dict) -> list[str]:
    """The flags a user would type for lab settings (the password by environment variable)."""
    flags = []
    for key, value in settings.items():
        if key != "password":
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return [*flags, "--password-env", PASSWORD_VAR]


@pytest.fixture
def db(tmp_path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'history.sqlite3'}"]


@pytest.fixture
def two_runs(smtp_lab, lab_settings, db):
    """A setup saved as 'Contoso T-42' twice: first refused (wrong password), then working."""
    good = smtp_lab(personality=Personality.GMAIL)
    bad = smtp_lab(Scenario.BAD_CREDENTIALS, personality=Personality.GMAIL)
    ids = []
    for server in (bad, good):
        settings = lab_settings(server)
        code, _, err = cli(["run", *run_flags(settings), "--format", "json", "--save", "--name", "Contoso T-42", *db],
                           {PASSWORD_VAR: settings["password"]})
        assert "saved in the history as run" in err, err
        ids.append(err.split("saved in the history as run ")[1].split()[0])
    return ids


def test_saved_runs_are_listed_newest_first_with_verdict_and_cause(two_runs, db):
    # Given a setup saved twice, refused then working
    # When the history is listed
    code, out, _ = cli(["history", "--name", "contoso", *db])
    lines = out.splitlines()
    # Then the newest run comes first, and the older one shows its verdict and what failed
    assert code == 0 and two_runs[1] in lines[1] and "ready" in lines[1]
    assert two_runs[0] in lines[2] and "problems" in lines[2] and "auth.credentials" in lines[2]
    # And the same list comes as JSON and CSV
    document = json.loads(cli(["history", "--format", "json", *db])[1])
    assert [r["run_id"] for r in document["runs"]] == two_runs[::-1]
    assert document["runs"][1]["problems"] == ["auth.credentials"] and document["runs"][1]["setup"] == "Contoso T-42"
    rows = list(csv.DictReader(io.StringIO(cli(["history", "--format", "csv", "--latest", *db])[1])))
    assert [r["run_id"] for r in rows] == [two_runs[1]]


def test_show_prints_a_stored_run_in_any_report_format(two_runs, db):
    code, out, _ = cli(["history", "show", two_runs[0], "--format", "json", *db])
    document = json.loads(out)
    assert code == 0 and document["run"]["id"] == two_runs[0] and document["run"]["verdict"] == "problems"
    code, out, _ = cli(["history", *db, "show", two_runs[0][:8], "--format", "markdown"])
    assert code == 0 and out.startswith("## ") and "auth.credentials" in out
    code, out, _ = cli(["history", "show", two_runs[0], *db])
    assert code == 0 and "auth.credentials" in out


def test_compare_gives_the_per_check_before_and_after_older_to_newer(two_runs, db):
    # When the two runs are compared, even newest first
    code, out, _ = cli(["history", "compare", two_runs[1], two_runs[0], "--format", "json", *db])
    document = json.loads(out)
    # Then the comparison goes older -> newer: the sign-in was fixed
    assert code == 0 and document["before"]["id"] == two_runs[0] and document["after"]["id"] == two_runs[1]
    fixed = {c["check_id"]: c for c in document["changes"]}["auth.credentials"]
    assert (fixed["kind"], fixed["before"], fixed["after"]) == ("fixed", "fail", "pass")
    code, out, _ = cli(["history", "compare", two_runs[0], two_runs[1], *db])
    assert code == 0 and "1 fixed" in out and "auth.credentials" in out


def test_batch_save_keeps_each_setup_under_its_name(smtp_lab, lab_settings, db, tmp_path):
    server = smtp_lab(personality=Personality.GMAIL)
    values = lab_settings(server)
    password = values.pop("password")
    path = tmp_path / "b.csv"
    columns = ["name", *values, "password_env"]
    lines = [",".join(columns)] + [",".join([name, *map(str, values.values()), PASSWORD_VAR]) for name in ("a", "b")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, _ = cli(["batch", str(path), "--save", *db], {PASSWORD_VAR: password})
    listed = json.loads(cli(["history", "--format", "json", *db])[1])["runs"]
    assert code == 0 and sorted(r["setup"] for r in listed) == ["a", "b"]
    assert {r["source"] for r in listed} == {"batch"} and len({r["batch_id"] for r in listed}) == 1


def test_history_mistakes_are_named(db, tmp_path):
    assert cli(["history", "show", "nope00", *db])[0] == 1
    code, _, err = cli(["history", "--db", "mysql://u@h/d"])
    assert code == 2 and "--db" in err
    code, _, err = cli(["history", "--since", "yesterday", *db])
    assert code == 2 and "--since" in err
    code, _, err = cli(["run", "--profile", "gmail", "--name", "x"])
    assert code == 2 and "--save" in err
    assert cli(["history", *db])[1] == "No runs in the history match.\n"


def test_saving_deletes_runs_older_than_the_retention(tmp_path):
    # Given a history holding a run from two years ago
    import dataclasses
    import datetime as dt

    from checks.history.store import open_store
    from checks.model import CheckId, CheckResult, RunReport, Status

    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    report = RunReport("ancient-run1", old, old, "0.1.0", "custom", "smtp.lab.test", 587, "starttls", "",
                       (CheckResult.of(CheckId.SETTINGS, "Settings", Status.FAIL, "bad"),))
    store = open_store(url)
    store.save(dataclasses.replace(report), setup="old")
    store.close()
    # When a run is saved from the command line with a retention of 365 days (an invalid profile: exit 2, no run)
    # and then a batch is saved
    batch = tmp_path / "b.csv"
    batch.write_text("name,profile\nx,nope\n", encoding="utf-8")
    code, _, _ = cli(["batch", str(batch), "--save", "--db", url], {"RELAY_CONSOLE_KEEP_DAYS": "365"})
    # Then the old run is gone and the new one is kept
    listed = json.loads(cli(["history", "--format", "json", "--db", url])[1])["runs"]
    assert code == 1 and [r["setup"] for r in listed] == ["x"]
