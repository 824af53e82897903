"""The emulator's OAuth2 server: consent page, token endpoint, revocation, client secrets.

- ``GET /o/oauth2/auth``: a consent page (French) that redirects back to
  ``redirect_uri`` with ``code`` and the caller's ``state``; with auto-approve it
  redirects at once (``login_hint`` picks the account).
- ``POST /token``: ``authorization_code`` (PKCE checked when a challenge was sent)
  and ``refresh_token`` grants; refresh tokens are only given with ``access_type=offline``.
  ``urn:ietf:params:oauth:grant-type:jwt-bearer``: a service account's signed assertion
  (Google Workspace's domain-wide delegation), checked against the keys written by
  ``write_service_account``; the access token acts for the assertion's subject (``sub``).
- ``POST /revoke``: revokes an access or refresh token.

Client ids written by ``write_client_secrets`` (via ``RunningEmulator``) are
registered: their secret and redirect URIs are checked. Unknown client ids are
accepted as they come (a convenience Google does not offer).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from atarys.emulator.models import EmulatorState
from atarys.emulator.models.core import DEFAULT_USER
from atarys.emulator.models.tokens import (
    AUTH_CODE_TTL_S,
    JWT_BEARER_GRANT,
    AccessToken,
    AuthCode,
    GrantRefusedError,
    OAuthClient,
)

AUTH_PATH = "/o/oauth2/auth"
APPROVE_PATH = "/o/oauth2/approve"
TOKEN_PATH = "/token"  # noqa: S105
REVOKE_PATH = "/revoke"
# The audiences Google accepts in a service account's assertion.
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)
OAUTH_PATHS = frozenset(
    {
        AUTH_PATH,
        "/o/oauth2/v2/auth",
        APPROVE_PATH,
        TOKEN_PATH,
        "/o/oauth2/token",
        REVOKE_PATH,
        "/o/oauth2/revoke",
    }
)


def write_client_secrets(
    path: str | Path,
    base_url: str,
    *,
    kind: str = "web",
    redirect_uris: list[str] | None = None,
    client_id: str = "atarys-emulator.apps.googleusercontent.com",
    client_secret: str = "emulator-secret",  # noqa: S107
) -> Path:
    """Write a client secrets file whose ``auth_uri``/``token_uri`` point at ``base_url``."""
    if kind not in ("web", "installed"):
        raise ValueError(f"kind must be 'web' or 'installed', not {kind!r}")
    base = base_url.rstrip("/")
    uris = list(redirect_uris or (["http://localhost"] if kind == "installed" else []))
    secrets_json = {
        kind: {
            "client_id": client_id,
            "project_id": "atarys-emulator",
            "auth_uri": base + AUTH_PATH,
            "token_uri": base + TOKEN_PATH,
            "revoke_uri": base + REVOKE_PATH,
            "auth_provider_x509_cert_url": base + "/oauth2/v1/certs",
            "client_secret": client_secret,
            "redirect_uris": uris,
        }
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(secrets_json, indent=2), encoding="utf-8")
    target.chmod(0o600)  # a client secret, even the emulator's: owner only
    return target


def write_service_account(
    state: EmulatorState, path: str | Path, base_url: str, *, domain: str = "example.com"
) -> Path:
    """Write a service account key (Google's JSON format, mode 0600) whose ``token_uri``
    is this emulator's, with domain-wide delegation over ``domain``."""
    with state.lock:
        key = state.create_service_account(base_url.rstrip("/") + TOKEN_PATH, domain=domain)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.chmod(0o600)  # a private key: owner only, before it is written
    target.write_text(json.dumps(key, indent=2), encoding="utf-8")
    return target


def register_client(
    state: EmulatorState, client_id: str, client_secret: str, redirect_uris: list[str]
) -> None:
    """Make ``client_id`` a known client (secret and redirect URIs then checked)."""
    with state.lock:
        state.clients[client_id] = OAuthClient(client_id, client_secret, list(redirect_uris))
        state.mark_changed()


def _redirect_allowed(client: OAuthClient | None, redirect_uri: str) -> bool:
    if client is None or not client.redirect_uris:
        return True
    if redirect_uri in client.redirect_uris:
        return True
    parts = urlsplit(redirect_uri)
    if parts.hostname in ("localhost", "127.0.0.1"):
        # Loopback redirects of installed apps may use any port.
        for allowed in client.redirect_uris:
            other = urlsplit(allowed)
            if other.hostname == parts.hostname and other.scheme == parts.scheme and not other.port:
                return True
    return False


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _error_page(message: str, status: int = 400) -> Response:
    body = (
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Erreur</title>"
        f"<h1>Erreur {status}</h1><p>{html.escape(message)}</p></html>"
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def _token_answer(body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


class OAuthServer:
    """The OAuth2 endpoints, bound to one state."""

    def __init__(self, state: EmulatorState, *, auto_approve: bool = False) -> None:
        self.state = state
        self.auto_approve = auto_approve

    def handle(self, request: Request) -> Response:
        """Serve one OAuth2 request."""
        path = request.path
        if path in (AUTH_PATH, "/o/oauth2/v2/auth"):
            return self.consent(request)
        if path == APPROVE_PATH and request.method == "POST":
            return self.approve(request)
        if path in (TOKEN_PATH, "/o/oauth2/token") and request.method == "POST":
            return self.token(request)
        if path in (REVOKE_PATH, "/o/oauth2/revoke"):
            return self.revoke(request)
        return _error_page("Page introuvable.", 404)

    # ----------------------------------------------------------------- consent

    def consent(self, request: Request) -> Response:
        """The consent page (or, auto-approving, the redirect with a code)."""
        args = request.args
        client_id = args.get("client_id", "")
        redirect_uri = args.get("redirect_uri", "")
        if not client_id:
            return _error_page("Erreur 400 : invalid_request — client_id manquant.")
        if not redirect_uri:
            return _error_page("Erreur 400 : invalid_request — redirect_uri manquant.")
        if args.get("response_type", "code") != "code":
            return _error_page("Erreur 400 : unsupported_response_type.")
        with self.state.lock:
            client = self.state.clients.get(client_id)
        if not _redirect_allowed(client, redirect_uri):
            return _error_page("Erreur 400 : redirect_uri_mismatch.")
        if self.auto_approve:
            return self._grant(
                user=args.get("login_hint") or DEFAULT_USER,
                client_id=client_id,
                redirect_uri=redirect_uri,
                scope=args.get("scope", ""),
                state_value=args.get("state"),
                offline=args.get("access_type") == "offline",
                challenge=args.get("code_challenge"),
                challenge_method=args.get("code_challenge_method"),
            )
        hidden = "".join(
            f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in args.items()
            if k != "login_hint"
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in args.get("scope", "").split())
        email = html.escape(args.get("login_hint") or DEFAULT_USER)
        page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Connexion Google (émulateur)</title></head>
<body>
<h1>Autoriser ATARYS à accéder à vos contacts Google ?</h1>
<p>Application : <code>{html.escape(client_id)}</code></p>
<p>Autorisations demandées :</p><ul>{scopes}</ul>
<form method="post" action="{APPROVE_PATH}">
{hidden}
<label>Compte Google : <input type="email" name="login_hint" value="{email}"></label>
<button type="submit" name="decision" value="allow">Autoriser</button>
<button type="submit" name="decision" value="deny">Refuser</button>
</form>
</body></html>"""
        return Response(page, content_type="text/html; charset=utf-8")

    def approve(self, request: Request) -> Response:
        """The consent form's answer: redirect with a code, or with ``error=access_denied``."""
        form = request.form
        redirect_uri = form.get("redirect_uri", "")
        client_id = form.get("client_id", "")
        with self.state.lock:
            client = self.state.clients.get(client_id)
        if not redirect_uri or not client_id or not _redirect_allowed(client, redirect_uri):
            return _error_page("Erreur 400 : invalid_request.")
        if form.get("decision") != "allow":
            params = {"error": "access_denied"}
            if form.get("state"):
                params["state"] = form["state"]
            return Response(status=302, headers={"Location": _with_query(redirect_uri, params)})
        return self._grant(
            user=form.get("login_hint") or DEFAULT_USER,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=form.get("scope", ""),
            state_value=form.get("state"),
            offline=form.get("access_type") == "offline",
            challenge=form.get("code_challenge"),
            challenge_method=form.get("code_challenge_method"),
        )

    def _grant(
        self,
        *,
        user: str,
        client_id: str,
        redirect_uri: str,
        scope: str,
        state_value: str | None,
        offline: bool,
        challenge: str | None,
        challenge_method: str | None,
    ) -> Response:
        code = "4/emu-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.user(user)
            self.state.auth_codes[code] = AuthCode(
                user,
                scope.split(),
                client_id,
                redirect_uri,
                self.state.now() + AUTH_CODE_TTL_S,
                offline,
                challenge,
                challenge_method,
            )
        params = {"code": code, "scope": scope}
        if state_value:
            params["state"] = state_value
        return Response(status=302, headers={"Location": _with_query(redirect_uri, params)})

    # ----------------------------------------------------------------- token

    def _client_credentials(self, request: Request) -> tuple[str, str]:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            return auth.username or "", auth.password or ""
        return request.form.get("client_id", ""), request.form.get("client_secret", "")

    def token(self, request: Request) -> Response:
        """The token endpoint: ``authorization_code`` and ``refresh_token`` grants."""
        form = request.form
        client_id, client_secret = self._client_credentials(request)
        state = self.state
        with state.lock:
            client = state.clients.get(client_id)
            if client is not None and client.client_secret != client_secret:
                return _oauth_error("invalid_client", "Unauthorized", 401)
            grant = form.get("grant_type")
            if grant == JWT_BEARER_GRANT:
                return self._jwt_bearer_grant(request)
            if grant == "authorization_code":
                return self._code_grant(form.get("code", ""), client_id, form)
            if grant == "refresh_token":
                refresh = state.refresh_tokens.get(form.get("refresh_token", ""))
                if refresh is None or (client_id and refresh.client_id not in ("", client_id)):
                    return _oauth_error("invalid_grant", "Token has been expired or revoked.")
                scopes = refresh.scopes
                if form.get("scope"):
                    asked = form["scope"].split()
                    if not set(asked) <= set(scopes):
                        return _oauth_error("invalid_scope", "Some requested scopes were invalid.")
                    scopes = asked
                access = state.issue_access_token(
                    refresh.user, scopes, client_id=client_id, refresh_token=form["refresh_token"]
                )
                return _token_answer(
                    {
                        "access_token": access,
                        "expires_in": self._expires_in(access),
                        "scope": " ".join(scopes),
                        "token_type": "Bearer",
                    }
                )
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _jwt_bearer_grant(self, request: Request) -> Response:
        """A service account's assertion → an access token for its subject (no refresh token)."""
        root = request.host_url.rstrip("/")
        # google-auth signs for Google's token endpoint whatever the key's token_uri says
        audiences = [root + TOKEN_PATH, root + "/o/oauth2/token", *GOOGLE_TOKEN_AUDIENCES]
        assertion = request.form.get("assertion", "")
        if not assertion:
            return _oauth_error("invalid_request", "Missing required parameter: assertion")
        try:
            access, scopes = self.state.jwt_bearer_grant(assertion, audiences)
        except GrantRefusedError as exc:
            return _oauth_error(exc.error, exc.description)
        return _token_answer(
            {
                "access_token": access,
                "expires_in": self._expires_in(access),
                "scope": " ".join(scopes),
                "token_type": "Bearer",
            }
        )

    def _expires_in(self, access: str) -> int:
        token: AccessToken = self.state.access_tokens[access]
        return max(0, int(token.expires_at - self.state.now()) - 1)

    def _code_grant(self, code: str, client_id: str, form: Any) -> Response:
        state = self.state
        grant = state.auth_codes.pop(code, None)
        if grant is None or grant.expires_at < state.now():
            return _oauth_error("invalid_grant", "Malformed auth code.")
        if grant.client_id != client_id:
            return _oauth_error("invalid_grant", "Unauthorized client for this code.")
        if form.get("redirect_uri", "") != grant.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", "Bad Request")
        if grant.code_challenge:
            verifier = form.get("code_verifier", "")
            if grant.code_challenge_method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                expected = verifier
            if not verifier or expected != grant.code_challenge:
                return _oauth_error("invalid_grant", "Invalid code verifier.")
        refresh = (
            state.issue_refresh_token(grant.user, grant.scopes, client_id)
            if grant.offline
            else None
        )
        access = state.issue_access_token(
            grant.user, grant.scopes, client_id=client_id, refresh_token=refresh
        )
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": self._expires_in(access),
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if refresh:
            body["refresh_token"] = refresh
        return _token_answer(body)

    # ----------------------------------------------------------------- revoke

    def revoke(self, request: Request) -> Response:
        """Revoke the ``token`` (form or query); 400 ``invalid_token`` when unknown."""
        token = request.form.get("token") or request.args.get("token") or ""
        with self.state.lock:
            revoked = self.state.revoke(token)
        if not revoked:
            return _oauth_error("invalid_token", "Token expired or revoked")
        return Response("{}", content_type="application/json; charset=utf-8")
