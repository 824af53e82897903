"""HTTP routes of ``/api/clients/``: JSON only, the ATARYS envelope, French messages."""

from __future__ import annotations

from flask import Blueprint, Response, request

from atarys.clients import service
from atarys.clients.schemas import ClientFields, ClientIn, ClientOut, ClientsQuery, Deleted
from atarys.extensions import session
from atarys.http import ApiError, int_arg, json_body, ok
from atarys.openapi import answers, documented, envelope
from atarys.validation import validate

bp = Blueprint("clients", __name__, url_prefix="/api/clients")

MAX_PER_PAGE = 200
TAGS = ("Clients",)
ONE = envelope(ClientOut, "ClientAnswer")


@bp.get("/")
@documented(
    query=ClientsQuery,
    resp=answers(HTTP_200=envelope(list[ClientOut], "ClientsAnswer", paginated=True)),
    tags=TAGS,
)
def list_clients() -> Response:
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    sort = request.args.get("sort", "nom")
    if sort.lstrip("-") not in service.SORTABLE:
        raise ApiError(
            422,
            "Paramètre invalide.",
            errors={"sort": "Tri possible sur : " + ", ".join(service.SORTABLE) + "."},
        )
    q = (request.args.get("q") or "").strip() or None
    if _deleted_arg():
        result = service.list_deleted_clients(session(), q=q, page=page, per_page=per_page)
        return ok(
            [c.to_dict() for c in result.items],
            f"{result.total} client(s) supprimé(s) ces {service.TRASH_DAYS} derniers jours",
            pagination=result.pagination(),
        )
    result = service.list_clients(session(), q=q, sort=sort, page=page, per_page=per_page)
    return ok(
        [c.to_dict() for c in result.items],
        f"{result.total} client(s) trouvé(s)",
        pagination=result.pagination(),
    )


def _deleted_arg() -> bool:
    """``deleted=true``: the clients' trash instead of the live clients."""
    raw = (request.args.get("deleted") or "false").strip().lower()
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise ApiError(
        422, "Paramètre invalide.", errors={"deleted": "Valeurs possibles : true, false."}
    )


@bp.post("/")
@documented(json=ClientIn, resp=answers(HTTP_201=ONE), tags=TAGS)
def create_client() -> Response:
    values = validate(ClientIn, json_body()).model_dump()
    client = service.create_client(session(), values)
    return ok(client.to_dict(), "Client créé" + service.shared_note(session(), client), 201)


@bp.get("/<int:client_id>")
@documented(resp=answers(HTTP_200=ONE), tags=TAGS)
def get_client(client_id: int) -> Response:
    return ok(service.get_client(session(), client_id).to_dict(), "Client trouvé")


@bp.put("/<int:client_id>")
@documented(json=ClientIn, resp=answers(HTTP_200=ONE), tags=TAGS)
def replace_client(client_id: int) -> Response:
    client = service.get_client(session(), client_id)
    values = validate(ClientIn, json_body()).model_dump()
    changed = service.update_client(session(), client, values)
    message = "Client mis à jour" + service.shared_note(session(), client)
    return ok(client.to_dict(), message if changed else "Aucune modification")


@bp.patch("/<int:client_id>")
@documented(json=ClientFields, resp=answers(HTTP_200=ONE), tags=TAGS)
def patch_client(client_id: int) -> Response:
    client = service.get_client(session(), client_id)
    payload = json_body()
    values = validate(ClientFields, payload).model_dump(
        include=set(payload) & set(service.EDITABLE_FIELDS)
    )
    if "nom" in values and not values["nom"]:
        raise ApiError(422, "Données invalides.", errors={"nom": "Ce champ est obligatoire."})
    changed = service.update_client(session(), client, values)
    message = "Client mis à jour" + service.shared_note(session(), client)
    return ok(client.to_dict(), message if changed else "Aucune modification")


@bp.delete("/<int:client_id>")
@documented(resp=answers(HTTP_200=envelope(Deleted, "DeletedAnswer")), tags=TAGS)
def delete_client(client_id: int) -> Response:
    client = service.get_client(session(), client_id)
    service.delete_client(session(), client)
    return ok({"id": client_id}, "Client supprimé")


@bp.post("/<int:client_id>/restore")
@documented(resp=answers(HTTP_200=ONE), tags=TAGS)
def restore_client(client_id: int) -> Response:
    """Bring a client deleted in the last 30 days back (the clients' trash)."""
    client = service.restore_client(session(), client_id)
    return ok(client.to_dict(), "Client restauré" + service.shared_note(session(), client))
