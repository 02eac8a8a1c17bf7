#!/usr/bin/env bash
# Verify the CLI against real mail servers on loopback: Postfix (submission, smtps, no-TLS, no-AUTH, bad
# certificates) with Dovecot SASL, dnsmasq serving test MX/SPF records, socat as a silent port.
# Installs the Debian packages (root, non-interactive; no service is started by the packages), then runs
# tests/realservers. The servers themselves are started by the tests from a temporary directory, listen on
# 127.0.0.1 / 127.0.0.2 only, and deliver nothing.
#   usage: sudo bash scripts/real-servers.sh [--install-only | pytest args...]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGES=(postfix dovecot-core dnsmasq-base socat postgresql)  # postgresql: the history tests (tests/postgres_server.py)
started=$(date +%s)

if [[ $(id -u) -ne 0 ]]; then
    echo "real-servers: run as root (apt-get install, and Postfix/Dovecot start as root)" >&2
    exit 2
fi

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
    echo "real-servers: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix asks what kind of mail system this is: "No configuration" writes no main.cf and starts nothing.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # Keep maintainer scripts from starting system-wide daemons (Dovecot would listen on 0.0.0.0 otherwise).
    own_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    cleanup_policy() { if [[ -n "$own_policy" ]]; then rm -f /usr/sbin/policy-rc.d; fi; }
    trap cleanup_policy EXIT
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    cleanup_policy
    trap - EXIT
fi

[[ "${1:-}" == "--install-only" ]] && exit 0

cd "$ROOT"
echo "real-servers: postfix $(postconf -dh mail_version 2>/dev/null), dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1)," \
     "$(dnsmasq --version | head -1 | cut -d' ' -f1-3), socat $(socat -V 2>/dev/null | grep -m1 "socat version" | cut -d" " -f3)"
status=0
.venv/bin/python -m pytest tests/realservers -q -p no:cacheprovider "$@" || status=$?
echo "real-servers: finished in $(( $(date +%s) - started )) s (exit $status)"
exit "$status"
