"""Sender-domain authentication (SPF, DKIM, DMARC): what decides whether relayed mail lands in the inbox."""
