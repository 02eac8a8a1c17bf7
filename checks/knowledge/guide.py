"""Section names of the setup guide our users follow, so remediation can point at the exact step."""

from enum import StrEnum


class GuideSection(StrEnum):
    GMAIL_PREREQUISITES = "Gmail or G Suite > Prerequisites"
    GMAIL_APP_PASSWORD = "Gmail or G Suite > Creating an app password"
    GMAIL_SETTINGS = "Gmail or G Suite > Setting up Open Bee Portal"
    M365_BASIC_PREREQUISITES = "Microsoft 365 > Authenticating using basic authentication > Prerequisites"
    M365_BASIC_SETTINGS = "Microsoft 365 > Authenticating using basic authentication > Setting up Open Bee Portal"
    M365_OAUTH2_PREREQUISITES = "Microsoft 365 > Authenticating using OAuth2 authentication > Prerequisites"
    M365_SMTP_AUTH = (
        "Microsoft 365 > Authenticating using OAuth2 authentication > Prerequisites > "
        "SmtpClientAuthenticationDisabled"
    )
    M365_APP_REGISTRATION = "Microsoft 365 > Registering the app in Azure AD"
    M365_CLIENT_SECRET = "Microsoft 365 > Registering the app in Azure AD > Certificates & secrets"
    M365_PERMISSIONS = "Microsoft 365 > Setting app permissions"
    M365_PORTAL_SETTINGS = "Microsoft 365 > Configure Microsoft SMTP in Open Bee Portal"
    NETWORK = "Network and TLS (outside the guide)"
