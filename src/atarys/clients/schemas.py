"""Validation of client payloads (pydantic): lengths, e-mail syntax, phone to E.164."""

from __future__ import annotations

from typing import Annotated, Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atarys.models.client import CLIENT_FIELDS, TAG_LENGTH
from atarys.normalize import InvalidValueError, clean_text, normalize_email, normalize_phone

OptText = Annotated[str | None, Field(default=None)]


def _region() -> str:
    try:
        return str(current_app.config.get("ATARYS_PHONE_REGION", "FR"))
    except RuntimeError:
        return "FR"


class ClientFields(BaseModel):
    """Every client field optional (PATCH); ``ClientIn`` makes ``nom`` required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nom: OptText
    prenom: OptText
    email: OptText
    telephone: OptText
    adresse: OptText
    ville: OptText
    code_postal: OptText
    entreprise: OptText
    fonction: OptText
    # a free-text label (not synced to Google), used by the accounts' client filters
    tag: OptText

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidValueError("Doit être une chaîne de caractères.")
        cleaned = clean_text(value)
        limit = CLIENT_FIELDS.get(str(info.field_name), TAG_LENGTH)
        if cleaned is not None and len(cleaned) > limit:
            raise InvalidValueError(f"Trop long : {limit} caractères au maximum.")
        return cleaned

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalize_email(value)

    @field_validator("telephone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value, _region())


class ClientIn(ClientFields):
    """A whole client (POST, PUT): ``nom`` is required and not empty."""

    nom: str | None  # required: no default

    @field_validator("nom", mode="after")
    @classmethod
    def _nom_required(cls, value: str | None) -> str:
        if not value:
            raise InvalidValueError("Ce champ est obligatoire.")
        return value
