"""Validation of client payloads (pydantic): lengths, e-mail syntax, phone to E.164."""

from __future__ import annotations

from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from atarys.models.client import CLIENT_FIELDS, TAG_LENGTH
from atarys.normalize import InvalidValueError, clean_text, normalize_email, normalize_phone


def _text(name: str, label: str) -> Any:
    """An optional text field with its length limit (in the OpenAPI document too)."""
    limit = CLIENT_FIELDS.get(name, TAG_LENGTH)
    return Field(default=None, description=label, json_schema_extra={"maxLength": limit})


def _region() -> str:
    try:
        return str(current_app.config.get("ATARYS_PHONE_REGION", "FR"))
    except RuntimeError:
        return "FR"


class ClientFields(BaseModel):
    """Every client field optional (PATCH); ``ClientIn`` makes ``nom`` required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nom: str | None = _text("nom", "Nom")
    prenom: str | None = _text("prenom", "Prénom")
    email: str | None = _text("email", "E-mail (mis en minuscules)")
    telephone: str | None = _text("telephone", "Téléphone (enregistré au format E.164)")
    adresse: str | None = _text("adresse", "Adresse")
    ville: str | None = _text("ville", "Ville")
    code_postal: str | None = _text("code_postal", "Code postal")
    entreprise: str | None = _text("entreprise", "Entreprise")
    fonction: str | None = _text("fonction", "Fonction")
    # a free-text label (not synced to Google), used by the accounts' client filters
    tag: str | None = _text("tag", "Étiquette (choisit les téléphones qui reçoivent le client)")

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

    nom: str | None = Field(  # required: no default
        description="Nom (obligatoire)", json_schema_extra={"maxLength": CLIENT_FIELDS["nom"]}
    )

    @field_validator("nom", mode="after")
    @classmethod
    def _nom_required(cls, value: str | None) -> str:
        if not value:
            raise InvalidValueError("Ce champ est obligatoire.")
        return value


class ClientOut(BaseModel):
    """A client as the API shows it (``Client.to_dict``)."""

    id: int
    nom: str
    prenom: str | None
    email: str | None
    telephone: str | None
    adresse: str | None
    ville: str | None
    code_postal: str | None
    entreprise: str | None
    fonction: str | None
    tag: str | None
    created_at: str
    updated_at: str
    deleted_at: str | None


class ClientsQuery(BaseModel):
    """``GET /api/clients/``: a page of clients, searched and sorted."""

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)
    sort: str = Field(
        default="nom",
        description="nom, ville, entreprise, created_at… ; « - » devant : ordre inverse",
    )
    q: str | None = Field(default=None, description="Recherche (nom, e-mail, téléphone, ville…)")
    deleted: bool = Field(
        default=False, description="true : la corbeille (supprimés depuis 30 jours)"
    )


class Deleted(BaseModel):
    id: int
