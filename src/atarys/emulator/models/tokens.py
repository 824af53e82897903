"""OAuth2 grants: access tokens (with scopes and expiry), refresh tokens, codes, clients.

``authenticate`` turns an ``Authorization: Bearer`` header into a token or a 401;
``require_scope`` answers 403 for a token lacking the contacts scope.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from atarys.emulator.errors import PermissionDeniedError, UnauthenticatedError
from atarys.emulator.models.core import StateCore
from atarys.google.client import CONTACTS_SCOPE

CONTACTS_READONLY_SCOPE = "https://www.googleapis.com/auth/contacts.readonly"
ACCESS_TOKEN_TTL_S = 3600
AUTH_CODE_TTL_S = 600


@dataclass
class AccessToken:
    """An issued OAuth2 access token."""

    user: str
    scopes: list[str]
    expires_at: float
    client_id: str = ""
    refresh_token: str | None = None


@dataclass
class RefreshToken:
    """An issued OAuth2 refresh token (revocable)."""

    user: str
    scopes: list[str]
    client_id: str


@dataclass
class AuthCode:
    """A one-time authorization code from the consent page."""

    user: str
    scopes: list[str]
    client_id: str
    redirect_uri: str
    expires_at: float
    offline: bool
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class OAuthClient:
    """A registered OAuth client (from a written client secrets file)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]


class TokensModel(StateCore):
    """Issuing, checking and revoking OAuth2 tokens."""

    access_tokens: dict[str, AccessToken]
    refresh_tokens: dict[str, RefreshToken]
    auth_codes: dict[str, AuthCode]
    clients: dict[str, OAuthClient]

    def issue_access_token(
        self,
        email: str,
        scopes: Sequence[str],
        *,
        client_id: str = "",
        refresh_token: str | None = None,
        ttl_s: float = ACCESS_TOKEN_TTL_S,
    ) -> str:
        """A new access token for ``email`` with ``scopes``."""
        self.user(email)
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = AccessToken(
            email, list(scopes), self.now() + ttl_s, client_id, refresh_token
        )
        self.mark_changed()
        return token

    def issue_refresh_token(self, email: str, scopes: Sequence[str], client_id: str) -> str:
        """A new (revocable) refresh token."""
        token = "1//emu-" + secrets.token_urlsafe(32)
        self.refresh_tokens[token] = RefreshToken(email, list(scopes), client_id)
        self.mark_changed()
        return token

    def authenticate(self, header: str | None) -> AccessToken:
        """The access token of an ``Authorization: Bearer`` header; 401 when unusable."""
        if not header:
            raise UnauthenticatedError(
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                reason="CREDENTIALS_MISSING",
            )
        kind, _, value = header.partition(" ")
        token = self.access_tokens.get(value.strip()) if kind.lower() == "bearer" else None
        if token is None:
            raise UnauthenticatedError()
        if token.expires_at <= self.now():
            raise UnauthenticatedError(reason="ACCESS_TOKEN_EXPIRED")
        return token

    @staticmethod
    def require_scope(token: AccessToken, *, write: bool) -> None:
        """403 when the token has neither the contacts scope (nor, for reads, read-only)."""
        allowed = {CONTACTS_SCOPE} if write else {CONTACTS_SCOPE, CONTACTS_READONLY_SCOPE}
        if not allowed.intersection(token.scopes):
            raise PermissionDeniedError()

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        if token in self.refresh_tokens:
            del self.refresh_tokens[token]
            for key in [k for k, v in self.access_tokens.items() if v.refresh_token == token]:
                del self.access_tokens[key]
            self.mark_changed()
            return True
        if token in self.access_tokens:
            del self.access_tokens[token]
            self.mark_changed()
            return True
        return False
