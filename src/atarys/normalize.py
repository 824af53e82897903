"""Normalization of contact values, shared by the clients API and the sync core.

Pure functions over strings (``phonenumbers`` and ``email-validator`` only): the same
value always normalizes the same way, so a phone reformatted by Google or an e-mail
typed in capitals is never seen as a change.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_SPACES = re.compile(r"\s+")


class InvalidValueError(ValueError):
    """A value that cannot be normalized; ``message`` is French, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_text(value: str | None) -> str | None:
    """Trim and fold runs of white space; an empty result is ``None``."""
    if value is None:
        return None
    folded = _SPACES.sub(" ", value).strip()
    return folded or None


def normalize_email(value: str | None) -> str | None:
    """A syntactically valid e-mail (no DNS look-up), with its domain in lower case.

    Raises ``InvalidValueError`` for an invalid address.
    """
    text = clean_text(value)
    if text is None:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValueError("Adresse e-mail invalide.") from exc
    return str(result.normalized)


def email_key(value: str | None) -> str | None:
    """The case-insensitive key two e-mails are matched on."""
    text = clean_text(value)
    return text.lower() if text else None


def normalize_phone(value: str | None, region: str = "FR") -> str | None:
    """The phone number in E.164 (``+33612345678``), read with ``region`` as default country.

    Raises ``InvalidValueError`` when the number cannot be read or is not a possible number.
    """
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValueError("Numéro de téléphone illisible.") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidValueError("Numéro de téléphone invalide pour ce pays.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=100_000)
def phone_key(value: str | None, region: str = "FR") -> str | None:
    """E.164 when the number can be read, otherwise the trimmed text (never raises).

    Cached: a sync compares the same numbers many times (each value is parsed once).
    """
    try:
        return normalize_phone(value, region)
    except InvalidValueError:
        return clean_text(value)
