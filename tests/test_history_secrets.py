"""Canary: secrets given to runs, batches and the watch never reach the database, a dump of it, a webhook body
or the metrics file."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from test_watch import WebhookReceiver, oauth_row, write_batch

from checks.cli.main import main
from lab.entra import EntraScenario
from lab.smtp import LAB_ACCOUNTS, Personality, Scenario

CANARY = "Canary-Pa55word-7c1e"


def cli(argv: list[str], environ: dict) -> int:
    return main(argv, stdin=io.StringIO(""), stdout=io.StringIO(), stderr=io.StringIO(), environ=environ)


def stored_bytes(store_url: str, request) -> bytes:
    """Everything the database holds on disk: the SQLite file with its journal, or a pg_dump."""
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    database = store_url.rsplit("/", 1)[1]
    return request.getfixturevalue("postgres").dump(database).encode("utf-8")


def test_no_secret_reaches_the_store_a_dump_webhooks_or_metrics(smtp_lab, entra, lab_settings, lab_dns, pki,
                                                                 store_url, tmp_path, request):
    # Given a refused password (the canary), an OAuth2 setup's client secret and refresh token, a webhook token
    refused = smtp_lab(Scenario.BAD_CREDENTIALS, personality=Personality.GMAIL)
    oauth = entra(EntraScenario.WORKING)
    relay = smtp_lab(personality=Personality.M365, xoauth2_validator=oauth.xoauth2_validator)
    hook = WebhookReceiver()
    prom = tmp_path / "relay.prom"
    settings = lab_settings(refused)
    settings.pop("password")
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"CANARY_VAR={CANARY}\nSHOP_SECRET={oauth.client_secret}\n"
                            f"SHOP_TOKEN={oauth.refresh_token}\n", encoding="utf-8")
    batch = write_batch(tmp_path / "setups.csv", [
        {"name": "canary", **settings, "password_env": "CANARY_VAR"},
        oauth_row(oauth, relay, lab_dns, pki, name="oauth")])
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
    try:
        # When two watch cycles, a batch and a single run are saved
        for _ in range(2):
            assert cli(["watch", str(batch), "--once", "--secrets", str(secrets_file), "--db", store_url,
                        "--webhook", hook.url, "--metrics-file", str(prom)], {}) == 1
        assert cli(["batch", str(batch), "--secrets", str(secrets_file), "--save", "--db", store_url], {}) == 1
        assert cli(["run", *flags, "--password-env", "CANARY_VAR", "--save", "--db", store_url],
                   {"CANARY_VAR": CANARY}) == 1
    finally:
        hook.close()
    # Then the runs were kept and alerted on, yet no secret (nor its base64) is anywhere
    assert hook.raw and b"canary" in stored_bytes(store_url, request)
    secrets = [CANARY, oauth.client_secret, oauth.refresh_token, *oauth.issued_tokens, LAB_ACCOUNTS[
        Personality.GMAIL][1], "hook-token-b2f1c9"]
    places = {"database": stored_bytes(store_url, request), "metrics": prom.read_bytes(),
              "webhook": b"".join(hook.raw)}
    for secret in secrets:
        for form in (secret, base64.b64encode(secret.encode()).decode().rstrip("=")):
            for where, data in places.items():
                assert form.encode() not in data, f"a secret reached the {where}"
