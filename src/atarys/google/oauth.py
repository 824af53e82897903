"""OAuth2 for Google (or any server standing in for it): client secrets, consent URL, code exchange.

The client secrets file (``installed`` or ``web``) is honoured as it is: its
``auth_uri`` and ``token_uri`` are where consent and code exchange go, so the
emulator can replace Google. PKCE (S256) is sent with every flow.

Two flows share this module:

* the web flow (``/api/google-contacts/auth`` then ``/oauth2callback``): the state
  and the PKCE verifier wait in the database between the two requests;
* the desktop flow (``atarys auth``): a one-shot HTTP server on a loopback port
  receives the redirect (``run_loopback_flow``).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests
from google.oauth2.credentials import Credentials

from atarys.google.client import CONTACTS_SCOPE, build_people_service

SCOPES = [CONTACTS_SCOPE]
GOOGLE_TOKEN_HOST = "oauth2.googleapis.com"  # noqa: S105 (a host name)
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
HTTP_TIMEOUT = 15


class OAuthError(Exception):
    """The OAuth2 server refused or could not be reached; ``message`` is French."""

    def __init__(self, message: str, *, reason: str = "oauth_error") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class ClientSecretsError(OAuthError):
    """The client secrets file is missing or not a Google OAuth2 client file."""


@dataclass(frozen=True)
class ClientSecrets:
    """The parts of ``google_credentials.json`` the flows use."""

    kind: str
    client_id: str
    client_secret: str | None
    auth_uri: str
    token_uri: str
    redirect_uris: list[str] = field(default_factory=list)
    revoke_uri: str | None = None

    @property
    def effective_revoke_uri(self) -> str:
        """The file's ``revoke_uri``, Google's for Google, else ``revoke`` beside ``token_uri``."""
        if self.revoke_uri:
            return self.revoke_uri
        if urlparse(self.token_uri).hostname == GOOGLE_TOKEN_HOST:
            return GOOGLE_REVOKE_URI
        return urljoin(self.token_uri, "revoke")


def load_client_secrets(path: Path) -> ClientSecrets:
    """Read a Google client secrets file, or raise ``ClientSecretsError`` in French."""
    if not path.exists():
        raise ClientSecretsError(
            f"Fichier d'identifiants OAuth2 introuvable : {path}", reason="credentials_missing"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientSecretsError(
            f"Fichier d'identifiants OAuth2 illisible : {path}", reason="credentials_invalid"
        ) from exc
    if not isinstance(document, dict):
        raise ClientSecretsError(
            "Fichier d'identifiants OAuth2 invalide.", reason="credentials_invalid"
        )
    for kind in ("web", "installed"):
        section = document.get(kind)
        if isinstance(section, dict):
            try:
                return ClientSecrets(
                    kind=kind,
                    client_id=str(section["client_id"]),
                    client_secret=section.get("client_secret"),
                    auth_uri=str(section["auth_uri"]),
                    token_uri=str(section["token_uri"]),
                    redirect_uris=[str(u) for u in section.get("redirect_uris") or []],
                    revoke_uri=section.get("revoke_uri"),
                )
            except KeyError as exc:
                raise ClientSecretsError(
                    f"Champ manquant dans le fichier d'identifiants OAuth2 : {exc.args[0]}",
                    reason="credentials_invalid",
                ) from exc
    raise ClientSecretsError(
        "Le fichier d'identifiants OAuth2 doit contenir une section « web » ou « installed ».",
        reason="credentials_invalid",
    )


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def authorization_url(
    client: ClientSecrets,
    *,
    redirect_uri: str,
    state: str,
    code_verifier: str,
    scopes: list[str] | None = None,
) -> str:
    """The consent page URL at the file's ``auth_uri`` (offline access, consent forced)."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes or SCOPES),
        "state": state,
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in client.auth_uri else "?"
    return f"{client.auth_uri}{separator}{urlencode(params)}"


def _token_error(resp: requests.Response) -> OAuthError:
    try:
        body = resp.json()
    except ValueError:
        body = {}
    error = str(body.get("error") or f"http_{resp.status_code}") if isinstance(body, dict) else ""
    if error == "invalid_grant":
        return OAuthError(
            "Le code ou le jeton Google a expiré ou a été révoqué : reconnectez-vous.",
            reason="invalid_grant",
        )
    return OAuthError(f"Le serveur OAuth2 a refusé la demande ({error}).", reason=error)


def exchange_code(
    client: ClientSecrets, *, code: str, redirect_uri: str, code_verifier: str | None
) -> Credentials:
    """Trade an authorization code for tokens at the file's ``token_uri``."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client.client_id,
    }
    if client.client_secret:
        data["client_secret"] = client.client_secret
    if code_verifier:
        data["code_verifier"] = code_verifier
    try:
        resp = requests.post(client.token_uri, data=data, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise OAuthError(
            "Serveur d'authentification Google injoignable.", reason="unreachable"
        ) from exc
    if resp.status_code != 200:
        raise _token_error(resp)
    try:
        body: dict[str, Any] = resp.json()
        access_token = str(body["access_token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise OAuthError("Réponse du serveur OAuth2 illisible.", reason="bad_response") from exc
    expires_in = body.get("expires_in")
    expiry = (
        datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float | str) and str(expires_in).isdigit()
        else None
    )
    scope = body.get("scope")
    if scope and CONTACTS_SCOPE not in str(scope).split():
        # Google's consent lets a person untick a permission: without contacts, nothing works
        raise OAuthError(
            "Google n'a pas donné l'accès aux contacts : reconnectez Google et laissez cochée "
            "l'autorisation d'accès à vos contacts.",
            reason="scope",
        )
    return Credentials(  # type: ignore[no-untyped-call]
        token=access_token,
        refresh_token=body.get("refresh_token"),
        token_uri=client.token_uri,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=str(scope).split() if scope else list(SCOPES),
        expiry=expiry,
    )


def revoke(client: ClientSecrets | None, token: str, token_uri: str | None = None) -> bool:
    """Ask the server to revoke ``token``; ``True`` when it said yes."""
    if client is not None:
        uri = client.effective_revoke_uri
    elif token_uri:
        host = urlparse(token_uri).hostname
        uri = GOOGLE_REVOKE_URI if host == GOOGLE_TOKEN_HOST else urljoin(token_uri, "revoke")
    else:
        return False
    try:
        resp = requests.post(uri, data={"token": token}, timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        return False
    return resp.status_code == 200


def account_email(credentials: Credentials, api_endpoint: str) -> str:
    """The connected account's e-mail, from ``people/me`` (primary first)."""
    service = build_people_service(credentials, api_endpoint)
    person = service.people().get(resourceName="people/me", personFields="emailAddresses").execute()
    emails = person.get("emailAddresses") or []
    emails = sorted(emails, key=lambda e: not (e.get("metadata") or {}).get("primary", False))
    for entry in emails:
        value = entry.get("value")
        if value:
            return str(value).strip().lower()
    raise OAuthError("Google n'a pas donné l'adresse e-mail du compte connecté.", reason="no_email")


# --- desktop flow -----------------------------------------------------------------------------


@dataclass
class _Received:
    params: dict[str, str] = field(default_factory=dict)
    event: threading.Event = field(default_factory=threading.Event)


def _handler_for(received: _Received) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            if "code" not in query and "error" not in query:
                self.send_response(404)
                self.end_headers()
                return
            received.params = {k: v[0] for k, v in query.items() if v}
            ok_ = "code" in query
            text = (
                "Authentification Google réussie : vous pouvez fermer cette fenêtre."
                if ok_
                else "Authentification Google refusée."
            )
            body = f"<!doctype html><meta charset=utf-8><p>{text}</p>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            received.event.set()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def run_loopback_flow(
    client: ClientSecrets,
    *,
    show_url: Callable[[str], None],
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 300.0,
) -> Credentials:
    """Desktop flow: print the consent URL, wait for the redirect on a loopback port, exchange."""
    received = _Received()
    server = http.server.HTTPServer((host, port), _handler_for(received))
    registered = {urlparse(u).hostname for u in client.redirect_uris}
    name = "localhost" if "localhost" in registered and host == "127.0.0.1" else host
    redirect_uri = f"http://{name}:{server.server_address[1]}/"
    state, verifier = new_state(), new_code_verifier()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        show_url(
            authorization_url(
                client, redirect_uri=redirect_uri, state=state, code_verifier=verifier
            )
        )
        if not received.event.wait(timeout):
            raise OAuthError("Délai dépassé : aucune réponse du navigateur.", reason="timeout")
    finally:
        server.shutdown()
        server.server_close()
    params = received.params
    if params.get("error"):
        raise OAuthError(f"Autorisation refusée ({params['error']}).", reason="access_denied")
    if not secrets.compare_digest(params.get("state", ""), state):
        raise OAuthError("Paramètre state invalide.", reason="bad_state")
    return exchange_code(
        client, code=params["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )
