"""The permissions the setup guide's OAuth2 app needs, one home for the checks, the audit and the token inspector."""

from __future__ import annotations

SMTP_SEND = "SMTP.Send"  # delegated, Office 365 Exchange Online: XOAUTH2 sign-in for the signed-in user
SMTP_SEND_AS_APP = "SMTP.SendAsApp"  # application permission: app-only (client credentials) SMTP
GRAPH_PERMISSIONS = ("Mail.Send", "Mail.ReadWrite", "User.Read.All")  # delegated Microsoft Graph permissions
