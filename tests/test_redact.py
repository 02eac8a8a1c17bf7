"""The masker: every form of a secret in outside text, short secrets too; never our own words in mixed text."""

from __future__ import annotations

import base64

import pytest

from checks.redact import guard, redact

SECRET = "Canary-Pw-7f3a9c2e"


@pytest.mark.parametrize("user", ["", "a", "ab", "abc", "relay@lab.test"])
def test_the_password_inside_an_auth_plain_payload_is_masked_whatever_its_offset(user):
    payload = base64.b64encode(f"\0{user}\0{SECRET}".encode()).decode()
    shown = redact(f"535 you sent {payload}", [SECRET])
    decoded = base64.b64decode(shown.split(" ")[-1].split("*")[0] + "==", validate=False)
    assert "********" in shown and SECRET.encode() not in decoded


@pytest.mark.parametrize("form", [SECRET, SECRET[::-1], SECRET.encode().hex(), SECRET.encode().hex().upper(),
                                  base64.b64encode(SECRET.encode()).decode(),
                                  base64.urlsafe_b64encode(b"x" + SECRET.encode()).decode(), SECRET[:9], SECRET[9:]])
def test_every_form_of_the_secret_is_masked(form):
    assert form not in redact(f"echo: {form} end", [SECRET])


def test_short_secrets_are_masked_in_outside_text_but_our_words_stay():
    assert redact("535 wrong password abc", ["abc"]) == "535 wrong password ********"
    assert guard("C: ehlo relay-console.invalid", ["relay"]) == "C: ehlo relay-console.invalid"
    assert guard(f"reply {SECRET}", [SECRET]) == "reply ********"
