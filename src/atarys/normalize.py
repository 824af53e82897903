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
    e164, error = _e164(text, region)
    if error is not None:
        raise InvalidValueError(error)
    return e164


@lru_cache(maxsize=100_000)
def _e164(text: str, region: str) -> tuple[str | None, str | None]:
    """(E.164, None) or (None, the French error) of a cleaned number: parsed once per
    value, however many checks (validation, matching key, search key) ask."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, "Numéro de téléphone illisible."
    if not phonenumbers.is_possible_number(number):
        return None, "Numéro de téléphone invalide pour ce pays."
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@lru_cache(maxsize=100_000)
def phone_key(value: str | None, region: str = "FR") -> str | None:
    """E.164 when the number can be read, otherwise the trimmed text (never raises).

    Cached: a sync compares the same numbers many times (each value is parsed once).
    """
    try:
        return normalize_phone(value, region)
    except InvalidValueError:
        return clean_text(value)


# Control characters other than white space (NUL included): PostgreSQL refuses NUL in
# text and none of them can be typed in the client form.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(value: str) -> str:
    """``value`` without control characters (tabs and line breaks are kept)."""
    return _CONTROLS.sub("", value)


# The plain addresses nearly every contact has (ASCII, dot-atom local part of common
# characters, hyphenated labels, an alphabetic TLD): accepted by email-validator too (a
# test compares them), checked here in a microsecond instead of ~250 µs, which a first
# sync of 25,000 contacts pays per address. Anything else goes to email-validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,63}"
)
_SPECIAL_USE = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))


def _plain_email(text: str) -> bool:
    if len(text) > 254 or not _PLAIN_EMAIL.fullmatch(text):
        return False
    local, _, domain = text.rpartition("@")
    labels = domain.lower().split(".")
    return (
        len(local) <= 64
        and len(domain) <= 253
        and all(len(label) <= 63 for label in labels)
        and labels[-1] not in _SPECIAL_USE
    )


@lru_cache(maxsize=100_000)
def valid_email(value: str | None) -> bool:
    """Whether the clients API would accept ``value`` as an e-mail (same rules, cached)."""
    text = clean_text(value)
    if text is not None and _plain_email(text):
        return True
    try:
        normalize_email(value)
    except InvalidValueError:
        return False
    return True


@lru_cache(maxsize=100_000)
def valid_phone(value: str | None, region: str = "FR") -> bool:
    """Whether the clients API would accept ``value`` as a phone number (same rules)."""
    try:
        normalize_phone(value, region)
    except InvalidValueError:
        return False
    return True


# "12 rue X\n69001 Lyon": a French postal code and its town on one line.
_TOWN_LINE = re.compile(r"^\s*(?:F-?)?(\d{5})\s+(.+?)\s*(?:CEDEX(?:\s*\d+)?)?\s*$", re.IGNORECASE)


def split_french_address(text: str | None) -> tuple[str | None, str | None, str | None]:
    """(street, postal code, city) of a postal address written as text, French layout.

    The line holding "<5 digits> <town>" gives the postal code and the city; the lines
    before it are the street (joined by ", "); a trailing country line is dropped. Text
    with no such line is all street.
    """
    if not text:
        return None, None, None
    lines = [clean_text(line) for line in text.replace("\r", "\n").split("\n")]
    kept = [line for line in lines if line]
    if len(kept) == 1:
        # one line: "12 rue X, 69001 Lyon" or "12 rue X 69001 Lyon"
        m = re.match(r"^(.*?)[,\s]+((?:F-?)?\d{5}\s+\D.*)$", kept[0])
        if m:
            kept = [m.group(1).strip(" ,"), m.group(2)]
    for i in range(len(kept) - 1, -1, -1):
        m = _TOWN_LINE.match(kept[i])
        if m:
            street = ", ".join(kept[:i]) or None
            return street, m.group(1), clean_text(m.group(2))
    return ", ".join(kept) or None, None, None
