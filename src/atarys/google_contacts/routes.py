"""HTTP routes of ``/api/google-contacts/*``: the seed's seven endpoints, and the ones added.

Seed (paths, methods, envelope, French messages and ``data`` keys kept):
``POST auth``, ``POST sync-to-google/<client_id>``, ``POST sync-from-google/<google_id>``,
``POST sync-all``, ``GET status``, ``GET list-contacts``, ``GET setup-instructions``.

Added: ``GET runs``, ``GET runs/<id>``, ``POST sync-all`` with ``dry_run``/``async``,
``GET conflicts``, ``POST conflicts/<id>/resolve``, ``GET duplicates``,
``GET|PUT settings``, ``POST disconnect``, ``GET links`` (each client's sync state), and
``GET oauth2callback`` (public: it checks the single-use ``state``).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urljoin

import requests
from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from atarys.api.auth import caller, current_principal
from atarys.config import Settings
from atarys.extensions import db
from atarys.google import oauth
from atarys.google.client import CONTACTS_SCOPE
from atarys.google.connection import (
    GoogleAuthUnavailableError,
    NotConnectedError,
    connection_state,
    people_service,
    refresh_failed,
    stored_token,
    token_store,
)
from atarys.google.tokens import StoredToken, TokenStoreError
from atarys.google_contacts import accounts as acc
from atarys.google_contacts import hub  # noqa: F401  (ATARYS is the hub: forwards the sync's writes)
from atarys.google_contacts import schemas as s
from atarys.google_contacts import service as engine
from atarys.google_contacts.queries import client_link_states
from atarys.http import ApiError, external_url, int_arg, ok, optional_json_body
from atarys.jobs import background, scheduler
from atarys.models import Client, GoogleAccount, OAuthState, SyncDuplicate, SyncRun, utcnow
from atarys.openapi import answers, documented, envelope
from atarys.sync.core.records import FIELDS, Record, display_name
from atarys.validation import validate

logger = logging.getLogger("atarys.google_contacts")

bp = Blueprint("google_contacts", __name__, url_prefix="/api/google-contacts")

UI_PATH = "/google-contacts"
STATE_TTL = timedelta(minutes=15)
LIST_FIELDS = "names,emailAddresses,phoneNumbers,addresses,organizations,metadata"
RESOURCE_RE = re.compile(r"^(?:people/)?(c?[0-9A-Za-z_-]{1,128})$")


def _settings() -> Settings:
    settings = current_app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _client_secrets() -> oauth.ClientSecrets:
    try:
        return oauth.load_client_secrets(_settings().google_credentials_file)
    except oauth.ClientSecretsError as exc:
        raise ApiError(
            503,
            f"Google Contacts n'est pas configuré : {exc.message} "
            "Suivez le guide de configuration de la page Google Contacts.",
            data={"credentials_file_exists": _settings().google_credentials_file.exists()},
        ) from exc


def _redirect_uri(client: oauth.ClientSecrets) -> str:
    own = external_url("google_contacts.oauth2callback")
    if client.kind == "web" and client.redirect_uris and own not in client.redirect_uris:
        for uri in client.redirect_uris:
            if uri.rstrip("/").endswith("/oauth2callback"):
                return uri
    return own


def _account() -> str | None:
    """``?account=<e-mail>``: the account an endpoint acts for (404 when unknown)."""
    raw = request.args.get("account")
    if raw is None or not raw.strip():
        return None
    email = raw.strip().lower()
    if len(email) > 320 or engine.find_account(db.session, email) is None:
        raise ApiError(
            404,
            f"Aucun compte Google « {email[:320]} » n'est relié à ATARYS : vérifiez "
            "l'adresse, ou connectez ce compte depuis la page des téléphones de l'équipe.",
            errors={"account": "Compte Google inconnu."},
        )
    return email


def _require_admin() -> None:
    """Managing another person's account needs the ``admin`` right (a login session has it)."""
    principal = current_principal()
    if principal is not None and "admin" not in principal.scopes:
        raise ApiError(
            403,
            "Seul un administrateur peut modifier ou déconnecter un compte Google : "
            "demandez un jeton avec le droit « administration » à l'administrateur.",
        )


# --- seed: auth ----------------------------------------------------------------------------------


TAGS = ["google-contacts"]
MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds


@bp.post("/auth")
@documented(json=s.AuthIn, resp=answers(HTTP_200=envelope(s.AuthData, "AuthAnswer")), tags=TAGS)
def auth() -> Response:
    """Authenticated when a stored token works; else a consent URL (web flow, never blocking).

    ``login_hint``: the e-mail of the Google account to connect (another staff member's):
    Google's consent page opens on it.
    """
    body = validate(s.AuthIn, optional_json_body())
    hint = body.login_hint.strip().lower() if body.login_hint else None
    client = _client_secrets()
    state = connection_state(_app(), hint)
    if state.authenticated:
        return ok(
            {"authenticated": True, "service_available": True, "account": state.account},
            "✅ Authentification Google réussie",
        )
    redirect_uri = _redirect_uri(client)
    raw_state, verifier = oauth.new_state(), oauth.new_code_verifier()
    principal = current_principal()
    db.session.execute(delete(OAuthState).where(OAuthState.created_at < utcnow() - STATE_TTL))
    db.session.add(
        OAuthState(
            state_hash=oauth.hash_state(raw_state),
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            user_id=principal.user_id if principal else None,
            owner=principal.owner if principal else None,
        )
    )
    db.session.commit()
    url = oauth.authorization_url(
        client, redirect_uri=redirect_uri, state=raw_state, code_verifier=verifier
    )
    if hint is not None:
        url += ("&" if "?" in url else "?") + urlencode({"login_hint": hint})
    message = (
        "L'accès Google a été révoqué : autorisez à nouveau ATARYS"
        if state.revoked
        else "Autorisation Google requise : ouvrez authorization_url"
    )
    return ok(
        {
            "authenticated": False,
            "service_available": False,
            "authorization_url": url,
            "redirect_uri": redirect_uri,
            "reason": state.reason,
        },
        message,
    )


def _to_ui(**params: str) -> Response:
    resp = redirect(f"{UI_PATH}?{urlencode(params)}", code=302)
    assert isinstance(resp, Response)
    return resp


@bp.get("/oauth2callback")
@documented(resp=answers(HTTP_302=None), tags=TAGS)
def oauth2callback() -> Response:
    """Check ``state``, trade the code at the file's ``token_uri``, store the token, back to the UI."""
    raw_state = request.args.get("state", "")
    row = db.session.get(OAuthState, oauth.hash_state(raw_state)) if raw_state else None
    if row is None:
        logger.warning("OAuth2 callback with an unknown state")
        return _to_ui(google="error", reason="state")
    # Only the login session (or API token) that started the flow may complete it: anyone
    # else holding the state would connect their own Google account. The state stays
    # usable by its owner.
    who = caller()
    if row.owner is None or who is None or who.owner != row.owner:
        logger.warning("OAuth2 callback refused: not from the session that started the flow")
        return _to_ui(google="error", reason="other_session")
    redirect_uri, verifier, created = row.redirect_uri, row.code_verifier, row.created_at
    used = db.session.execute(
        delete(OAuthState)
        .where(OAuthState.state_hash == row.state_hash)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if getattr(used, "rowcount", 0) != 1:  # another request used this state first
        return _to_ui(google="error", reason="state")
    if utcnow() - created > STATE_TTL:
        return _to_ui(google="error", reason="expired")
    if request.args.get("error"):
        return _to_ui(google="error", reason="access_denied")
    code = request.args.get("code", "")
    if not code:
        return _to_ui(google="error", reason="no_code")
    try:
        client = oauth.load_client_secrets(_settings().google_credentials_file)
        creds = oauth.exchange_code(
            client, code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
        email = oauth.account_email(creds, _settings().google_api_endpoint)
    except oauth.OAuthError as exc:
        logger.warning("OAuth2 callback failed: %s", exc.reason)
        return _to_ui(google="error", reason=exc.reason)
    except (HttpError, OSError) as exc:
        logger.warning("OAuth2 callback: Google unreachable (%s)", type(exc).__name__)
        return _to_ui(google="error", reason="unreachable")
    store = token_store(_app())
    token = StoredToken.from_credentials(email, creds)
    try:
        previous = store.load(email)
    except TokenStoreError:
        previous = None
    if not token.refresh_token and previous is not None and not previous.revoked:
        token.refresh_token = previous.refresh_token
    store.save(token)
    engine.ensure_account(db.session, email)
    logger.info("Google account connected")
    return _to_ui(google="connected")


# --- seed: the syncs ---------------------------------------------------------------------------


@bp.post("/sync-to-google/<int:client_id>")
@documented(resp=answers(HTTP_200=envelope(s.SyncToGoogleData, "SyncToGoogleAnswer")), tags=TAGS)
def sync_to_google(client_id: int) -> Response:
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        item = service.sync_client_to_google(client_id)
    action = item.action or "unchanged"
    return ok(
        {"google_id": item.google_id, "action": action},
        f"Contact {action} dans Google Contacts",
    )


@bp.post("/sync-from-google/<path:google_id>")
@documented(
    resp=answers(HTTP_200=envelope(s.SyncFromGoogleData, "SyncFromGoogleAnswer")), tags=TAGS
)
def sync_from_google(google_id: str) -> Response:
    match = RESOURCE_RE.match(google_id)
    if match is None:
        raise ApiError(
            422,
            "Identifiant Google invalide.",
            errors={"google_id": "Attendu : people/c123 ou c123."},
        )
    resource_name = f"people/{match.group(1)}"
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        item = service.sync_contact_from_google(resource_name)
    action = item.action or "unchanged"
    return ok(
        {
            "client_id": item.client_id,
            "action": action,
            "google_id": resource_name,
        },
        f"Client {action} dans ATARYS",
    )


@bp.post("/sync-all")
@documented(
    json=s.SyncAllIn,
    resp=answers(
        HTTP_200=envelope(s.RunResultData, "RunResultAnswer"),
        HTTP_202=envelope(s.JobData, "JobAnswer"),
    ),
    tags=TAGS,
)
def sync_all() -> Response:
    options = validate(s.SyncAllIn, optional_json_body())
    if _account() is None and not options.run_async:
        several = engine.connected_accounts(_app())
        if len(several) > 1:
            return _sync_every_account([a.email for a in several], options)
    if options.run_async:
        asked = _account()
        several = [] if asked is not None else engine.connected_accounts(_app())
        targets: list[str | None] = [a.email for a in several] if len(several) > 1 else [asked]
        jobs = [_start_job(email, options) for email in targets]
        first = jobs[0]
        job: dict[str, Any] = dict(first["job"])
        if len(jobs) > 1:
            job["jobs"] = [
                {"account": j["account"], "run_id": j["job"]["run_id"], "location": j["location"]}
                for j in jobs
            ]
        message = (
            first["message"]
            if len(jobs) == 1
            else f"Synchronisation de {len(jobs)} comptes lancée en arrière-plan"
        )
        resp = ok(job, message, 202)
        resp.headers["Location"] = first["location"]
        return resp
    with engine.engine_errors():
        data = background.when_free(
            lambda: engine.run_sync_all(
                engine.open_service(_app(), _account()),
                dry_run=options.dry_run,
                force=options.force,
                trigger="api",
            ),
            timeout=_settings().sync_wait_seconds,
            on_busy=db.session.rollback,
        )
    message = (
        "Simulation terminée : aucune modification appliquée"
        if options.dry_run
        else "Synchronisation complète terminée"
    )
    return ok(data, message)


def _start_job(email: str | None, options: s.SyncAllIn) -> dict[str, Any]:
    """Start (or join) one account's background run: its job, message and address."""
    started = background.start(_app(), dry_run=options.dry_run, force=options.force, account=email)
    where = f"?{urlencode({'account': email})}" if email else ""
    with engine.engine_errors():
        job = background.job_view(  # the run started, or the one that holds the account
            engine.open_service(_app(), email, require_google=False).get_run(started.run_id)
        )
    return {
        "account": started.account,
        "job": job,
        "message": (
            "Une synchronisation est déjà en cours : suivez-la ici"
            if started.joined
            else "Synchronisation lancée en arrière-plan"
        ),
        "location": url_for("google_contacts.get_run", run_id=started.run_id) + where,
    }


def _sync_one(email: str, options: s.SyncAllIn) -> dict[str, Any]:
    """One account's synchronous ``sync-all`` (waiting while another run holds it)."""
    return background.when_free(
        lambda: engine.run_sync_all(
            engine.open_service(_app(), email),
            dry_run=options.dry_run,
            force=options.force,
            trigger="api",
        ),
        timeout=_settings().sync_wait_seconds,
        on_busy=db.session.rollback,
    )


def _sync_every_account(emails: list[str], options: s.SyncAllIn) -> Response:
    """``sync-all`` with several connected accounts and no ``?account=``: each in turn.

    One account's failure (quota, revoked access…) does not stop the others; the answer
    gives each account's result (or French error) by e-mail.
    """
    results: list[dict[str, Any]] = []
    for email in emails:
        try:
            with engine.engine_errors():
                one = _sync_one(email, options)
            results.append(
                {"account": email, "success": True, "message": "Synchronisé", "result": one}
            )
        except ApiError as exc:
            db.session.rollback()
            results.append(
                {"account": email, "success": False, "message": exc.message, "result": None}
            )
    failed = [r["account"] for r in results if not r["success"]]
    first = next((r["result"] for r in results if r["result"] is not None), None)
    data: dict[str, Any] = dict(first or {})
    data["accounts"] = results
    if failed:
        message = (
            f"Synchronisation de {len(results) - len(failed)} compte(s) sur {len(results)} ; "
            f"en échec : {', '.join(failed)} (voir le détail de chaque compte)"
        )
    elif options.dry_run:
        message = f"Simulation terminée pour {len(results)} comptes : aucune modification appliquée"
    else:
        message = f"Synchronisation complète terminée pour {len(results)} comptes"
    return ok(data, message)


@bp.post("/plans/<plan_id>/apply")
@documented(
    json=s.ApplyIn,
    resp=answers(
        HTTP_200=envelope(s.RunResultData, "ApplyAnswer"),
        HTTP_202=envelope(s.JobData, "ApplyJobAnswer"),
    ),
    tags=TAGS,
)
def apply_plan(plan_id: str) -> Response:
    """Apply a previewed plan exactly as it was shown (once, within 30 minutes)."""
    options = validate(s.ApplyIn, optional_json_body())
    if options.run_async:
        started = background.start_apply(_app(), plan_id, force=options.force, account=_account())
        where = f"?{urlencode({'account': started.account})}"
        with engine.engine_errors():
            job = background.job_view(
                engine.open_service(_app(), started.account, require_google=False).get_run(
                    started.run_id
                )
            )
        message = (
            "Cet aperçu est déjà en cours d'application : suivez-la ici"
            if started.joined
            else "Application de l'aperçu lancée en arrière-plan"
        )
        resp = ok(job, message, 202)
        resp.headers["Location"] = url_for("google_contacts.get_run", run_id=started.run_id) + where
        return resp
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        data = engine.run_apply(service, plan_id, force=options.force)
    changed = len(data.get("changed_since_preview") or [])
    message = (
        "Aperçu appliqué"
        if not changed
        else f"Aperçu appliqué, sauf {changed} élément(s) modifié(s) depuis l'aperçu "
        "(la prochaine synchronisation les reprendra)"
    )
    return ok(data, message)


@bp.post("/runs/<int:run_id>/undo")
@documented(
    json=s.UndoIn,
    resp=answers(HTTP_200=envelope(s.RunResultData, "UndoAnswer")),
    tags=TAGS,
)
def undo_run(run_id: int) -> Response:
    """Undo a run (``dry_run``: preview it as a plan to apply with ``plans/<id>/apply``)."""
    options = validate(s.UndoIn, optional_json_body())
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        data = engine.counted_run("undo", lambda: service.undo_run(run_id, dry_run=options.dry_run))
    kept = len(data.get("skipped") or [])
    if options.dry_run:
        message = "Aperçu de l'annulation : rien n'a encore été modifié"
    else:
        message = "Synchronisation annulée"
    if kept:
        message += f" ({kept} élément(s) modifié(s) depuis sont gardés tels quels)"
    return ok(data, message)


@bp.post("/duplicates/<int:duplicate_id>/merge")
@documented(
    json=s.MergeIn,
    resp=answers(HTTP_200=envelope(s.RunResultData, "MergeAnswer")),
    tags=TAGS,
)
def merge_duplicate(duplicate_id: int) -> Response:
    """Merge a duplicate into one person with the chosen values; the extra records go to
    the trash (a run of its own, which can be undone)."""
    body = validate(s.MergeIn, optional_json_body())
    unknown = sorted(set(body.values) - set(FIELDS))
    if unknown:
        raise ApiError(
            422, "Données invalides.", errors={"values": f"Champ inconnu : {', '.join(unknown)}."}
        )
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        data = engine.counted_run(
            "merge",
            lambda: service.merge_duplicate(
                duplicate_id,
                keep_client_id=body.keep_client_id,
                keep_resource_name=body.keep_resource_name,
                values=body.values,
            ),
        )
    return ok(data, "Fiches fusionnées : les doublons sont dans la corbeille")


@bp.get("/trash")
@documented(resp=answers(HTTP_200=None), tags=TAGS)
def trash() -> Response:
    """Google contacts the sync deleted in the last 30 days, each restorable whole."""
    with engine.engine_errors():
        service = engine.open_service(_app(), _account(), require_google=False)
        rows = [row.to_dict() for row in service.list_trash()]
    return ok(rows, f"{len(rows)} contact(s) dans la corbeille")


@bp.post("/trash/<int:trash_id>/restore")
@documented(resp=answers(HTTP_200=None), tags=TAGS)
def restore_contact(trash_id: int) -> Response:
    """Create the contact again in Google from its kept copy, and link it back."""
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        item = service.restore_contact(trash_id)
    return ok(item.to_dict(), "Contact restauré dans Google Contacts")


# --- seed: status, list, setup ---------------------------------------------------------------------


LAST_RUN_PAGE = 20
LAST_RUN_PAGES = 5


def _last_run() -> dict[str, Any] | None:
    """The newest run that wrote (or tried to): dry runs (previews) are skipped."""
    try:
        service = engine.open_reader(_app(), _account())
        if service is None:
            return None
        for page in range(LAST_RUN_PAGES):
            rows = service.list_runs(limit=LAST_RUN_PAGE, offset=page * LAST_RUN_PAGE).items
            for row in rows:
                if not row.dry_run:
                    return row.to_dict()
            if len(rows) < LAST_RUN_PAGE:
                break
    except (NotConnectedError, ApiError):
        return None
    except (SQLAlchemyError, OSError):
        # The status card still answers; the cause is in the log.
        db.session.rollback()
        logger.exception("could not read the last run")
    return None


def _first_sync_pending() -> bool:
    """Connected, but no person has applied the first sync yet (nothing was written)."""
    account = engine.resolve_account(_app(), None, _status_account())
    return bool(account is not None and account.first_sync_pending)


def _status_account() -> str | None:
    """The account ``status`` and ``list-contacts`` describe: the one asked, else (several
    connected) the first connected one, else the seed's rule."""
    asked = _account()
    if asked is not None:
        return asked
    connected = engine.connected_accounts(_app())
    return connected[0].email if len(connected) > 1 else None


def _probe(endpoint: str) -> bool:
    """Whether the People API endpoint answers at all (any answer below 500, even a 401)."""
    try:
        resp = requests.get(
            urljoin(endpoint, "v1/people/me"), params={"personFields": "names"}, timeout=3
        )
    except requests.RequestException:
        return False
    return resp.status_code < 500


@bp.get("/status")
@documented(resp=answers(HTTP_200=envelope(s.StatusData, "StatusAnswer")), tags=TAGS)
def status() -> Response:
    """The truth about the connection: files, token, Google reachable, last and next run."""
    settings = _settings()
    credentials_exists = settings.google_credentials_file.exists()
    email = _status_account()
    state = connection_state(_app(), email)
    reachable: bool | None = None
    usable = False
    if state.authenticated:
        try:
            service = people_service(_app(), state.account)
            service.people().get(resourceName="people/me", personFields="emailAddresses").execute()
            reachable = usable = True
        except RefreshError as exc:
            refresh_failed(_app(), str(state.account), exc)
            state = connection_state(_app(), email)
        except HttpError as exc:
            code = int(getattr(exc.resp, "status", 0) or 0)
            reachable = 0 < code < 500 and code != 429
        except (OSError, GoogleAuthUnavailableError):
            reachable = False
        except NotConnectedError:
            state = connection_state(_app(), email)
    elif credentials_exists:
        reachable = _probe(settings.google_api_endpoint)
    service_available = bool(state.authenticated and usable)
    data: dict[str, Any] = {
        "authenticated": state.authenticated,
        "service_available": service_available,
        "credentials_file_exists": credentials_exists,
        "token_file_exists": state.token_file_exists,
        "token_valid": state.authenticated,
        "token_revoked": state.revoked,
        "legacy_token_file_exists": state.legacy_token,
        "google_reachable": reachable,
        "account": state.account,
        "reason": state.reason,
        "last_run": _last_run() if state.account else None,
        "next_run": scheduler.next_run_info(_app()),
        "first_sync_pending": _first_sync_pending(),
        "accounts": acc.list_accounts(_app(), db.session),
    }
    if service_available:
        message = "✅ Service Google Contacts disponible"
    elif state.legacy_token and not state.token_file_exists:
        message = "⚠️ Ancien jeton (pickle) ignoré pour raison de sécurité : reconnectez Google"
    elif not credentials_exists:
        message = (
            "⚠️ Fichier d'identifiants Google (data/google_credentials.json) absent : "
            "suivez le guide de configuration"
        )
    elif state.revoked:
        message = "⚠️ L'accès Google a été révoqué : cliquez sur « Connecter Google »"
    elif not state.token_file_exists:
        message = "⚠️ Google n'est pas connecté : cliquez sur « Connecter Google »"
    elif not state.authenticated:
        message = f"⚠️ {state.message or 'Jeton Google inutilisable'}"
    else:
        message = "⚠️ Google Contacts injoignable pour le moment"
    return ok(data, message)


def _first(person: dict[str, Any], key: str) -> dict[str, Any]:
    values = person.get(key) or []
    for value in values:
        if (value.get("metadata") or {}).get("primary"):
            return value  # type: ignore[no-any-return]
    return values[0] if values else {}


def contact_summary(person: dict[str, Any]) -> dict[str, Any]:
    """A Google person in the seed's list shape (ATARYS field names)."""
    name, email = _first(person, "names"), _first(person, "emailAddresses")
    phone, address = _first(person, "phoneNumbers"), _first(person, "addresses")
    org = _first(person, "organizations")
    return {
        "google_id": person.get("resourceName"),
        "nom": name.get("familyName"),
        "prenom": name.get("givenName"),
        "email": email.get("value"),
        "telephone": phone.get("value"),
        "adresse": address.get("formattedValue") or address.get("streetAddress"),
        "ville": address.get("city"),
        "code_postal": address.get("postalCode"),
        "entreprise": org.get("name"),
        "fonction": org.get("title"),
        "etag": person.get("etag"),
    }


@bp.get("/list-contacts")
@documented(
    query=s.ListContactsQuery,
    resp=answers(HTTP_200=envelope(list[s.ContactSummary], "ContactsAnswer", paginated=True)),
    tags=TAGS,
)
def list_contacts() -> Response:
    """One page of Google contacts; ``pagination.next_page_token`` reaches the next one."""
    page_size = int_arg("page_size", 100, 1, s.MAX_PAGE_SIZE)
    page_token = request.args.get("page_token") or None
    if page_token is not None and len(page_token) > 2000:
        raise ApiError(422, "Paramètre invalide.", errors={"page_token": "Trop long."})
    asked = _account()
    several = [] if asked is not None else engine.connected_accounts(_app())
    if len(several) <= 1:
        contacts, total, next_token = _contacts_page(asked, page_size, page_token)
        return ok(
            contacts,
            f"{total} contacts trouvés dans Google",
            pagination={
                "page_size": page_size,
                "page_token": page_token,
                "next_page_token": next_token,
                "total_items": total,
                "count": len(contacts),
            },
        )
    # several connected accounts: a page of each, every contact saying whose phone it is on
    everyone: list[dict[str, Any]] = []
    per_account: list[dict[str, Any]] = []
    tokens: dict[str, str | None] = {}
    for index, account in enumerate(several):
        contacts, total, next_token = _contacts_page(
            account.email, page_size, page_token if index == 0 else None
        )
        everyone += [{**c, "account": account.email} for c in contacts]
        tokens[account.email] = next_token
        per_account.append({"account": account.email, "total_items": total, "count": len(contacts)})
    total_all = sum(int(a["total_items"]) for a in per_account)
    return ok(
        everyone,
        f"{total_all} contacts trouvés dans Google sur {len(several)} comptes",
        pagination={
            "page_size": page_size,
            "page_token": page_token,
            # the first account's next page (the seed's field); each account's: ?account=
            "next_page_token": tokens[several[0].email],
            "next_page_tokens": tokens,
            "total_items": total_all,
            "count": len(everyone),
            "accounts": per_account,
        },
    )


def _contacts_page(
    email: str | None, page_size: int, page_token: str | None
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of an account's contacts: the contacts, the total, the next page's token."""
    with engine.engine_errors():
        service = people_service(_app(), email)
    try:
        answer = (
            service.people()
            .connections()
            .list(
                resourceName="people/me",
                personFields=LIST_FIELDS,
                pageSize=page_size,
                pageToken=page_token,
            )
            .execute()
        )
    except HttpError as exc:
        status = int(getattr(exc.resp, "status", 0) or 0)
        if status == 400 and page_token:
            raise ApiError(
                422,
                "Paramètre invalide.",
                errors={"page_token": "Jeton de page invalide ou expiré."},
            ) from exc
        if status == 429:
            raise ApiError(
                429,
                "Quota de l'API Google dépassé : réessayez dans 60 s.",
                headers={"Retry-After": "60"},
            ) from exc
        if status in (401, 403):
            raise ApiError(
                409,
                "L'accès Google a été refusé : reconnectez le compte.",
                data={"authenticated": False, "reason": "google_auth"},
            ) from exc
        raise ApiError(503, "Google Contacts est momentanément indisponible.") from exc
    except OSError as exc:
        raise ApiError(503, "Google Contacts est injoignable.") from exc
    contacts = [contact_summary(p) for p in answer.get("connections") or []]
    total = answer.get("totalItems", answer.get("totalPeople"))
    total = total if isinstance(total, int) else len(contacts)
    next_token = answer.get("nextPageToken")
    return contacts, total, str(next_token) if next_token else None


SETUP_STEPS: list[dict[str, Any]] = [
    {
        "step": 1,
        "title": "Créer un projet Google Cloud",
        "description": "Allez sur https://console.cloud.google.com et créez un nouveau projet",
        "url": "https://console.cloud.google.com",
    },
    {
        "step": 2,
        "title": "Activer l'API Google People",
        "description": "Dans « API et services » → « Bibliothèque », activez « Google People API »",
        "url": "https://console.cloud.google.com/apis/library/people.googleapis.com",
    },
    {
        "step": 3,
        "title": "Configurer l'écran de consentement OAuth",
        "description": "Type « Interne » pour un compte Google Workspace, sinon « Externe » avec "
        "vos utilisateurs en testeurs ; ajoutez le scope contacts",
        "url": "https://console.cloud.google.com/apis/credentials/consent",
    },
    {
        "step": 4,
        "title": "Créer des identifiants OAuth2",
        "description": "« Identifiants » → « Créer des identifiants » → « ID client OAuth » : "
        "« Application Web » avec l'adresse de redirection indiquée ci-dessous, ou "
        "« Application de bureau » pour la commande « atarys auth »",
        "url": "https://console.cloud.google.com/apis/credentials",
    },
    {
        "step": 5,
        "title": "Télécharger les identifiants",
        "description": "Téléchargez le fichier JSON et placez-le dans data/google_credentials.json",
        "url": None,
    },
    {
        "step": 6,
        "title": "Connecter le compte Google",
        "description": "Cliquez sur « Connecter Google » et acceptez l'accès (ou, sur le "
        "serveur, lancez la commande « atarys auth »)",
        "url": None,
    },
]


@bp.get("/setup-instructions")
@documented(resp=answers(HTTP_200=envelope(s.SetupData, "SetupAnswer")), tags=TAGS)
def setup_instructions() -> Response:
    settings = _settings()
    state = connection_state(_app())
    missing: list[str] = []
    if not settings.google_credentials_file.exists():
        missing.append("data/google_credentials.json (identifiants OAuth2) est absent")
    else:
        try:
            oauth.load_client_secrets(settings.google_credentials_file)
        except oauth.ClientSecretsError as exc:
            missing.append(exc.message)
    if state.legacy_token:
        missing.append(
            "data/google_contacts_token.pickle (ancien format) est ignoré : reconnectez Google"
        )
    if state.revoked:
        missing.append("l'accès Google a été révoqué : reconnectez le compte")
    elif not state.token_file_exists:
        missing.append("aucun compte Google connecté (étape 6)")
    return ok(
        {
            "steps": SETUP_STEPS,
            "required_files": ["data/google_credentials.json"],
            "scopes": [CONTACTS_SCOPE],
            "redirect_uri": external_url("google_contacts.oauth2callback"),
            "missing": missing,
            "ready": not missing,
        },
        "Instructions de configuration Google Contacts",
    )


# --- runs, conflicts, duplicates ----------------------------------------------------------------


@bp.get("/runs")
@documented(
    query=s.RunsQuery,
    resp=answers(HTTP_200=envelope(list[s.RunData], "RunsAnswer", paginated=True)),
    tags=TAGS,
)
def list_runs() -> Response:
    limit = int_arg("limit", 20, 1, s.MAX_RUNS_LIMIT)
    offset = int_arg("offset", 0, 0, s.MAX_RUNS_OFFSET)
    dry_run = _bool_arg("dry_run")
    items: list[dict[str, Any]] = []
    total = 0
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
        if service is not None:
            rows, total = _runs_page(service.account.id, limit, offset, dry_run)
            items = [run.to_dict() for run in rows]
    return ok(
        items,
        f"{total} synchronisation(s)",
        pagination={"limit": limit, "offset": offset, "total": total},
    )


@bp.get("/runs/<run_id>")
@documented(
    resp=answers(HTTP_200=envelope(s.JobData | s.RunData, "RunAnswer")),
    tags=TAGS,
)
def get_run(run_id: str) -> Response:
    """One run with its per-item changes; a background run answers as a job (status, progress)."""
    if not run_id.isascii() or not run_id.isdigit() or int(run_id) > MAX_ID:
        raise ApiError(404, "Synchronisation introuvable.")
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
        if service is None:
            raise ApiError(404, "Synchronisation introuvable.")
        detail = service.get_run(int(run_id))
    job = background.job_of(detail)
    if job is not None:
        return ok(job, background.job_message(job))
    return ok(detail.to_dict(), "Détail de la synchronisation")


@bp.get("/conflicts")
@documented(
    resp=answers(HTTP_200=envelope(list[s.ConflictData], "ConflictsAnswer")),
    tags=TAGS,
)
def list_conflicts() -> Response:
    """Open conflicts; ``?status=resolved``: those a rule decided (switchable for 30 days)."""
    wanted = request.args.get("status", "open")
    if wanted not in ("open", "resolved"):
        raise ApiError(422, "Paramètre invalide.", errors={"status": "« open » ou « resolved »."})
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
        conflicts = [c.to_dict() for c in service.list_conflicts(wanted)] if service else []
    if wanted == "open":
        return ok(conflicts, f"{len(conflicts)} conflit(s) à résoudre")
    return ok(conflicts, f"{len(conflicts)} conflit(s) tranché(s) automatiquement")


@bp.post("/conflicts/<int:conflict_id>/resolve")
@documented(
    json=s.ResolveIn,
    resp=answers(HTTP_200=envelope(s.ConflictData, "ConflictAnswer")),
    tags=TAGS,
)
def resolve_conflict(conflict_id: int) -> Response:
    body = validate(s.ResolveIn, optional_json_body())
    if body.choice == "value" and body.value is None:
        raise ApiError(
            422, "Données invalides.", errors={"value": "Obligatoire quand choice vaut « value »."}
        )
    with engine.engine_errors():
        service = engine.open_service(_app(), _account())
        result = service.resolve_conflict(conflict_id, choice=body.choice, value=body.value)
    return ok(result.to_dict(), "Conflit résolu")


@bp.get("/duplicates")
@documented(
    query=s.DuplicatesQuery,
    resp=answers(HTTP_200=envelope(list[s.DuplicateData], "DuplicatesAnswer", paginated=True)),
    tags=TAGS,
)
def list_duplicates() -> Response:
    """Open duplicates, a page at a time (``limit``, ``offset``), each with its records."""
    limit = int_arg("limit", s.MAX_DUPLICATES_LIMIT, 1, s.MAX_DUPLICATES_LIMIT)
    offset = int_arg("offset", 0, 0, s.MAX_RUNS_OFFSET)
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
        rows = service.list_duplicates() if service else []
    page = rows[offset : offset + limit]
    duplicates = [d.to_dict() for d in page]
    _add_records(duplicates)
    return ok(
        duplicates,
        f"{len(rows)} doublon(s) détecté(s)",
        pagination={"limit": limit, "offset": offset, "total": len(rows)},
    )


@bp.post("/duplicates/<int:duplicate_id>/dismiss")
@documented(resp=answers(HTTP_200=envelope(s.DuplicateData, "DuplicateAnswer")), tags=TAGS)
def dismiss_duplicate(duplicate_id: int) -> Response:
    """« Ce ne sont pas des doublons » : the group is never proposed again (same records)."""
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
    row = db.session.get(SyncDuplicate, duplicate_id) if service is not None else None
    if row is None or service is None or row.account_id != service.account.id:
        raise ApiError(404, "Ce doublon n'existe plus : rechargez la page.")
    row.status = "dismissed"
    db.session.commit()
    return ok(row.to_dict(), "C'est noté : ces fiches ne seront plus proposées comme doublons")


def _client_ids_arg() -> list[int]:
    """``client_ids=1,2,3``: at most ``MAX_LINK_IDS`` positive client ids (422 otherwise)."""

    def invalid(reason: str) -> ApiError:
        return ApiError(422, "Paramètre invalide.", errors={"client_ids": reason})

    raw = request.args.get("client_ids", "").strip()
    if not raw:
        raise invalid("Obligatoire : des identifiants de clients séparés par des virgules.")
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) > s.MAX_LINK_IDS:
        raise invalid(f"Au plus {s.MAX_LINK_IDS} identifiants à la fois.")
    ids: list[int] = []
    for part in parts:
        digits = part.isascii() and part.isdigit() and len(part) <= 10
        if not digits or not 1 <= int(part) <= MAX_ID:
            raise invalid(
                "Attendu : des identifiants de clients (entiers positifs) séparés par des virgules."
            )
        ids.append(int(part))
    return ids


@bp.get("/links")
@documented(
    query=s.LinksQuery,
    resp=answers(HTTP_200=envelope(list[s.LinkState], "LinksAnswer")),
    tags=TAGS,
)
def links() -> Response:
    """Each asked client's sync state (badges of the clients page): linked, pending, conflict…"""
    ids = _client_ids_arg()
    with engine.engine_errors():
        states = client_link_states(_app(), ids, _account())
    return ok(states, f"État de synchronisation de {len(states)} client(s)")


@bp.post("/links/<int:client_id>/resume")
@documented(resp=answers(HTTP_200=None), tags=TAGS)
def resume_link(client_id: int) -> Response:
    """Turn a client's sync back on (excluded since its contact was deleted in Google)."""
    with engine.engine_errors():
        service = engine.open_service(_app(), _account(), require_google=False)
        resumed = service.resume_client(client_id)
    message = (
        "Synchronisation du client réactivée : la prochaine synchronisation recrée son contact"
        if resumed
        else "Ce client était déjà synchronisé"
    )
    return ok({"client_id": client_id, "resumed": resumed}, message)


# --- settings, disconnect -----------------------------------------------------------------------


@bp.get("/settings")
@documented(resp=answers(HTTP_200=envelope(s.SettingsData, "SettingsAnswer")), tags=TAGS)
def get_settings() -> Response:
    with engine.engine_errors():
        data = engine.account_settings(_app(), _account())
    return ok(data, "Paramètres de synchronisation")


@bp.put("/settings")
@documented(
    json=s.SettingsIn,
    resp=answers(HTTP_200=envelope(s.SettingsData, "SettingsAnswer")),
    tags=TAGS,
)
def put_settings() -> Response:
    body = validate(s.SettingsIn, optional_json_body())
    values = body.model_dump(exclude_none=True, mode="json")
    if "phone_region" in values:
        values["phone_region"] = values["phone_region"].upper()
    with engine.engine_errors():
        data = engine.update_account_settings(_app(), values, _account())
    if "auto_sync_minutes" in values and data.get("account"):
        scheduler.interval_changed(db.session, str(data["account"]), values["auto_sync_minutes"])
    return ok(data, "Paramètres enregistrés")


@bp.post("/disconnect")
@documented(resp=answers(HTTP_200=envelope(s.DisconnectData, "DisconnectAnswer")), tags=TAGS)
def disconnect() -> Response:
    """Revoke the token at the OAuth2 server (best effort) and delete it."""
    token = stored_token(_app(), _account())
    if token is None:
        return ok({"disconnected": False, "revoked": False}, "Aucun compte Google connecté")
    client: oauth.ClientSecrets | None
    try:
        client = oauth.load_client_secrets(_settings().google_credentials_file)
    except oauth.ClientSecretsError:
        client = None
    revoked = False
    secret = token.refresh_token or token.token
    if secret and not token.revoked:
        revoked = oauth.revoke(client, secret, token.token_uri)
    token_store(_app()).delete(token.account)
    logger.info("Google account disconnected")
    return ok(
        {"disconnected": True, "revoked": revoked, "account": token.account},
        "Compte Google déconnecté",
    )


# --- the office screens: filters, duplicate records ---------------------------------------------


def _bool_arg(name: str) -> bool | None:
    """``?name=true|false`` (also 1/0); absent: ``None``; anything else: a French 422."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(422, "Paramètre invalide.", errors={name: "Attendu : true ou false."})


def _runs_page(
    account_id: int, limit: int, offset: int, dry_run: bool | None
) -> tuple[list[SyncRun], int]:
    """A page of the account's runs, newest first; previews only or none when asked."""
    where = [SyncRun.account_id == account_id]
    if dry_run is not None:
        where.append(SyncRun.dry_run.is_(dry_run))
    total = db.session.scalar(select(func.count()).select_from(SyncRun).where(*where)) or 0
    rows = db.session.scalars(
        select(SyncRun).where(*where).order_by(SyncRun.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def _record(side: str, fields: dict[str, Any], **ids: Any) -> dict[str, Any]:
    values = {name: fields.get(name) for name in FIELDS}
    return {"side": side, **ids, "name": display_name(Record.from_dict(values)), "fields": values}


def _add_records(duplicates: list[dict[str, Any]]) -> None:
    """Give each duplicate its ``records``: the clients' and contacts' fields, by name."""
    client_ids = {int(i) for d in duplicates for i in d.get("client_ids") or []}
    names = list(dict.fromkeys(r for d in duplicates for r in d.get("resource_names") or []))
    clients = {c.id: c for c in db.session.scalars(select(Client).where(Client.id.in_(client_ids)))}
    contacts: dict[str, dict[str, Any]] = {}
    if names:
        try:
            people = people_service(_app())
            for start in range(0, len(names), 200):
                answer = (
                    people.people()
                    .getBatchGet(resourceNames=names[start : start + 200], personFields=LIST_FIELDS)
                    .execute()
                )
                for response in answer.get("responses") or []:
                    person = response.get("person")
                    if person and person.get("resourceName"):
                        contacts[person["resourceName"]] = contact_summary(person)
        except (HttpError, OSError, NotConnectedError, GoogleAuthUnavailableError, RefreshError):
            logger.warning("duplicates: Google contacts could not be read", exc_info=False)
    for duplicate in duplicates:
        records: list[dict[str, Any]] = []
        for client_id in duplicate.get("client_ids") or []:
            client = clients.get(int(client_id))
            if client is not None and client.deleted_at is None:
                records.append(_record("atarys", client.to_dict(), client_id=client.id))
        for name in duplicate.get("resource_names") or []:
            summary = contacts.get(name)
            records.append(
                _record("google", summary or {}, resource_name=name)
                | ({} if summary else {"name": "Contact Google (illisible pour le moment)"})
            )
        duplicate["records"] = records


# --- the retry list -----------------------------------------------------------------------------


@bp.get("/retries")
@documented(resp=answers(HTTP_200=envelope(list[s.RetryData], "RetriesAnswer")), tags=TAGS)
def list_retries() -> Response:
    """Items that failed: the synchronisation moved on and tries them again, with backoff."""
    with engine.engine_errors():
        service = engine.open_reader(_app(), _account())
        rows = [r.to_dict() for r in service.store.retries()] if service else []
    message = (
        f"{len(rows)} élément(s) en échec, réessayé(s) automatiquement"
        if rows
        else "Aucun élément en échec"
    )
    return ok(rows, message)


# --- several accounts (staff phones) ------------------------------------------------------------


def _account_by_id(account_id: int) -> GoogleAccount:
    row = db.session.get(GoogleAccount, account_id) if 1 <= account_id <= MAX_ID else None
    if row is None:
        raise ApiError(
            404,
            "Ce compte Google n'est pas relié à ATARYS : rechargez la liste des téléphones.",
        )
    return row


@bp.get("/accounts")
@documented(resp=answers(HTTP_200=envelope(s.AccountsData, "AccountsAnswer")), tags=TAGS)
def list_accounts() -> Response:
    """Every Google account linked to ATARYS: state, last and next run, error, settings, filter."""
    rows = acc.list_accounts(_app(), db.session)
    connected = sum(1 for r in rows if r["connected"])
    return ok(
        {"accounts": rows},
        f"{len(rows)} compte(s) Google relié(s), dont {connected} connecté(s)",
    )


@bp.put("/accounts/<int:account_id>")
@documented(
    json=s.AccountIn,
    resp=answers(HTTP_200=envelope(s.AccountData, "AccountAnswer")),
    tags=TAGS,
)
def update_account(account_id: int) -> Response:
    """Change one account's settings and which clients go to its phone (``client_filter``)."""
    _require_admin()
    account = _account_by_id(account_id)
    body = validate(s.AccountIn, optional_json_body())
    values = body.model_dump(
        exclude_none=True, exclude={"client_filter", "confirm_removals"}, mode="json"
    )
    if "phone_region" in values:
        values["phone_region"] = values["phone_region"].upper()
    given = "client_filter" in body.model_fields_set
    wanted = body.client_filter.model_dump(exclude_none=True) if body.client_filter else None
    leaving = acc.leaving_with(db.session, account, wanted) if given else []
    if leaving and not body.confirm_removals:
        raise ApiError(
            409,
            _leaving_message(leaving, account.email),
            data={"reason": "filter_removes", "leaving": len(leaving), "names": leaving[:5]},
        )
    changed = acc.update_account(
        db.session, account, values, client_filter=wanted, filter_given=given
    )
    if "auto_sync_minutes" in values:
        scheduler.interval_changed(db.session, account.email, values["auto_sync_minutes"])
    message = "Paramètres du compte enregistrés"
    if changed:
        message += (
            " : la prochaine synchronisation de ce téléphone applique le nouveau filtre "
            "(les clients hors filtre en sont retirés, gardés dans ATARYS)"
        )
    return ok(acc.account_view(_app(), db.session, account), message)


def _leaving_message(names: list[str], email: str) -> str:
    """What a filter takes off a phone, by name, and what to do (nothing saved yet)."""
    shown = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
    count = f"{len(names)} contact" + ("s" if len(names) > 1 else "")
    return (
        f"Avec ce filtre, {count} quitter{'ont' if len(names) > 1 else 'a'} le téléphone "
        f"de {email} à la prochaine synchronisation ({shown}). Les clients restent dans "
        "ATARYS et reviennent sur le téléphone si vous élargissez le filtre. Rien n'est "
        "enregistré : confirmez pour appliquer ce filtre."
    )


@bp.delete("/accounts/<int:account_id>")
@documented(resp=answers(HTTP_200=envelope(s.DisconnectData, "AccountDisconnectAnswer")), tags=TAGS)
def delete_account(account_id: int) -> Response:
    """Disconnect one account (its access revoked at Google); its history is kept."""
    _require_admin()
    account = _account_by_id(account_id)
    data = acc.disconnect_account(_app(), account)
    if not data["disconnected"]:
        return ok(data, f"Le compte {account.email} n'était pas connecté")
    logger.info("Google account disconnected by an administrator")
    return ok(data, f"Compte {account.email} déconnecté : son historique est conservé")
