"""Real local servers that behave like the providers (SMTP, DNS, Entra ID/Graph), for tests and practice mode."""
