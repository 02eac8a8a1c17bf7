"""A run whose verdict is `incomplete` (nothing failed, some checks could not run) exits 3, not 0."""

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
