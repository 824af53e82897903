"""``GET /api/openapi.json``: the OpenAPI 3.0 document of every endpoint (hand-written, tested).

Kept next to the code it describes; ``tests/api/test_openapi.py`` checks that every
route of the app appears here and fuzzes the whole API against it with schemathesis.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from atarys.api.engine import LINK_STATUSES
from atarys.models import CLIENT_FIELDS

bp = Blueprint("openapi", __name__)

JSON = "application/json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


STR: Schema = {"type": "string"}
NSTR: Schema = {"type": "string", "nullable": True}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
ANY_OBJ: Schema = {"type": "object", "additionalProperties": True}


def envelope(data: Schema, *, extra: dict[str, Schema] | None = None) -> Schema:
    """The ``{success, message, data}`` envelope around ``data``."""
    props: dict[str, Schema] = {"success": {"type": "boolean", "enum": [True]}, "message": STR}
    props["data"] = data
    props.update(extra or {})
    return {"type": "object", "required": ["success", "message", "data"], "properties": props}


def obj(props: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": props, "additionalProperties": True}
    if required:
        schema["required"] = required
    return schema


def ok_response(
    description: str, data: Schema, *, extra: dict[str, Schema] | None = None
) -> Schema:
    return {
        "description": description,
        "content": {JSON: {"schema": envelope(data, extra=extra)}},
    }


ERROR_RESPONSE: Schema = {
    "description": "Erreur : enveloppe avec success=false et un message en français",
    "content": {JSON: {"schema": _ref("Error")}},
}


def op(
    summary: str,
    responses: dict[str, Schema],
    *,
    tag: str,
    params: list[Schema] | None = None,
    body: Schema | None = None,
    body_required: bool = True,
    public: bool = False,
) -> Schema:
    operation: Schema = {"summary": summary, "tags": [tag], "responses": dict(responses)}
    operation["responses"]["default"] = ERROR_RESPONSE
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body}}}
    if public:
        operation["security"] = []
    return operation


def path_param(name: str, schema: Schema, description: str = "") -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def query_param(name: str, schema: Schema, description: str = "") -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


CLIENT_PROPS: dict[str, Schema] = {
    name: {"type": "string", "nullable": True, "maxLength": size}
    for name, size in CLIENT_FIELDS.items()
}
CLIENT: Schema = obj(
    {
        "id": INT,
        **CLIENT_PROPS,
        "created_at": STR,
        "updated_at": STR,
        "deleted_at": NSTR,
    },
    ["id", "nom", "created_at", "updated_at"],
)
CLIENT_IN: Schema = {
    "type": "object",
    "properties": {**CLIENT_PROPS, "nom": {"type": "string", "minLength": 1, "maxLength": 100}},
    "required": ["nom"],
    "additionalProperties": False,
}
CLIENT_PATCH: Schema = {"type": "object", "properties": CLIENT_PROPS, "additionalProperties": False}
PAGINATION: Schema = obj(
    {
        "page": INT,
        "per_page": INT,
        "total": INT,
        "pages": INT,
        "has_next": BOOL,
        "has_prev": BOOL,
    }
)
SIDE_COUNTS: Schema = obj(
    {"success": INT, "errors": INT, "created": INT, "updated": INT, "deleted": INT, "linked": INT},
    ["success", "errors"],
)
RUN_RESULT: Schema = obj(
    {
        "run_id": {},
        "dry_run": BOOL,
        "atarys_to_google": SIDE_COUNTS,
        "google_to_atarys": SIDE_COUNTS,
    },
    ["atarys_to_google", "google_to_atarys"],
)
JOB: Schema = obj(
    {
        "run_id": STR,
        "status": {"type": "string", "enum": ["queued", "running", "finished", "failed"]},
        "progress": obj({"done": INT, "total": _nullable(INT)}),
        "error": _nullable(
            obj(
                {
                    "status": INT,
                    "success": BOOL,
                    "message": STR,
                    "data": {"nullable": True},
                    "reason": NSTR,
                    "retry_after": _nullable(INT),
                },
                ["status", "success", "message"],
            )
        ),
    },
    ["run_id", "status", "progress"],
)
CONTACT: Schema = obj(
    {
        "google_id": STR,
        "nom": NSTR,
        "prenom": NSTR,
        "email": NSTR,
        "etag": NSTR,
        "telephone": NSTR,
        "entreprise": NSTR,
    },
    ["google_id", "nom", "prenom", "email", "etag"],
)
SETTINGS_PROPS: dict[str, Schema] = {
    "conflict_policy": {"type": "string", "enum": ["newest", "atarys", "google", "manual"]},
    "google_deletions": {"type": "string", "enum": ["propagate", "unlink"]},
    "atarys_deletions": {"type": "string", "enum": ["propagate", "unlink"]},
    "import_scope": {"type": "string", "minLength": 1, "maxLength": 20},
    "auto_sync_minutes": {"type": "integer", "minimum": 0, "maximum": 10080},
    "phone_region": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
}
SETTINGS: Schema = obj({"account": NSTR, **{k: {} for k in SETTINGS_PROPS}})
ME: Schema = obj({"username": STR, "auth_method": STR, "csrf_token": NSTR}, ["username"])
STATUS: Schema = obj(
    {
        "authenticated": BOOL,
        "service_available": BOOL,
        "credentials_file_exists": BOOL,
        "token_file_exists": BOOL,
        "token_valid": BOOL,
        "token_revoked": BOOL,
        "legacy_token_file_exists": BOOL,
        "google_reachable": _nullable(BOOL),
        "account": NSTR,
        "reason": NSTR,
        "last_run": _nullable(ANY_OBJ),
        "next_run": _nullable(ANY_OBJ),
    },
    ["authenticated", "service_available", "credentials_file_exists", "token_file_exists"],
)
AUTH_DATA: Schema = obj(
    {
        "authenticated": BOOL,
        "service_available": BOOL,
        "authorization_url": STR,
        "account": NSTR,
    },
    ["authenticated", "service_available"],
)
SETUP: Schema = obj(
    {
        "steps": {
            "type": "array",
            "items": obj(
                {"step": INT, "title": STR, "description": STR, "url": NSTR},
                ["step", "title", "description"],
            ),
        },
        "required_files": {"type": "array", "items": STR},
        "scopes": {"type": "array", "items": STR},
        "missing": {"type": "array", "items": STR},
        "redirect_uri": STR,
        "ready": BOOL,
    },
    ["steps", "required_files", "scopes"],
)

LINK_STATE: Schema = obj(
    {
        "client_id": INT,
        "resource_name": NSTR,
        "status": {"type": "string", "enum": list(LINK_STATUSES)},
        "synced_at": NSTR,
        "error": STR,
    },
    ["client_id", "resource_name", "status", "synced_at"],
)

CLIENT_ID = path_param("client_id", {"type": "integer", "minimum": 1}, "Identifiant du client")
GC = "/api/google-contacts"
T_GC, T_CL, T_AUTH, T_OPS = "google-contacts", "clients", "auth", "exploitation"


def _paths() -> dict[str, Any]:
    return {
        "/api/health": {
            "get": op(
                "Santé du service",
                {
                    "200": ok_response(
                        "Service opérationnel (demo : true en mode démonstration)",
                        obj({"status": STR, "demo": BOOL}, ["status"]),
                    )
                },
                tag=T_OPS,
                public=True,
            )
        },
        "/api/openapi.json": {
            "get": op(
                "Ce document OpenAPI",
                {
                    "200": {
                        "description": "Document OpenAPI 3",
                        "content": {JSON: {"schema": ANY_OBJ}},
                    }
                },
                tag=T_OPS,
            )
        },
        "/metrics": {
            "get": op(
                "Métriques Prometheus",
                {
                    "200": {
                        "description": "Format texte Prometheus",
                        "content": {"text/plain": {"schema": STR}},
                    }
                },
                tag=T_OPS,
                public=True,
            )
        },
        "/api/auth/login": {
            "post": op(
                "Connexion (cookie de session) — limitée en fréquence",
                {"200": ok_response("Connexion réussie", ME)},
                tag=T_AUTH,
                body={
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "minLength": 1, "maxLength": 80},
                        "password": {"type": "string", "minLength": 1, "maxLength": 500},
                    },
                    "required": ["username", "password"],
                    "additionalProperties": False,
                },
                public=True,
            )
        },
        "/api/auth/logout": {
            "post": op("Déconnexion", {"200": ok_response("Déconnexion effectuée", {})}, tag=T_AUTH)
        },
        "/api/auth/me": {
            "get": op("Utilisateur connecté", {"200": ok_response("Utilisateur", ME)}, tag=T_AUTH)
        },
        "/api/auth/csrf": {
            "get": op(
                "Jeton CSRF de la session (en-tête X-CSRF-Token des écritures)",
                {"200": ok_response("Jeton CSRF", obj({"csrf_token": NSTR}))},
                tag=T_AUTH,
            )
        },
        "/api/clients/": {
            "get": op(
                "Liste paginée des clients",
                {
                    "200": ok_response(
                        "Clients",
                        {"type": "array", "items": CLIENT},
                        extra={"pagination": PAGINATION},
                    )
                },
                tag=T_CL,
                params=[
                    query_param("page", {"type": "integer", "minimum": 1, "maximum": 1000000}),
                    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
                    query_param("sort", STR, "nom, -nom, ville, created_at…"),
                    query_param("q", STR, "Recherche"),
                ],
            ),
            "post": op(
                "Créer un client",
                {"201": ok_response("Client créé", CLIENT)},
                tag=T_CL,
                body=CLIENT_IN,
            ),
        },
        "/api/clients/{client_id}": {
            "parameters": [CLIENT_ID],
            "get": op("Un client", {"200": ok_response("Client trouvé", CLIENT)}, tag=T_CL),
            "put": op(
                "Remplacer un client",
                {"200": ok_response("Client mis à jour", CLIENT)},
                tag=T_CL,
                body=CLIENT_IN,
            ),
            "patch": op(
                "Modifier des champs d'un client",
                {"200": ok_response("Client mis à jour", CLIENT)},
                tag=T_CL,
                body=CLIENT_PATCH,
            ),
            "delete": op(
                "Supprimer un client (suppression logique, synchronisée)",
                {"200": ok_response("Client supprimé", obj({"id": INT}, ["id"]))},
                tag=T_CL,
            ),
        },
        f"{GC}/auth": {
            "post": op(
                "Authentification Google : jeton valide, ou URL de consentement",
                {"200": ok_response("✅ Authentification Google réussie", AUTH_DATA)},
                tag=T_GC,
            )
        },
        f"{GC}/oauth2callback": {
            "get": op(
                "Retour OAuth2 de Google : vérifie state, échange le code, redirige vers l'interface",
                {"302": {"description": "Redirection vers /google-contacts"}},
                tag=T_GC,
                params=[
                    query_param("state", STR),
                    query_param("code", STR),
                    query_param("error", STR),
                ],
                public=True,
            )
        },
        f"{GC}/sync-to-google/{{client_id}}": {
            "post": op(
                "Synchroniser un client ATARYS vers Google",
                {
                    "200": ok_response(
                        "Contact created dans Google Contacts",
                        obj({"google_id": NSTR, "action": STR}, ["google_id", "action"]),
                    )
                },
                tag=T_GC,
                params=[CLIENT_ID],
            )
        },
        f"{GC}/sync-from-google/{{google_id}}": {
            "post": op(
                "Synchroniser un contact Google vers ATARYS",
                {
                    "200": ok_response(
                        "Client created dans ATARYS",
                        obj({"client_id": _nullable(INT), "action": STR}, ["client_id", "action"]),
                    )
                },
                tag=T_GC,
                params=[path_param("google_id", STR, "people/c123 ou c123")],
            )
        },
        f"{GC}/sync-all": {
            "post": op(
                "Synchronisation complète (dry_run : plan sans écriture ; async : 202 + suivi)",
                {
                    "200": ok_response("Synchronisation complète terminée", RUN_RESULT),
                    "202": ok_response("Synchronisation lancée en arrière-plan", JOB),
                },
                tag=T_GC,
                body={
                    "type": "object",
                    "properties": {"dry_run": BOOL, "force": BOOL, "async": BOOL},
                    "additionalProperties": False,
                },
                body_required=False,
            )
        },
        f"{GC}/status": {
            "get": op(
                "Statut du service Google Contacts",
                {"200": ok_response("✅ Service Google Contacts disponible", STATUS)},
                tag=T_GC,
            )
        },
        f"{GC}/list-contacts": {
            "get": op(
                "Contacts Google, page par page",
                {
                    "200": ok_response(
                        "N contacts trouvés dans Google",
                        {"type": "array", "items": CONTACT},
                        extra={
                            "pagination": obj(
                                {
                                    "page_size": INT,
                                    "next_page_token": NSTR,
                                    "total_items": INT,
                                }
                            )
                        },
                    )
                },
                tag=T_GC,
                params=[
                    query_param("page_size", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    query_param("page_token", {"type": "string", "maxLength": 2000}),
                ],
            )
        },
        f"{GC}/setup-instructions": {
            "get": op(
                "Instructions de configuration (et ce qui manque ici)",
                {"200": ok_response("Instructions de configuration Google Contacts", SETUP)},
                tag=T_GC,
            )
        },
        f"{GC}/runs": {
            "get": op(
                "Historique des synchronisations",
                {
                    "200": ok_response(
                        "Synchronisations",
                        {"type": "array", "items": ANY_OBJ},
                        extra={"pagination": obj({"limit": INT, "offset": INT, "total": INT})},
                    )
                },
                tag=T_GC,
                params=[
                    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                    query_param("offset", {"type": "integer", "minimum": 0, "maximum": 1000000}),
                ],
            )
        },
        f"{GC}/runs/{{run_id}}": {
            "get": op(
                "Détail d'une synchronisation (changements par élément) ou suivi d'un job",
                {"200": ok_response("Détail de la synchronisation", ANY_OBJ)},
                tag=T_GC,
                params=[path_param("run_id", STR, "Identifiant de synchronisation ou job-…")],
            )
        },
        f"{GC}/conflicts": {
            "get": op(
                "Conflits ouverts",
                {"200": ok_response("Conflits", {"type": "array", "items": ANY_OBJ})},
                tag=T_GC,
            )
        },
        f"{GC}/conflicts/{{conflict_id}}/resolve": {
            "post": op(
                "Résoudre un conflit",
                {"200": ok_response("Conflit résolu", {})},
                tag=T_GC,
                params=[path_param("conflict_id", {"type": "integer", "minimum": 1})],
                body={
                    "type": "object",
                    "properties": {
                        "choice": {"type": "string", "enum": ["atarys", "google", "value"]},
                        "value": {"type": "string", "nullable": True, "maxLength": 200},
                    },
                    "required": ["choice"],
                    "additionalProperties": False,
                },
            )
        },
        f"{GC}/duplicates": {
            "get": op(
                "Doublons détectés (jamais fusionnés automatiquement)",
                {"200": ok_response("Doublons", {"type": "array", "items": ANY_OBJ})},
                tag=T_GC,
            )
        },
        f"{GC}/links": {
            "get": op(
                "État de synchronisation de clients (badges de la liste des clients)",
                {
                    "200": ok_response(
                        "État de synchronisation de N client(s)",
                        {"type": "array", "items": LINK_STATE},
                    )
                },
                tag=T_GC,
                params=[
                    {
                        "name": "client_ids",
                        "in": "query",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "pattern": r"^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8}){0,199}$",
                        },
                        "description": "Identifiants de clients séparés par des virgules "
                        "(200 au plus) ; les clients inconnus ou supprimés sont omis",
                    }
                ],
            )
        },
        f"{GC}/settings": {
            "get": op(
                "Paramètres de synchronisation du compte",
                {"200": ok_response("Paramètres", SETTINGS)},
                tag=T_GC,
            ),
            "put": op(
                "Modifier les paramètres de synchronisation",
                {"200": ok_response("Paramètres enregistrés", SETTINGS)},
                tag=T_GC,
                body={
                    "type": "object",
                    "properties": SETTINGS_PROPS,
                    "additionalProperties": False,
                },
                body_required=False,
            ),
        },
        f"{GC}/disconnect": {
            "post": op(
                "Déconnecter Google (révoque et supprime le jeton)",
                {"200": ok_response("Compte Google déconnecté", obj({"disconnected": BOOL}))},
                tag=T_GC,
            )
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ATARYS — clients et synchronisation Google Contacts",
            "version": "1.0.0",
            "description": "Toutes les réponses suivent l'enveloppe {success, message, data}. "
            "Authentification : cookie de session (POST /api/auth/login, écritures avec "
            "l'en-tête X-CSRF-Token) ou jeton d'API (Authorization: Bearer).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "atarys_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["success", "message"],
                    "properties": {
                        "success": {"type": "boolean", "enum": [False]},
                        "message": STR,
                        "data": {"nullable": True},
                        "errors": {"type": "object", "additionalProperties": STR},
                    },
                }
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())
