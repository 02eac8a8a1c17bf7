"""Go-live gates: an `incomplete` verdict exits 3, and `--only` runs what a check reads, so nothing passes unproven."""

from __future__ import annotations

import io

from checks.cli.main import main


def cli(argv, environ):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, environ=environ)
    return code, out.getvalue(), err.getvalue()


def test_a_setup_whose_token_never_ran_does_not_pass_a_go_live_gate(entra):
    # Given a delegated OAuth2 setup with no refresh token yet (the token and AUTH cannot run)
    e = entra()
    argv = ["run", "--profile", "m365-oauth2", "--login-url", e.base_url, "--graph-url", e.graph_url,
            "--ca-file", str(e.ca_file), "--tenant-id", e.tenant_id, "--client-id", e.client_id,
            "--client-secret-env", "CS", "--sender", e.sender, "--timeout", "5", "--format", "json",
            "--only", "oauth.tenant,oauth.client,oauth.token"]
    environ = {"CS": e.client_secret}
    # When the CLI runs it, then it exits 3 with the verdict incomplete
    code, out, _ = cli(argv, environ)
    assert code == 3 and '"verdict": "incomplete"' in out
    # And --allow-incomplete restores the old exit status 0
    code, _, _ = cli([*argv, "--allow-incomplete"], environ)
    assert code == 0


def test_help_names_exit_status_3():
    out = io.StringIO()
    main(["run", "--help"], stdout=out, stderr=io.StringIO(), environ={})
    assert "3 nothing failed but some checks could not run" in out.getvalue().replace("\n", " ").replace("  ", " ")


def test_only_secret_expiry_runs_the_client_check_its_comparison_reads(entra):
    # Given a delegated setup and --only oauth.secret_expiry
    from checks.registry import plan
    from checks.settings.loading import config_from_values

    e = entra()
    config = config_from_values({"profile": "m365-oauth2", "tenant_id": e.tenant_id, "client_id": e.client_id,
                                 "client_secret": e.client_secret, "sender": e.sender})
    # Then the plan holds oauth.client (and the tenant check it requires), not only the expiry check
    from checks.model import CheckId

    planned = [s.id for s in plan(config, (CheckId.OAUTH_SECRET_EXPIRY,))]
    assert planned == [CheckId.OAUTH_TENANT, CheckId.OAUTH_CLIENT, CheckId.OAUTH_SECRET_EXPIRY]
