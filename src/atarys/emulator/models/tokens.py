"""OAuth2 grants: access tokens (with scopes and expiry), refresh tokens, codes, clients,
and service accounts (Google Workspace's domain-wide delegation).

``authenticate`` turns an ``Authorization: Bearer`` header into a token or a 401;
``require_scope`` answers 403 for a token lacking the contacts scope.
``create_service_account`` makes a Google-format key (the emulator keeps only the public
half); ``jwt_bearer_grant`` checks a signed assertion (RS256, with google-auth's
``google.auth.jwt.decode``) and issues an access token for its subject.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from atarys.emulator.errors import PermissionDeniedError, UnauthenticatedError
from atarys.emulator.models.core import StateCore
from atarys.google.client import CONTACTS_SCOPE

CONTACTS_READONLY_SCOPE = "https://www.googleapis.com/auth/contacts.readonly"
ACCESS_TOKEN_TTL_S = 3600
AUTH_CODE_TTL_S = 600
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_ASSERTION_LIFETIME_S = 3600  # Google: "a short-lived token (60 minutes)"
CLOCK_SKEW_S = 300
# Google's answers (OAuth2 error code, description) to a refused assertion.
INVALID_SIGNATURE = ("invalid_grant", "Invalid JWT Signature.")
BAD_TIMES = (
    "invalid_grant",
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim.",
)
UNAUTHORIZED_SUBJECT = (
    "unauthorized_client",
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested.",
)


class GrantRefusedError(Exception):
    """A JWT bearer assertion refused: ``error`` and ``description`` as Google answers."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


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


@dataclass
class ServiceAccount:
    """A service account key the emulator issued: only its public half is kept."""

    key_id: str
    client_email: str
    client_id: str
    domain: str
    public_key_pem: str


def _claim_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


class TokensModel(StateCore):
    """Issuing, checking and revoking OAuth2 tokens."""

    access_tokens: dict[str, AccessToken]
    refresh_tokens: dict[str, RefreshToken]
    auth_codes: dict[str, AuthCode]
    clients: dict[str, OAuthClient]
    service_accounts: dict[str, ServiceAccount]

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

    # ------------------------------------------------------------- service accounts

    def create_service_account(
        self, token_uri: str, *, domain: str = "example.com", name: str = "atarys-sync"
    ) -> dict[str, Any]:
        """A new service account key in Google's JSON format, with domain-wide delegation
        over ``domain``; the emulator remembers the public key (kept with its state)."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        public_pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        key_id = secrets.token_hex(20)
        client_id = str(self.rng.randrange(10**20, 10**21))
        project = "atarys-emulator"
        email = f"{name}@{project}.iam.gserviceaccount.com"
        self.service_accounts[key_id] = ServiceAccount(
            key_id, email, client_id, domain.strip().lower(), public_pem
        )
        self.mark_changed()
        base = token_uri.rsplit("/", 1)[0]
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": base + "/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": base + "/oauth2/v1/certs",
            "client_x509_cert_url": base + "/robot/v1/metadata/x509/" + email,
            "universe_domain": "googleapis.com",
        }

    def jwt_bearer_grant(self, assertion: str, audiences: list[str]) -> tuple[str, list[str]]:
        """Check a signed assertion and issue an access token for its subject.

        The signature must verify against a key this emulator issued (``kid``), ``aud`` be
        the token endpoint, ``iss`` the key's service account, ``iat``/``exp`` sane, the
        scopes include contacts, and the subject lie in the key's domain; else
        ``GrantRefusedError`` with Google's error code."""
        certs = {k: v.public_key_pem for k, v in self.service_accounts.items()}
        if not certs:
            raise GrantRefusedError(*INVALID_SIGNATURE)
        try:
            header: dict[str, Any] = jwt.decode_header(assertion)  # type: ignore[no-untyped-call]
            claims: dict[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                assertion, certs=certs, verify=True, audience=audiences
            )
        except ValueError as exc:
            text = str(exc)
            if "expired" in text or "early" in text:
                raise GrantRefusedError(*BAD_TIMES) from exc
            if "audience" in text.lower():
                raise GrantRefusedError("invalid_grant", "Invalid JWT audience.") from exc
            raise GrantRefusedError(*INVALID_SIGNATURE) from exc
        key = self.service_accounts.get(str(header.get("kid") or ""))
        if key is None:  # no kid: find the key whose service account signed it
            key = next(
                (k for k in self.service_accounts.values() if k.client_email == claims.get("iss")),
                None,
            )
        if key is None or _claim_str(claims, "iss") != key.client_email:
            raise GrantRefusedError("invalid_grant", "Invalid JWT: issuer.")
        iat, exp = claims.get("iat"), claims.get("exp")
        now = time.time()
        if (
            not isinstance(iat, int | float)
            or not isinstance(exp, int | float)
            or exp - iat > MAX_ASSERTION_LIFETIME_S
            or iat > now + CLOCK_SKEW_S
        ):
            raise GrantRefusedError(*BAD_TIMES)
        scopes = _claim_str(claims, "scope").split()
        if not scopes:
            raise GrantRefusedError("invalid_scope", "Empty or missing scope not allowed.")
        if not {CONTACTS_SCOPE, CONTACTS_READONLY_SCOPE}.intersection(scopes):
            raise GrantRefusedError(*UNAUTHORIZED_SUBJECT)
        subject = _claim_str(claims, "sub").strip().lower() or key.client_email
        if subject != key.client_email and subject.rpartition("@")[2] != key.domain:
            raise GrantRefusedError(*UNAUTHORIZED_SUBJECT)
        token = self.issue_access_token(subject, scopes, client_id=key.client_id)
        return token, scopes
