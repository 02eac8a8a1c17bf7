"""The SMTP conversation and its checks: port, greeting, TLS, AUTH, sender, test message."""
