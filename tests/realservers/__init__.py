"""Tests against real Debian mail servers (Postfix + Dovecot SASL, dnsmasq) on loopback: scripts/real-servers.sh."""
