"""The command line: argument handling, settings precedence, exit codes, output formats and secret hygiene."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from checks.cli.main import main
from checks.report.export import REPORT_COLUMNS
from checks.report.reader import read_report
from checks.run_state import Dependencies

ROOT = Path(__file__).resolve().parents[1]
CANARY = "Canary-Pw-5f2e9d"  # not 16 letters: the settings check warns, it does not fail
APP_PASSWORD = "abcdefghijklmnop"  # the shape of a Google app password
GMAIL = ["run", "--profile", "gmail", "--username", "alice@gmail.com", "--only", "settings"]


class Terminal(io.StringIO):
    """A text stream that says it is a terminal (stands in for an interactive stdout)."""

    def isatty(self) -> bool:
        return True


def cli(argv, *, stdin="", environ=None, stdout=None, deps=None):
    out, err = stdout if stdout is not None else io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, environ=environ or {}, deps=deps)
    return code, out.getvalue(), err.getvalue()


def run_module(*args, env=None, stdin=None, timeout=60):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "checks", *args], cwd=ROOT, env=environment, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------------------ subprocess


def test_help_runs_as_a_module_without_heavy_imports():
    # Given a fresh interpreter
    # When the CLI module is imported and --help is asked for
    probe = ("import sys; from checks.cli.main import main; code = main(['--help']); "
             "heavy = [m for m in ('pandas', 'msal', 'dns', 'streamlit', 'requests', 'sqlalchemy', "
             "'prometheus_client') if m in sys.modules]; "
             "print('HEAVY', heavy); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=30)
    # Then it prints the usage, exits 0 and has imported nothing heavy
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout and "{run,batch,explain,history,audit,watch}" in result.stdout
    module = run_module("--help")
    assert module.returncode == 0 and "usage: python -m checks" in module.stdout


def test_bad_invocation_exits_2_as_a_module():
    result = run_module("run", "--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert "Traceback" not in result.stderr


def test_gmail_settings_run_as_a_module():
    # Given a Gmail setup with an app password in the environment
    # When `run --only settings` runs in a real interpreter, as JSON
    result = run_module(*GMAIL, "--password-env", "RELAY_PW", "--format", "json", env={"RELAY_PW": APP_PASSWORD})
    # Then the settings check ran, and the exit status agrees with the report's verdict
    document = json.loads(result.stdout)
    assert [r["check_id"] for r in document["results"]] == ["settings"]
    assert document["results"][0]["status"] in ("pass", "warn"), document["results"][0]
    assert result.returncode == (1 if document["run"]["verdict"] == "problems" else 0)
    assert APP_PASSWORD not in result.stdout + result.stderr


def test_password_stdin_as_a_module_never_echoes_it():
    result = run_module(*GMAIL, "--password-stdin", "--format", "markdown", stdin=CANARY + "\n")
    assert result.returncode == 0, result.stderr
    assert "settings" in result.stdout
    assert CANARY not in result.stdout + result.stderr


# ----------------------------------------------------------------------------------------- in-process


def test_no_command_prints_help_and_exits_2():
    code, out, err = cli([])
    assert code == 2 and "usage:" in err


def test_help_in_process_goes_to_stdout():
    code, out, err = cli(["run", "--help"])
    assert code == 0
    assert "--password-env VAR" in out and "--connect-to HOST[:PORT]" in out and err == ""


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_password_from_env_never_appears_in_any_format(fmt, tmp_path):
    # Given a password in an environment variable
    environ = {"RELAY_PW": CANARY}
    # When the run prints a report, and again writes it to a file
    code, out, err = cli([*GMAIL, "--password-env", "RELAY_PW", "--format", fmt, "--verbose"], environ=environ)
    target = tmp_path / f"report.{fmt}"
    code_file, out_file, err_file = cli([*GMAIL, "--password-env", "RELAY_PW", "--format", fmt,
                                         "--output", str(target)], environ=environ)
    # Then the run happened, and neither the password nor its base64 form is anywhere
    assert code == 0 and code_file == 0, err + err_file
    assert "settings" in out and target.is_file()
    encoded = base64.b64encode(CANARY.encode()).decode().rstrip("=")
    for text in (out, err, out_file, err_file, target.read_text(encoding="utf-8")):
        assert CANARY not in text and encoded not in text


def test_output_file_prints_a_one_line_summary(tmp_path):
    # Given --output with csv
    target = tmp_path / "out.csv"
    code, out, err = cli([*GMAIL, "--password-env", "PW", "--format", "csv", "--output", str(target)],
                         environ={"PW": APP_PASSWORD})
    # Then stdout stays empty, stderr has one summary line and the file is our CSV report
    assert code == 0 and out == ""
    assert err.count("\n") == 1 and str(target) in err
    assert target.read_bytes().startswith(",".join(REPORT_COLUMNS).encode() + b"\r\n")
    assert read_report(target.read_bytes()).results[0].check_id.value == "settings"


def test_output_into_missing_folder_is_refused_before_running(tmp_path):
    code, out, err = cli([*GMAIL, "--password-env", "PW", "--output", str(tmp_path / "nope" / "r.csv")],
                         environ={"PW": APP_PASSWORD})
    assert code == 2 and "does not exist" in err


def test_password_stdin_is_used_and_required():
    # Given no password at all
    code, _, err = cli(GMAIL)
    # Then the settings are invalid
    assert code == 2 and "error: password: is required" in err
    # Given the password on standard input
    code, out, err = cli([*GMAIL, "--password-stdin", "--format", "json"], stdin=CANARY + "\r\n")
    # Then the run goes ahead and nothing echoes it
    assert code == 0, err
    assert json.loads(out)["results"][0]["check_id"] == "settings"
    assert CANARY not in out + err
    # Given an empty standard input
    code, _, err = cli([*GMAIL, "--password-stdin"], stdin="")
    assert code == 2 and "--password-stdin" in err


def test_password_env_and_stdin_are_exclusive():
    code, _, err = cli([*GMAIL, "--password-env", "PW", "--password-stdin"], environ={"PW": "x"})
    assert code == 2 and "not allowed with" in err


def test_missing_environment_variable_is_a_settings_error():
    code, _, err = cli([*GMAIL, "--password-env", "NOT_SET_ANYWHERE"])
    assert code == 2 and "error: password_env: environment variable 'NOT_SET_ANYWHERE' is not set" in err


def test_toml_config_with_flag_override(tmp_path):
    # Given a settings file for a custom relay
    config = tmp_path / "relay.toml"
    config.write_text('profile = "custom"\nhost = "relay.example.test"\nport = 2525\nsecurity = "starttls"\n'
                      'username = "app@example.test"\npassword_env = "RELAY_PW"\ntimeout = 5\n', encoding="utf-8")
    # When it is used with --port on the command line
    code, out, err = cli(["run", "--config", str(config), "--port", "587", "--only", "settings", "--format", "json"],
                         environ={"RELAY_PW": CANARY})
    # Then the file's values apply and the flag wins
    assert code in (0, 1), err
    run = json.loads(out)["run"]
    assert (run["profile"], run["host"], run["port"], run["sender"]) == ("custom", "relay.example.test", 587,
                                                                         "app@example.test")
    assert code == (1 if json.loads(out)["run"]["verdict"] == "problems" else 0)


def test_toml_with_an_inline_secret_is_refused(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(f'profile = "gmail"\nusername = "a@gmail.com"\npassword = "{CANARY}"\n', encoding="utf-8")
    code, out, err = cli(["run", "--config", str(config)])
    assert code == 2 and "error: password: secrets are not read from files" in err
    assert CANARY not in out + err


def test_missing_config_file_is_exit_2(tmp_path):
    code, _, err = cli(["run", "--config", str(tmp_path / "none.toml")])
    assert code == 2 and "error: config: no such file" in err


@pytest.mark.parametrize("port", ["70000", "abc", "0"])
def test_invalid_port_exits_2_naming_the_field(port):
    code, out, err = cli([*GMAIL, "--password-env", "PW", "--port", port], environ={"PW": APP_PASSWORD})
    assert code == 2 and out == ""
    assert "error: port:" in err and "Traceback" not in err


def test_every_field_error_is_listed():
    code, _, err = cli(["run", "--profile", "nope", "--security", "ssl", "--timeout", "soon"])
    assert code == 2
    for field in ("profile", "security", "timeout"):
        assert f"error: {field}: " in err


def test_unknown_only_id_lists_the_valid_ids():
    code, _, err = cli([*GMAIL[:-1], "settings,dns.nope", "--password-env", "PW"], environ={"PW": APP_PASSWORD})
    assert code == 2
    assert "'dns.nope'" in err and "settings, dns.host, dns.mx, domain.spf" in err


def test_only_ids_that_do_not_apply_are_refused():
    code, _, err = cli([*GMAIL[:-1], "oauth.token", "--password-env", "PW"], environ={"PW": APP_PASSWORD})
    assert code == 2 and "does not apply" in err


def test_live_progress_when_stdout_is_a_terminal():
    # Given an interactive stdout
    code, out, err = cli([*GMAIL, "--password-env", "PW"], environ={"PW": APP_PASSWORD, "NO_COLOR": "1"},
                         stdout=Terminal())
    # Then progress lines go to stderr and the table with its verdict to stdout
    assert code == 0
    assert "Running 1 check" in err and "settings" in err and " ms)" in err
    assert "Ready for go-live" in out and "STATUS" in out


def test_no_progress_when_piped():
    code, out, err = cli([*GMAIL, "--password-env", "PW"], environ={"PW": APP_PASSWORD})
    assert code == 0 and err == "" and "\x1b" not in out


def test_unreachable_port_is_exit_1(tmp_path):
    # Given a custom relay on a loopback port nobody listens on
    port = str(free_port())
    code, out, err = cli(["run", "--profile", "custom", "--host", "127.0.0.1", "--port", port, "--auth", "none",
                          "--security", "none", "--only", "port", "--timeout", "2", "--deadline", "20",
                          "--format", "json"])
    # Then the run reports a fail or an error and exits 1
    results = {r["check_id"]: r["status"] for r in json.loads(out)["results"]}
    assert code == 1, (results, err)
    assert "port" in results
    assert any(status in ("fail", "error") for status in results.values())


def test_crash_inside_the_run_is_one_masked_line():
    # Given a clock that breaks and mentions the password
    def broken_clock() -> float:
        raise RuntimeError(f"clock broke while holding {CANARY}\nsecond line")

    # When the run starts
    code, out, err = cli([*GMAIL, "--password-env", "PW"], environ={"PW": CANARY},
                         deps=Dependencies(clock=broken_clock))
    # Then it is one error line, exit 1, with the password masked
    assert code == 1 and out == ""
    assert err.startswith("error: the run stopped unexpectedly: RuntimeError: clock broke while holding ********")
    assert err.count("\n") == 1 and CANARY not in err


# ----------------------------------------------------------------------------------------------- explain


def test_explain_needs_text():
    code, _, err = cli(["explain", "   "])
    assert code == 2 and "error: explain" in err


def test_explain_known_and_unknown_replies():
    known = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    code, out, _ = cli(["explain", known])
    assert code == 0 and out.strip()
    code, out, _ = cli(["explain", "-", "--format", "json"], stdin=known)
    assert code == 0 and json.loads(out)["known"] is True
    code, out, _ = cli(["explain", "hello there, nothing to see", "--format", "json"])
    assert code == 1 and json.loads(out)["known"] is False


def test_explain_fills_the_commands_with_the_values_given():
    # Given a Postfix log line (it names neither the signed-in mailbox nor the tenant)
    line = ("postfix/smtp[9]: 1A2B: to=<a@example.org>, relay=smtp.office365.com[52.96.1.1]:587, status=deferred "
            "(SASL authentication failed; server smtp.office365.com[52.96.1.1] said: 535 5.7.139 Authentication "
            "unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.)")
    # When it is explained with the mailbox given on the command line
    code, out, _ = cli(["explain", line, "--username", "relay@contoso.com", "--format", "json"])
    # Then the copy-ready commands carry that mailbox, and the host read from the log
    commands = [c["code"] for c in json.loads(out)["explanations"][0]["commands"]]
    assert code == 0
    assert "Set-CASMailbox -Identity relay@contoso.com -SmtpClientAuthenticationDisabled $false" in commands
    code, out, _ = cli(["explain", line])
    assert "Set-CASMailbox -Identity <mailbox>" in out
