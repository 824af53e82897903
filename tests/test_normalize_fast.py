"""The e-mail fast path accepts only what email-validator (the clients API's rule) accepts."""

from __future__ import annotations

import random

from email_validator import EmailNotValidError, validate_email

from atarys.normalize import _plain_email, valid_email


def _library(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def test_plain_addresses_agree_with_email_validator() -> None:
    rng = random.Random(7)
    accepted = 0
    for _ in range(5000):
        local = "".join(rng.choice("abcXYZ019._%+-") for _ in range(rng.randint(1, 70)))
        labels = [
            "".join(rng.choice("abQ09-") for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 3))
        ]
        tld = rng.choice(["fr", "com", "museum", "a", "test", "local", "bench", "z" * 64])
        text = f"{local}@{'.'.join([*labels, tld])}"
        if _plain_email(text):
            accepted += 1
            assert _library(text), text
    assert accepted > 500  # the fast path is taken for ordinary addresses


def test_unusual_addresses_still_follow_email_validator() -> None:
    for text in ("x@localhost", "x@a.test", "a..b@c.fr", ".a@b.fr", "a@-b.fr", "a@b.123"):
        assert valid_email(text) is False, text
    for text in ("zoé@exemple.fr", "a@b.c", "o'neil@exemple.fr", "client1@bench.fr"):
        assert valid_email(text) is _library(text), text
