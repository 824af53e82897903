"""The emulator's admin API (``/_emulator/*``): JSON, for tests, benchmarks and the demo.

Every call takes an optional ``user`` (query string or JSON body; default
``demo@example.com``):

- ``POST /_emulator/reset`` ``{"keep_tokens": true}``: forget contacts, groups, faults, stats,
  registered OAuth clients; expires every earlier sync token.
- ``POST /_emulator/seed`` ``{"count": N, "random_seed": S}``: add N French contacts.
- ``POST /_emulator/token`` ``{"scopes": [...], "ttl_s": 3600, "refresh": false}`` →
  ``{"access_token": ...}`` (skips the consent page).
- ``GET /_emulator/contacts``: raw state, tombstones included.
- ``PATCH /_emulator/contacts/<id>`` (a Person body; listed fields replaced, or
  ``{"touch": true}``), ``DELETE /_emulator/contacts/<id>``: edit or delete as a phone would.
- ``POST /_emulator/contacts/<id>/touch``: new etag and updateTime, no content change.
- ``POST /_emulator/contacts/<id>/rename``: a new resource name (old one in
  ``metadata.previousResourceNames`` of sync-token listings).
- ``POST /_emulator/contacts/<id>/profile`` ``{"profile": Person | null}``: link the
  contact to a Google profile whose values (names, verified e-mails/phones) Google merges in.
- ``POST /_emulator/contacts/<id>/merge`` ``{"other": "people/c..."}``: merge ``other``
  into this contact as the phone's "merge duplicates" does.
- ``POST /_emulator/expire-sync-tokens``; ``POST /_emulator/prune-tombstones``.
- ``GET|PUT /_emulator/faults`` (``models.faults.Faults`` settings); ``POST /_emulator/advance-clock``
  ``{"seconds": N}``.
- ``GET /_emulator/stats`` (``?user=`` or all users), ``DELETE /_emulator/stats``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from atarys.emulator import render, wire
from atarys.emulator.errors import GoogleApiError, InvalidArgumentError, NotFoundError
from atarys.emulator.models import DEFAULT_USER, Contact, EmulatorState, UserStats, now_rfc3339
from atarys.emulator.seed import seed_contacts
from atarys.google.client import CONTACTS_SCOPE

PREFIX = "/_emulator/"
_CONTACT_PATH = re.compile(
    r"^/_emulator/contacts/(?:people(?:/|%2F))?c?(?P<number>\d+)(?P<action>/touch|/rename|/profile|/merge)?$"
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def raw_contact(contact: Contact) -> dict[str, Any]:
    """A contact as ``GET /_emulator/contacts`` shows it (Google-shaped, plus state)."""
    return {
        "resourceName": contact.resource_name,
        "etag": contact.etag,
        "seq": contact.seq,
        "deleted": contact.deleted,
        "updateTime": now_rfc3339(contact.update_time),
        "visibleAt": now_rfc3339(contact.visible_at),
        "groups": list(contact.groups),
        "person": render.render_person(contact, wire.PERSON_FIELDS),
    }


class AdminApi:
    """The ``/_emulator/*`` endpoints, bound to one state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def handle(self, request: Request) -> Response:
        """Serve one admin request (errors as Google error bodies)."""
        try:
            raw = request.get_data(cache=False)
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise InvalidArgumentError("Invalid JSON body.") from exc
            if not isinstance(body, dict):
                raise InvalidArgumentError("The body must be a JSON object.")
            user = str(request.args.get("user") or body.pop("user", None) or DEFAULT_USER)
            with self.state.lock:
                return self._dispatch(request, user, body)
        except GoogleApiError as exc:
            return _json(exc.to_body(), exc.code)
        except (ValueError, TypeError, KeyError) as exc:
            return _json(InvalidArgumentError(f"Bad admin request: {exc}").to_body(), 400)

    def _dispatch(self, request: Request, user: str, body: dict[str, Any]) -> Response:
        state = self.state
        action = request.path[len(PREFIX) :].rstrip("/")
        method = request.method
        if action == "health":
            return _json({"ok": True})
        if (method, action) == ("POST", "reset"):
            state.reset(keep_tokens=bool(body.get("keep_tokens", True)))
            return _json({"ok": True})
        if (method, action) == ("POST", "seed"):
            count = int(body.get("count", 0))
            seed = body.get("random_seed")
            created = seed_contacts(
                state, user, count, random_seed=None if seed is None else int(seed)
            )
            return _json({"created": created, "total": state.user(user).live_count})
        if (method, action) == ("POST", "token"):
            scopes = [str(s) for s in body.get("scopes") or [CONTACTS_SCOPE]]
            access = state.issue_access_token(user, scopes, ttl_s=float(body.get("ttl_s", 3600)))
            answer: dict[str, Any] = {
                "access_token": access,
                "expires_in": int(float(body.get("ttl_s", 3600))),
                "token_type": "Bearer",
                "scope": " ".join(scopes),
                "user": user,
            }
            if body.get("refresh"):
                refresh = state.issue_refresh_token(user, scopes, str(body.get("client_id", "")))
                answer["refresh_token"] = refresh
                state.access_tokens[access].refresh_token = refresh
            return _json(answer)
        if (method, action) == ("GET", "contacts"):
            contacts = sorted(state.user(user).contacts.values(), key=lambda c: c.seq)
            return _json({"contacts": [raw_contact(c) for c in contacts]})
        if action.startswith("contacts/"):
            return self._contact(request, user, body)
        if (method, action) == ("POST", "expire-sync-tokens"):
            state.expire_sync_tokens(user)
            return _json({"ok": True})
        if (method, action) == ("POST", "prune-tombstones"):
            older = body.get("older_than_s")
            dropped = state.prune_tombstones(user, None if older is None else float(older))
            return _json({"pruned": dropped})
        if action == "faults" and method in ("PUT", "PATCH"):
            state.set_faults(**body)
            return _json(state.faults.to_json())
        if (method, action) == ("GET", "faults"):
            return _json(state.faults.to_json())
        if (method, action) == ("POST", "advance-clock"):
            state.advance_clock(float(body.get("seconds", 0)))
            return _json({"now": now_rfc3339(state.now())})
        if action == "stats" and method == "GET":
            if request.args.get("user"):
                return _json(state.user(user).stats.to_json())
            return _json({email: u.stats.to_json() for email, u in state.users.items()})
        if action == "stats" and method in ("DELETE", "POST"):
            for u in state.users.values():
                u.stats = UserStats()
            return _json({"ok": True})
        raise NotFoundError(f"No admin endpoint {method} {request.path}")

    def _contact(self, request: Request, user: str, body: dict[str, Any]) -> Response:
        match = _CONTACT_PATH.match(request.path)
        if match is None:
            raise NotFoundError(f"No admin endpoint {request.method} {request.path}")
        name = f"people/c{match['number']}"
        action = match["action"]
        state = self.state
        if action == "/touch" or (request.method == "PATCH" and body.get("touch")):
            return _json(raw_contact(state.touch(user, name)))
        if action == "/rename":
            return _json(raw_contact(state.rename_contact(user, name)))
        if action == "/profile":
            profile = body.get("profile")
            if profile is not None and not isinstance(profile, dict):
                raise InvalidArgumentError("profile must be an object (a Person body) or null.")
            parsed = wire.parse_person(profile)[0] if profile else None
            return _json(raw_contact(state.attach_profile(user, name, parsed)))
        if action == "/merge":
            other = str(body.get("other") or "")
            return _json(raw_contact(state.merge_contacts(user, name, other)))
        if request.method == "PATCH":
            fields, groups, _ = wire.parse_person(body)
            mask = [k for k in body if k in wire.UPDATABLE_FIELDS]
            contact = state.get_contact(user, name)
            state.update_contacts(user, [(name, contact.etag, fields, groups)], mask)
            return _json(raw_contact(contact))
        if request.method == "DELETE":
            state.delete_contacts(user, [name])
            return _json({"ok": True})
        if request.method == "GET":
            return _json(raw_contact(state.get_contact(user, name)))
        raise NotFoundError(f"No admin endpoint {request.method} {request.path}")
