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


def test_french_phone_search_digits_agree_with_phonenumbers() -> None:
    """A client found by the number typed either way: the fast path for French numbers
    gives the digits phonenumbers' national format gives."""
    import phonenumbers

    from atarys.models.client import phone_digits

    rng = random.Random(11)
    checked = 0
    for _ in range(2000):
        e164 = "+33" + str(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9])) + f"{rng.randrange(10**8):08d}"
        number = phonenumbers.parse(e164, None)
        national = "".join(
            ch
            for ch in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            if ch.isdigit()
        )
        assert phone_digits(e164) == [e164[1:], national], e164
        checked += 1
    assert checked == 2000
    # other countries still go through phonenumbers
    assert phone_digits("+442079460000") == ["442079460000", "02079460000"]
