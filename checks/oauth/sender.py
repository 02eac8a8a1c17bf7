"""The OAuth2 sender rule through Graph: the sender is the primary SMTP address of the signed-in user."""

from __future__ import annotations

from dataclasses import replace

from checks.knowledge.guide import GuideSection
from checks.model import Finding, Status
from checks.oauth.claims import decode_claims, roles_of
from checks.oauth.endpoints import endpoints_for
from checks.oauth.facts import SenderFacts
from checks.oauth.graph import addresses, find_by_proxy_address, read_user, read_user_purpose
from checks.oauth.http import http_for
from checks.run_state import CheckContext
from checks.settings.config import AuthMethod
from checks.settings.secret import Secret

GUIDE_RULE = ("Aliases (proxy addresses) and shared mailboxes can't be used to connect through OAuth2. "
              "Please use a primary address.")
_USER_READ_ROLES = frozenset({"User.Read.All", "Directory.Read.All", "User.ReadWrite.All"})


def _graph_token(ctx: CheckContext) -> Secret | None:
    """The run's Graph token (from oauth.scopes), or one minted now; None when Graph is not available."""
    token, app = ctx.state.graph_token, ctx.state.msal_app
    if token is not None or app is None:
        return token
    scope = [endpoints_for(ctx.config).graph_default_scope]
    if ctx.config.auth is AuthMethod.OAUTH2_APP:
        result = app.acquire_token_for_client(scopes=scope)
        if "error" in result or not roles_of(decode_claims(str(result["access_token"]))) & _USER_READ_ROLES:
            return None
    else:
        refresh = ctx.state.refresh_token or ctx.config.refresh_token
        if not refresh:
            return None
        result = app.acquire_token_by_refresh_token(refresh.reveal(), scopes=scope)
        if "error" in result:
            return None
    token = Secret(str(result["access_token"]))
    ctx.state.graph_token = token
    return token


def _fail(summary: str, fix: str, facts: SenderFacts, *, rule: bool = False) -> Finding:
    return Finding(Status.FAIL, summary + (" " + GUIDE_RULE if rule else ""), remediation=fix,
                   guide_section=GuideSection.M365_OAUTH2_PREREQUISITES if rule else GuideSection.M365_PORTAL_SETTINGS,
                   facts=facts)


def _without_graph(sender: str, user: str, facts: SenderFacts) -> Finding:
    if user and sender.lower() != user.lower():
        return _fail(f"The sender {sender} is not the signed-in user {user}.", f"Change the sender to {user}.", facts)
    return Finding(Status.WARN, f"The sender {sender} is the signed-in user; Graph could not confirm it is the primary "
                   "address (not an alias).", details="Graph needs the delegated permission User.Read.All.",
                   guide_section=GuideSection.M365_PERMISSIONS, facts=facts)


def check_graph_sender(ctx: CheckContext) -> Finding:
    """Sender = primary SMTP address of the token's user; aliases, shared mailboxes and other users fail."""
    config = ctx.config
    sender = (config.sender or config.username or "").strip()
    app_only = config.auth is AuthMethod.OAUTH2_APP
    user = "" if app_only else ctx.state.token_user
    facts = SenderFacts(sender, user or None)
    ends = endpoints_for(config)
    http = http_for(ctx)
    try:
        token = _graph_token(ctx)
        if token is None:
            if app_only:
                return Finding(Status.WARN, f"Could not check {sender} through Graph (needs the application permission "
                               "User.Read.All).", guide_section=GuideSection.M365_PERMISSIONS, facts=facts)
            return _without_graph(sender, user, facts)
        me = read_user(http, ends, token, user or sender)
        if not me.ok and not app_only:
            return _without_graph(sender, user, facts)
        primary, aliases = addresses(me.body) if me.ok else ("", [])
        facts = replace(facts, primary=primary or None)
        change = f"Change the sender to {primary}." if primary else "Use the mailbox's primary address as sender."
        if sender.lower() == primary.lower():
            purpose = read_user_purpose(http, ends, token, sender)
            facts = replace(facts, user_purpose=purpose)
            if purpose == "shared" and not app_only:
                return _fail(f"{sender} is a shared mailbox.", "Sign in as a licensed user and use that user's "
                             "primary address as sender.", facts, rule=True)
            return Finding(Status.PASS, f"{sender} is the primary address of "
                           f"{'the mailbox' if app_only else 'the signed-in user ' + user}.", facts=facts)
        if sender.lower() in (a.lower() for a in aliases):
            return _fail(f"{sender} is an alias of {user or primary}, not its primary address {primary}.", change,
                         facts, rule=True)
        if app_only:
            owners = find_by_proxy_address(http, ends, token, sender)
            owner = addresses(owners[0])[0] if owners else ""
            return _fail(f"{sender} is an alias of {owner}, not a primary address." if owner else
                         f"No mailbox in the tenant has the address {sender}.",
                         f"Change the sender to {owner}." if owner else change, facts, rule=bool(owner))
        other = read_user(http, ends, token, sender)
        if other.ok:
            purpose = read_user_purpose(http, ends, token, sender)
            facts = replace(facts, user_purpose=purpose)
            if purpose == "shared" or (purpose is None and other.body.get("accountEnabled") is False):
                return _fail(f"{sender} is a shared mailbox, not the signed-in user {user}.", change, facts, rule=True)
            return _fail(f"The sender {sender} is another user's mailbox; the token belongs to {user}.",
                         f"{change} (or sign in as {sender}: the sender must be the user who signed in).", facts)
        owners = find_by_proxy_address(http, ends, token, sender)
        if owners:
            owner = addresses(owners[0])[0]
            return _fail(f"{sender} is an alias of {owner}, not the signed-in user {user}'s primary address.",
                         change, facts, rule=True)
        return _fail(f"No mailbox in the tenant has the address {sender}; the token belongs to {user}.", change, facts)
    except OSError:
        return Finding(Status.WARN, f"Graph could not be reached to check the sender {sender}.", facts=facts)
