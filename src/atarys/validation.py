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


# --- hostile text: control characters ----------------------------------------------------------

# Control characters (Unicode category Cc) but tab, line feed and carriage return, and lone
# surrogates: PostgreSQL refuses NUL in text (and no field of ATARYS needs the others), a
# surrogate cannot be encoded at all. Refused at the edge, on every database alike.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
CONTROL_MESSAGE = (
    "Caractère de contrôle interdit (caractère nul ou invisible) : retirez-le puis réessayez."
)
MAX_SCAN_DEPTH = 64


def has_forbidden_character(text: str) -> bool:
    """Whether ``text`` holds a control character (but tab and line breaks) or a lone surrogate."""
    for char in text:
        code = ord(char)
        if (code < 0x20 and char not in _ALLOWED_CONTROLS) or 0x7F <= code <= 0x9F:
            return True
        if 0xD800 <= code <= 0xDFFF:
            return True
    return False


def find_forbidden_text(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The dotted path of the first string (or key) holding a forbidden character, if any."""
    if isinstance(value, str):
        return (path or "body") if has_forbidden_character(value) else None
    if depth > MAX_SCAN_DEPTH:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and has_forbidden_character(key):
                return path or "body"
            found = find_forbidden_text(item, name, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_forbidden_text(item, f"{path}.{index}" if path else str(index), depth + 1)
            if found:
                return found
    return None


def refuse_control_characters() -> None:
    """``before_request``: a 422 naming the query parameter, path part or JSON field that
    holds a control character, before any handler or the database sees it."""
    from flask import request

    for name, value in request.args.items(multi=True):
        if has_forbidden_character(name):
            _refuse("query")
        if has_forbidden_character(value):
            _refuse(name)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_forbidden_character(value):
            _refuse(name)
    if request.is_json and request.content_length != 0:
        payload = request.get_json(silent=True)  # malformed: the handler answers 400
        field = find_forbidden_text(payload) if payload is not None else None
        if field:
            _refuse(field)


def _refuse(field: str) -> None:
    raise ApiError(422, "Données invalides.", errors={field: CONTROL_MESSAGE})
