"""DNS: bounded lookups through the run's resolver, and the dns.host and dns.mx checks."""
