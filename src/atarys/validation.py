"""Request validation with pydantic, errors translated to French per field.

``validate(model, payload)`` returns the model or raises ``ApiError(422)`` whose
``errors`` maps each field at fault to a French message.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from atarys.http import ApiError

M = TypeVar("M", bound=BaseModel)

_MESSAGES: dict[str, str] = {
    "missing": "Ce champ est obligatoire.",
    "extra_forbidden": "Champ inconnu.",
    "string_type": "Doit être une chaîne de caractères.",
    "string_too_long": "Trop long : {max_length} caractères au maximum.",
    "string_too_short": "Ce champ ne peut pas être vide.",
    "int_type": "Doit être un nombre entier.",
    "int_parsing": "Doit être un nombre entier.",
    "bool_type": "Doit être vrai ou faux.",
    "bool_parsing": "Doit être vrai ou faux.",
    "literal_error": "Valeur non autorisée : {expected}.",
    "enum": "Valeur non autorisée : {expected}.",
    "greater_than_equal": "Doit être supérieur ou égal à {ge}.",
    "less_than_equal": "Doit être inférieur ou égal à {le}.",
    "list_type": "Doit être une liste.",
    "dict_type": "Doit être un objet.",
    "model_type": "Doit être un objet.",
}


def french_errors(exc: ValidationError) -> dict[str, str]:
    """One French message per field (the first error of each field wins)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "body"
        if field in errors:
            continue
        kind = err["type"]
        if kind == "value_error":
            ctx_error = (err.get("ctx") or {}).get("error")
            message = getattr(ctx_error, "message", None) or str(ctx_error or err["msg"])
        else:
            template = _MESSAGES.get(kind, "Valeur invalide.")
            try:
                message = template.format(**(err.get("ctx") or {}))
            except (KeyError, IndexError):
                message = template
        errors[field] = message
    return errors


def validate(model: type[M], payload: dict[str, Any]) -> M:
    """``model`` built from ``payload``, or a 422 listing each field at fault."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(422, "Données invalides.", errors=french_errors(exc)) from exc
