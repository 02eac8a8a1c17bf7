"""The field table: every setting is in it once, and from there reaches the CLI, the settings file and the form."""

from __future__ import annotations

import dataclasses
import io

import pytest

from checks.cli.main import build_parser
from checks.settings.config import SECRET_FIELDS, ProfileId, RelayConfig
from checks.settings.fields import EXPOSED, FIELDS, FORM_FIELDS, SETTING_FIELDS, Kind, Shown, default
from checks.settings.loading import ENV_REFERENCES, SETTING_KEYS, config_from_values, parse_toml
from console.forms import fields_for, form_values_for, preset_values

# A valid value per kind as a user would type it, and what RelayConfig then holds.
TYPED = {Kind.TEXT: "x", Kind.INT: "2525", Kind.FLOAT: "7.5", Kind.DATE: "2027-01-31"}
SAMPLE = {"host": "relay.example.com", "username": "app@example.com", "sender": "app@example.com",
          "send_test_to": "you@example.com", "nameserver": "192.0.2.53", "connect_to": "192.0.2.25",
          "tenant_id": "t", "client_id": "c", "login_url": "https://login.example", "graph_url": "https://graph.example"}


def _typed(spec) -> str:
    if spec.kind is Kind.CHOICE:
        return list(spec.choices)[-1].value
    return SAMPLE.get(spec.name, TYPED.get(spec.kind, ""))


def test_every_relay_config_field_is_in_the_table_once_in_the_same_order():
    assert [f.name for f in dataclasses.fields(RelayConfig)] == [f.name for f in SETTING_FIELDS]
    assert tuple(f.name for f in SETTING_FIELDS if f.secret) == SECRET_FIELDS


CONTRACT_KEYS = ("profile", "host", "port", "security", "auth", "username", "sender", "password_env", "ca_file",
                 "nameserver", "connect_to", "timeout", "deadline", "tenant_id", "client_id", "client_secret_env",
                 "secret_expires", "refresh_token_env", "cloud", "login_url", "graph_url", "send_test_to")


def test_the_cli_flags_file_keys_and_batch_columns_stay_the_contract():
    # Given the keys users have in their settings files, batch files and scripts (extended, never renamed)
    # Then each is still a key, in the same order, and each secret is still referenced by its *_env key
    assert [k for k in SETTING_KEYS if k in CONTRACT_KEYS] == list(CONTRACT_KEYS)
    assert {"password_env": "password", "client_secret_env": "client_secret",
            "refresh_token_env": "refresh_token"}.items() <= ENV_REFERENCES.items()


@pytest.mark.parametrize("spec", EXPOSED, ids=lambda f: f.name)
def test_every_exposed_setting_reaches_the_cli_the_settings_file_and_the_form(spec, tmp_path):
    # Given a value typed for the setting
    value = _typed(spec)
    # When it is given as a CLI flag (a secret: the name of its environment variable)
    args = build_parser(io.StringIO(), io.StringIO()).parse_args(["run", spec.flag, "VAR" if spec.secret else value])
    assert getattr(args, spec.key) == ("VAR" if spec.secret else value)
    # and as a key of a settings file
    if spec.secret:
        assert parse_toml(f'{spec.key} = "VAR"') == {spec.key: "VAR"}
        config = config_from_values({"profile": "custom", "auth": "none", "host": "relay.example.com",
                                     spec.key: "VAR"}, environ={"VAR": "s3cret"})
        assert getattr(config, spec.name).reveal() == "s3cret"
    else:
        if spec.kind is Kind.PATH:
            return  # the CA file is loaded and checked by tests/test_fuzz_inputs.py and tests/test_smtp_checks.py
        assert parse_toml(f'{spec.key} = "{value}"') == {spec.key: value}
        config = config_from_values({"profile": "custom", "auth": "none", "host": "relay.example.com",
                                     spec.key: value})
        held = getattr(config, spec.name)
        assert str(getattr(held, "value", held)) in (value, str(float(value)) if spec.kind is Kind.FLOAT else value)
    # Then the console form shows it for at least one setup (the profile has its own picker)
    shown = {s.key for p in ProfileId for auth in ("password", "none") for s in fields_for(p.value, auth=auth)}
    assert spec.name in shown or spec.shown is Shown.PICKER


@pytest.mark.parametrize("spec", [f for f in SETTING_FIELDS if not f.exposed], ids=lambda f: f.name)
def test_settings_only_code_sets_are_on_no_flag_file_or_form(spec):
    # Given a setting the table does not expose (today: ehlo_name)
    # Then no flag, file key or form field offers it
    assert spec.key not in SETTING_KEYS and spec not in FORM_FIELDS
    with pytest.raises(ValueError, match=spec.key):
        parse_toml(f'{spec.key} = "x"')


def test_the_form_starts_from_relay_configs_defaults():
    # Given the guide's Microsoft 365 OAuth2 preset
    values = preset_values("m365-oauth2")
    # Then every default the form shows is RelayConfig's, not a copy (numbers are typed as text in the form)
    assert float(values["timeout"]) == default("timeout") == RelayConfig.__dataclass_fields__["timeout"].default
    assert float(values["deadline"]) == default("deadline") and values["cloud"] == default("cloud") == "global"
    assert values["host"] == "smtp.office365.com" and values["port"] == "587"


def test_form_values_follow_each_fields_kind():
    values = form_values_for({"profile": "custom", "port": "2525", "timeout": "5", "secret_expires": "2027-01-31",
                              "security": "TLS", "cloud": "mars", "username": "  a@example.com"})
    assert values["port"] == "2525" and values["timeout"] == "5" and str(values["secret_expires"]) == "2027-01-31"
    assert values["security"] == "tls" and values["cloud"] == "global" and values["username"] == "  a@example.com"
    assert set(FIELDS) >= set(values)
