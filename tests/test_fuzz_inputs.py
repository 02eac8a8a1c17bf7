"""Bad input never breaks the engine: settings values, settings files, CLI flags and uploaded reports (hypothesis).

Every property counts the examples it ran; the totals are printed in pytest's summary ("fuzzed inputs: ...").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.cli import main as cli
from checks.report.export import REPORT_COLUMNS
from checks.report.reader import ImportedReport, ReportFormatError, read_report
from checks.settings.config import SECRET_FIELDS, InvalidSettings, has_control_chars
from checks.settings.loading import ENV_REFERENCES, SETTING_KEYS, config_from_values, load_toml
from lab.blackhole import closed_port

MAX_EXAMPLES = 300
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.filter_too_much])
EXAMPLES: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()  # how the examples ended (valid / refused / exit status), to show they vary
CANARY = "Cnry-"  # every secret value starts with this; no error message may show it
ENVIRON = {"PW": CANARY + "env-password", "PW_CRLF": CANARY + "pw\r\nRCPT TO:<x@evil.example>", "EMPTY": ""}
KNOWN_FIELDS = set(SETTING_KEYS) | set(SECRET_FIELDS) | {"ehlo_name", "config"}
# Fields whose value goes into the SMTP dialogue or a URL: a validated config never holds a control character.
DIALOGUE_FIELDS = ("host", "username", "sender", "send_test_to", "ehlo_name", "tenant_id", "client_id",
                   "nameserver", "connect_to", "login_url", "graph_url")
NASTY_TEXT = [
    "", " ", "smtp.office365.com", "smtp.office365.com\r\nRCPT TO:<x@evil.example>", "a@b.example\r\nDATA",
    "relay@contoso.example\n", "relay@contoso.example\x00", "\x1b[31mred", "=HYPERLINK(\"x\")", "587", "٥٨٧",
    "1e400", "nan", "-inf", "0", "600.0000001", "1_000", "0x24b", "\u202e", "ſmtp.gmail.com", "[::1]:53",
    "127.0.0.1:99999", "https://login.example\r\n", "x" * 300, "a" * 64 + "@" + "b" * 190 + ".example",
    "2026-02-30", "9999-12-31", "PW", "PW_CRLF", "EMPTY", "UNSET_VAR", "/dev/null", "/", "\x00",
]
any_text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=80))
any_value = st.one_of(
    st.none(), any_text, st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(),
    st.just(10**5000),  # str() refuses integers of more than 4300 digits
    st.dates(), st.datetimes(), st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
secret_value = st.one_of(st.text(max_size=40), st.sampled_from(["", "\r\n", "pw\nx", "pässwörd"])).map(
    lambda text: CANARY + text)
setting_key = st.sampled_from([*SETTING_KEYS, "ehlo_name", "bogus", "", "Host", "name", "setup"])


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    line = (f"fuzzed inputs: {dict(sorted(EXAMPLES.items()))} total {sum(EXAMPLES.values())}; "
            f"outcomes: {dict(sorted(OUTCOMES.items()))}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:  # pragma: no cover - run with -p no:capture
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print("\n" + line)


VALID_VALUES = {"profile": "custom", "host": "smtp.lab.test", "port": "587", "username": "relay@lab.test",
                "sender": "relay@lab.test", "password": CANARY + "password", "timeout": "2", "deadline": "10"}


@st.composite
def setting_values(draw) -> dict:
    if draw(st.booleans()):  # a valid setup with one to three fields changed: most such configs still validate
        values = dict(VALID_VALUES)
        values.update(draw(st.dictionaries(setting_key, any_value, min_size=1, max_size=3)))
        return values
    values = draw(st.dictionaries(setting_key, any_value, max_size=8))
    for name in draw(st.lists(st.sampled_from(SECRET_FIELDS), max_size=2, unique=True)):
        values[name] = draw(secret_value)
    for ref in draw(st.lists(st.sampled_from(list(ENV_REFERENCES)), max_size=2, unique=True)):
        values[ref] = draw(st.sampled_from([*ENVIRON, "UNSET_VAR", " PW "]))
    return values


def assert_safe_config(config) -> None:
    for name in DIALOGUE_FIELDS:
        value = getattr(config, name)
        if value is not None:
            assert not has_control_chars(value), (name, value)
            assert "\r" not in value and "\n" not in value
    for name in SECRET_FIELDS:
        secret = getattr(config, name)
        if secret is not None:
            assert not has_control_chars(secret.reveal()), name


@FUZZ
@given(values=setting_values())
def test_any_settings_values_validate_or_name_the_bad_field(values):
    # Given any mix of settings values (wrong types, line breaks, control characters, huge numbers, bad dates)
    EXAMPLES["settings.config_from_values"] += 1
    # When they are turned into settings
    try:
        config = config_from_values(values, environ=ENVIRON)
    except InvalidSettings as exc:
        # Then they are refused with one message per offending field, naming a real field, never a secret
        assert exc.errors
        for error in exc.errors:
            assert error.field in KNOWN_FIELDS | set(values), error
            assert error.message
        assert CANARY not in str(exc) + repr(exc)
        OUTCOMES["settings refused"] += 1
        return
    # Or they validate, and nothing that reaches the SMTP dialogue holds a line break or control character
    assert_safe_config(config)
    OUTCOMES["settings valid"] += 1


toml_fragment = st.one_of(
    st.sampled_from([*SETTING_KEYS, "password", "[setup]", "[[setup]]", "=", " = ", "\n", '"', "'", "'''", '"""',
                     "[", "]", "{", "}", ",", "#", "1979-05-27T07:32:00Z", "07:32:00", "1979-02-30", "inf", "nan",
                     "0x_1", "1e400", "9" * 5000, "true", "\\u0000", "\\", "\r\n", "\x00", "\xff"]),
    st.text(max_size=10),
)


@st.composite
def toml_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["binary", "fragments", "assignment"]))
    if kind == "binary":
        return draw(st.binary(max_size=400))
    if kind == "fragments":
        return "".join(draw(st.lists(toml_fragment, max_size=25))).encode("utf-8", "surrogatepass")
    key = draw(st.sampled_from([*SETTING_KEYS, "password", "client_secret"]))
    value = draw(st.one_of(
        st.text(max_size=30).map(json.dumps), st.integers().map(str), st.sampled_from(["true", "1e400", "nan"]),
        st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
        st.integers(min_value=1, max_value=3000).map(lambda n: "{a=" * n + "1" + "}" * n),
    ))
    return f"{key} = {value}\n".encode("utf-8", "surrogatepass")


@FUZZ
@given(data=toml_bytes())
def test_any_settings_file_is_read_or_refused_plainly(tmp_path_factory, data):
    # Given a settings file holding any bytes
    EXAMPLES["settings.load_toml"] += 1
    path = tmp_path_factory.mktemp("toml") / "settings.toml"
    path.write_bytes(data)
    # When it is loaded (and what it holds is turned into settings)
    try:
        loaded = load_toml(path)
    except InvalidSettings as exc:
        # Then it is refused with a plain message
        assert exc.errors and all(e.field in KNOWN_FIELDS for e in exc.errors)
        OUTCOMES["toml refused"] += 1
        return
    # Or it is a dict, whose values validate or are refused by field
    assert isinstance(loaded, dict)
    OUTCOMES["toml read"] += 1
    with contextlib.suppress(InvalidSettings):
        assert_safe_config(config_from_values(loaded, environ=ENVIRON))


def test_a_settings_file_that_never_ends_or_is_a_folder_is_refused(tmp_path):
    # Given a device that never ends, a folder, and a file nested thousands of levels deep
    deep = tmp_path / "deep.toml"
    deep.write_text("host = " + "[" * 100_000 + "]" * 100_000 + "\n")
    for path in (Path("/dev/zero"), tmp_path, deep):
        # When each is loaded as settings
        # Then it is refused plainly (and quickly: /dev/zero is not read to the end)
        with pytest.raises(InvalidSettings) as caught:
            load_toml(path)
        assert caught.value.errors[0].field == "config"


RUN_OPTIONS = ["--config", "--profile", "--host", "--port", "--security", "--auth", "--username", "--sender",
               "--password-env", "--password-stdin", "--ca-file", "--nameserver", "--connect-to", "--timeout",
               "--deadline", "--tenant-id", "--client-id", "--client-secret-env", "--secret-expires",
               "--refresh-token-env", "--cloud", "--login-url", "--graph-url", "--send-test-to", "--format",
               "--verbose", "--only", "--prof", "--hos", "-h", "--", "-", "--=", "--host=", "--port=0"]
argv_token = st.one_of(st.sampled_from(RUN_OPTIONS), any_text, st.sampled_from(["gmail", "m365-basic", "custom",
                                                                                "starttls", "json", "csv"]))
option_pair = st.tuples(st.sampled_from(RUN_OPTIONS[:-10]), any_text)
argv_tokens = st.tuples(st.lists(option_pair, max_size=6), st.lists(argv_token, max_size=6)).map(
    lambda parts: [token for pair in parts[0] for token in pair] + parts[1])


def never_writes_or_batches(token: str) -> bool:
    """--output (and its abbreviations) would write files; batch would connect to the setups' hosts."""
    return not token.startswith("--o") and token != "batch"


@FUZZ
@given(first=st.sampled_from(["run", "explain", "--help", "", "bogus"]),
       tokens=argv_tokens.map(lambda tokens: [t for t in tokens if never_writes_or_batches(t)]),
       stdin_text=st.sampled_from(["", "\n", CANARY + "stdin-pw\n", "pw\r\nx"]))
def test_any_command_line_exits_0_1_or_2_without_a_traceback(tmp_path_factory, monkeypatch, first, tokens,
                                                             stdin_text):
    # Given any command line (run only the offline settings check; never a connection beyond 127.0.0.1)
    EXAMPLES["cli.main"] += 1
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    argv = [first, *tokens]
    if first == "run":
        argv += ["--host", "127.0.0.1", "--port", str(closed_port()), "--only", "settings"]
    stdout, stderr = io.StringIO(), io.StringIO()
    # When the CLI runs it
    code = cli.main(argv, stdin=io.StringIO(stdin_text), stdout=stdout, stderr=stderr, environ=ENVIRON)
    # Then it exits 0, 1 or 2 with plain messages: no traceback, no exception class names, no secret
    errors = stderr.getvalue()
    assert code in (0, 1, 2, 3), (code, errors)
    assert "Traceback" not in errors + stdout.getvalue()
    assert not re.search(r"error: [A-Z]\w*(Error|Exception)\b", errors), errors
    assert "stopped unexpectedly" not in errors
    assert CANARY not in errors + stdout.getvalue()
    OUTCOMES[f"cli exit {code}"] += 1


csv_cell = st.one_of(any_text, st.sampled_from(["settings", "port", "pass", "fail", "2026-11-28T10:00:00+00:00",
                                                "28/11/2026 10:00", "1e400", "'=1+1", "\"", "\r\n", "12,5"]))


def sample_report():
    from checks.model import CheckId, CheckResult, RunReport, Status

    moment = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    results = tuple(CheckResult.of(check_id, check_id.value, status, f"=summary {check_id.value}", details="d\nx",
                                duration_ms=12) for check_id, status in zip(
        list(CheckId)[:6], [Status.PASS, Status.WARN, Status.FAIL, Status.SKIP, Status.ERROR, Status.PASS], strict=True))
    return RunReport("run1", moment, moment, "1.0", "custom", "smtp.lab.test", 587, "starttls",
                     "relay@lab.test", results)


@st.composite
def mutated_report(draw) -> bytes | str:
    """One of our reports (CSV or JSON) with a few cells or characters changed, cut short, or re-encoded."""
    from checks.report.export import to_csv, to_json

    text = draw(st.sampled_from([to_csv(sample_report()), to_json(sample_report())]))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        where = draw(st.integers(min_value=0, max_value=len(text)))
        cut = draw(st.integers(min_value=0, max_value=12))
        text = text[:where] + draw(csv_cell) + text[where + cut:]
    if draw(st.booleans()):
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    encoding = draw(st.sampled_from(["str", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text if encoding == "str" else text.encode(encoding, "replace")


@st.composite
def report_texts(draw) -> bytes | str:
    kind = draw(st.sampled_from(["binary", "text", "csv", "json", "deep-json", "ours", "ours"]))
    if kind == "ours":
        return draw(mutated_report())
    if kind == "binary":
        return draw(st.binary(max_size=500))
    if kind == "text":
        return draw(st.text(max_size=300))
    if kind == "csv":
        header = draw(st.permutations(list(REPORT_COLUMNS)).map(list) | st.lists(csv_cell, max_size=16))
        rows = draw(st.lists(st.lists(csv_cell, max_size=16), max_size=4))
        delimiter = draw(st.sampled_from([",", ";", "\t"]))
        text = "\r\n".join(delimiter.join(json.dumps(c) if draw(st.booleans()) else c for c in row)
                           for row in [header, *rows])
        return text if draw(st.booleans()) else text.encode("utf-8", "surrogatepass")
    if kind == "json":
        scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text)
        tree = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
            st.sampled_from(["id", "started_at", "host", "port", "check_id", "status", "duration_ms", "x"]),
            inner, max_size=4), max_leaves=12)
        run = draw(st.dictionaries(st.sampled_from(["id", "started_at", "finished_at", "host", "port", "profile"]),
                                   scalar, max_size=6))
        document = {"run": run, "results": draw(st.lists(tree, max_size=3))}
        return json.dumps(document, default=str)
    depth = draw(st.integers(min_value=100, max_value=200_000))
    return "{" + '"run": ' + "[" * depth + "]" * depth + "}"


@FUZZ
@given(data=report_texts())
def test_any_uploaded_report_is_read_or_refused_plainly(data):
    # Given any bytes or text uploaded as a saved report (CSV, JSON, or neither)
    EXAMPLES["report.read_report"] += 1
    # When it is read back
    try:
        report = read_report(data)
    except ReportFormatError as exc:
        # Then it is refused with a plain message
        assert str(exc)
        OUTCOMES["report refused"] += 1
        return
    # Or it is a report
    assert isinstance(report, ImportedReport)
    assert all(isinstance(r.duration_ms, int) for r in report.results)
    assert isinstance(report.started_at, dt.datetime)
    OUTCOMES["report read"] += 1
