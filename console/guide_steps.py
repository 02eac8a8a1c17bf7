"""The setup guide's steps, each tied to the check that verifies it."""

from __future__ import annotations

from dataclasses import dataclass

from checks.knowledge.guide import GuideSection
from checks.model import CheckId


@dataclass(frozen=True)
class Step:
    id: str
    text: str
    section: GuideSection
    verified_by: tuple[CheckId, ...]  # empty: only a person can confirm it (the console says which page helps)
    helper_page: str = ""
    link: str = ""  # where the step is done (provider's page)


GUIDE_URL = ("https://help.openbee.com/en/open-bee-portal/administrators-guide/general-setup/"
             "office-365-and-g-suite-smtp-configuration/")
PROFILE_OF_PART = {"Gmail or Google Workspace": "gmail", "Microsoft 365 with basic authentication": "m365-basic",
                   "Microsoft 365 with OAuth2": "m365-oauth2", "Network (outside the guide)": "custom"}
ENTRA_APPS = "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
G, M = GuideSection, CheckId
PARTS: dict[str, tuple[Step, ...]] = {
    "Gmail or Google Workspace": (
        Step("g.2sv", "Turn on 2-Step Verification (myaccount.google.com > Security). Workspace: the admin allows it "
             "first (Admin > Security > Basic settings).", G.GMAIL_PREREQUISITES, (M.AUTH_CREDENTIALS,),
             link="https://myaccount.google.com/security"),
        Step("g.app_password", "Create an app password (myaccount.google.com/apppasswords: 'Email' > 'Other' > "
             "'Open Bee Portal') and write it down.", G.GMAIL_APP_PASSWORD, (M.AUTH_CREDENTIALS,),
             link="https://myaccount.google.com/apppasswords"),
        Step("g.server", "SMTP server smtp.gmail.com, Security TLS (STARTTLS), port 587.", G.GMAIL_SETTINGS,
             (M.SETTINGS, M.DNS_HOST, M.PORT, M.TLS)),
        Step("g.auth", "SMTP authentication required: checked; username = your full address; password = the app "
             "password.", G.GMAIL_SETTINGS, (M.AUTH_MECHANISMS, M.AUTH_CREDENTIALS)),
        Step("g.sender", "Sender = your Gmail or Workspace address.", G.GMAIL_SETTINGS, (M.SENDER, M.DNS_MX)),
    ),
    "Microsoft 365 with basic authentication": (
        Step("b.mailbox", "A Microsoft 365 mailbox whose account may use SMTP AUTH.", G.M365_BASIC_PREREQUISITES,
             (M.AUTH_CREDENTIALS,)),
        Step("b.server", "SMTP server smtp.office365.com, Security TLS (STARTTLS), port 587.", G.M365_BASIC_SETTINGS,
             (M.SETTINGS, M.DNS_HOST, M.PORT, M.TLS)),
        Step("b.auth", "SMTP authentication required: checked; username = your Office 365 address; its password.",
             G.M365_BASIC_SETTINGS, (M.AUTH_MECHANISMS, M.AUTH_CREDENTIALS)),
        Step("b.sender", "Sender = your Office 365 address.", G.M365_BASIC_SETTINGS, (M.SENDER,)),
    ),
    "Microsoft 365 with OAuth2": (
        Step("o.mailbox", "A licensed Exchange Online mailbox; sign in with its primary address (no alias, no "
             "shared mailbox).", G.M365_OAUTH2_PREREQUISITES, (M.SENDER,)),
        Step("o.smtp_auth", "SmtpClientAuthenticationDisabled is false for the account (SMTP AUTH allowed).",
             G.M365_SMTP_AUTH, (M.AUTH_CREDENTIALS,)),
        Step("o.register", "Entra ID > App registrations > New registration, accounts in this organisational "
             "directory only.", G.M365_APP_REGISTRATION, (M.OAUTH_TENANT, M.OAUTH_CLIENT), link=ENTRA_APPS),
        Step("o.redirect", "Authentication > Add a platform > Web > the redirect URI (for this console: shown on "
             "the Sign in page).", G.M365_APP_REGISTRATION, (), "pages/sign_in.py"),
        Step("o.ids", "From the Overview, note the Application (client) ID and the Directory (tenant) ID.",
             G.M365_APP_REGISTRATION, (M.OAUTH_TENANT, M.OAUTH_CLIENT)),
        Step("o.secret", "Certificates & secrets > New client secret; copy its Value (shown once), note its expiry "
             "(2 years suggested).", G.M365_CLIENT_SECRET, (M.OAUTH_CLIENT, M.OAUTH_SECRET_EXPIRY)),
        Step("o.permissions", "API permissions > Microsoft Graph, delegated: Mail.Send, User.Read.All, SMTP.Send, "
             "Mail.ReadWrite (with the default User.Read: 5 permissions).", G.M365_PERMISSIONS, (M.OAUTH_SCOPES,)),
        Step("o.consent", "Grant admin consent; all 5 permissions (the 4 above and User.Read) show 'Granted'.",
             G.M365_PERMISSIONS,
             (M.OAUTH_TOKEN, M.OAUTH_SCOPES)),
        Step("o.portal", "Portal: custom SMTP, OAuth2; Tenant ID, Client ID, client secret, its expiry date.",
             G.M365_PORTAL_SETTINGS, (M.SETTINGS, M.OAUTH_CLIENT, M.OAUTH_SECRET_EXPIRY)),
        Step("o.sender", "Sender = the address of the user who generated the client secret.", G.M365_PORTAL_SETTINGS,
             (M.SENDER,)),
        Step("o.signin", "Save: sign in with Microsoft to create the refresh token.", G.M365_PORTAL_SETTINGS,
             (M.OAUTH_TOKEN, M.AUTH_CREDENTIALS), "pages/sign_in.py"),
        Step("o.test", "Send a test (share a document).", G.M365_PORTAL_SETTINGS, (M.SEND_TEST,)),
    ),
    "Network (outside the guide)": (
        Step("n.port", "Outbound TCP 587 is open from the portal's server to the relay.", G.NETWORK, (M.PORT,
             M.SMTP_GREETING)),
        Step("n.tls", "Nothing replaces the provider's certificate (TLS-inspecting proxies).", G.NETWORK, (M.TLS,)),
    ),
}
