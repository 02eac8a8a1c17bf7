"""The providers table: every provider fact has one home, and the facts of each cloud reach the checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks import CheckId, RelayConfig, run_checklist
from checks.oauth.endpoints import endpoints_for
from checks.run_state import Dependencies
from checks.settings.config import AuthMethod, Cloud, ProfileId, Security
from checks.settings.loading import config_from_values
from checks.settings.profiles import PROFILES
from checks.settings.providers import (
    KNOWN_RELAY_HOSTS,
    PROVIDERS,
    Provider,
    alternative_port,
    provider_of_host,
    provider_of_mx,
    tenancy_of_host,
)
from checks.target_policy import DEFAULT_HOSTS


def _settings_finding(config: RelayConfig):
    deps = Dependencies(now=lambda: dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    return run_checklist(config, only=(CheckId.SETTINGS,), deps=deps).results[0]


@pytest.mark.parametrize(("host", "provider", "tenancy"), [
    ("smtp.gmail.com", Provider.GOOGLE, "Gmail and Google Workspace"),
    ("SMTP.Office365.com.", Provider.MICROSOFT, "worldwide and GCC"),
    ("smtp-legacy.office365.com", Provider.MICROSOFT, "worldwide and GCC"),
    ("smtp.office365.us", Provider.MICROSOFT, "GCC High"),
    ("outlook-dod.office365.us", Provider.MICROSOFT, "DoD"),
    ("smtp.partner.outlook.cn", Provider.MICROSOFT, "21Vianet"),
])
def test_given_a_provider_host_when_looked_up_then_its_provider_and_tenancy_are_known(host, provider, tenancy):
    assert provider_of_host(host) is provider
    assert tenancy_of_host(host)[2].name == tenancy
    assert host.lower().rstrip(".") in DEFAULT_HOSTS


def test_given_other_names_when_looked_up_then_no_provider():
    assert provider_of_host("mail.example.com") is None
    assert provider_of_host("smtp-legacy.partner.outlook.cn") is None  # 21Vianet ended legacy TLS in 2023
    assert provider_of_mx("eu-smtp-inbound-1.mimecast.com") is None
    assert provider_of_mx("contoso-us.mail.protection.office365.us") is Provider.MICROSOFT


def test_given_each_cloud_when_asking_microsoft_for_its_facts_then_each_cloud_has_its_own_host_and_spf():
    microsoft = PROVIDERS[Provider.MICROSOFT]
    assert [microsoft.guide_host(c) for c in Cloud] == ["smtp.office365.com", "smtp.office365.us",
                                                         "smtp.partner.outlook.cn"]
    assert microsoft.service(Cloud.USGOV).spf_include == "include:spf.protection.office365.us"
    assert "outlook-dod.office365.us" in microsoft.hosts(Cloud.USGOV)
    assert "smtp-legacy.office365.com" not in microsoft.hosts(Cloud.GLOBAL)  # a stopgap, not a guide host
    assert PROVIDERS[Provider.GOOGLE].guide_host(Cloud.USGOV) == "smtp.gmail.com"  # Google has no national cloud


def test_every_profile_with_a_provider_takes_its_host_from_the_providers_table():
    for preset in PROFILES.values():
        assert preset.host == (PROVIDERS[preset.provider].guide_host() if preset.provider else "")
    assert KNOWN_RELAY_HOSTS == DEFAULT_HOSTS


@pytest.mark.parametrize(("provider", "port", "expected"), [
    (Provider.MICROSOFT, 587, (25, Security.STARTTLS)),
    (Provider.MICROSOFT, 25, (587, Security.STARTTLS)),
    (Provider.GOOGLE, 587, (465, Security.TLS)),
    (Provider.GOOGLE, 465, (587, Security.STARTTLS)),
    (None, 587, (465, Security.TLS)),
])
def test_given_a_blocked_port_when_asking_for_another_then_the_providers_other_port(provider, port, expected):
    assert alternative_port(provider, port) == expected


def test_given_a_dod_tenant_when_checking_settings_then_its_smtp_host_is_accepted():
    config = config_from_values({"profile": "m365-basic", "cloud": "usgov", "host": "outlook-dod.office365.us",
                                 "username": "a@contoso.us", "password": "x"})
    finding = _settings_finding(config)
    assert "[ok] Host outlook-dod.office365.us: Microsoft 365's host for DoD tenants." in finding.details
    assert "not the guide's" not in finding.details


def test_given_the_usgov_cloud_when_no_host_is_given_then_the_gcc_high_host_is_used():
    config = config_from_values({"profile": "m365-basic", "cloud": "usgov", "username": "a@contoso.us",
                                 "password": "x"})
    assert config.host == "smtp.office365.us"
    assert config.auth is AuthMethod.PASSWORD and config.profile is ProfileId.M365_BASIC


def test_given_a_dod_smtp_host_when_choosing_endpoints_then_graph_is_the_dod_root():
    dod = config_from_values({"profile": "m365-oauth2", "cloud": "usgov", "host": "outlook-dod.office365.us",
                              "tenant_id": "t", "client_id": "c", "client_secret": "s"})
    gcc_high = dod.with_changes(host="smtp.office365.us")
    assert endpoints_for(dod).graph_base == "https://dod-graph.microsoft.us"
    assert endpoints_for(dod).graph_default_scope == "https://dod-graph.microsoft.us/.default"
    assert endpoints_for(dod).login_base == "https://login.microsoftonline.us"
    assert endpoints_for(gcc_high).graph_base == "https://graph.microsoft.us"


def test_every_provider_fact_the_checks_use_is_documented_with_the_sources():
    # Given the provider facts page maintainers check the table against
    page = (Path(__file__).resolve().parents[1] / "docs" / "providers.md").read_text(encoding="utf-8")
    # Then every host, SPF include and MX suffix of the table is on it
    for facts in PROVIDERS.values():
        for fact in (*facts.all_hosts, *facts.spf_domains, *(s.lstrip(".") for s in facts.mx_suffixes)):
            assert fact in page, fact
