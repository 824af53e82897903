"""The emulator's WSGI app and the pipeline every People API request goes through.

Each API request: route (``urls``; 404 "Method not found") → bearer token (401) →
scope (403) → injected latency → quota (429) → injected error (500/503) → the
handler (``responses``) → "fail after apply" (503). OAuth2 (``oauth``) and the
admin API (``admin``) are served beside it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from atarys.emulator import urls, wire
from atarys.emulator.admin import AdminApi
from atarys.emulator.errors import (
    GoogleApiError,
    InvalidArgumentError,
    MethodNotFoundError,
    UnavailableError,
)
from atarys.emulator.models import EmulatorState
from atarys.emulator.oauth import OAuthServer
from atarys.emulator.responses.common import Call
from atarys.emulator.responses.groups import GroupResponses
from atarys.emulator.responses.people import PeopleResponses

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger("atarys.emulator.app")

JSON_TYPE = "application/json; charset=UTF-8"
#: Methods whose quota cost in daily contact writes is their number of contacts.
_BATCH_SIZES: dict[str, Callable[[Any], int]] = {
    "people.batchCreateContacts": lambda b: len(b.get("contacts") or []),
    "people.batchUpdateContacts": lambda b: len(b.get("contacts") or {}),
    "people.batchDeleteContacts": lambda b: len(b.get("resourceNames") or []),
}


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer with Google's content type (``body`` may be already encoded bytes)."""
    data = body if isinstance(body, bytes) else wire.dumps(body)
    return Response(data, status=status, content_type=JSON_TYPE)


def handle_api(app: EmulatorApp, request: Request) -> Response:
    """Serve one People API request (Google error body on failure)."""
    state = app.state
    http_method = request.method
    args = request.args
    override = request.headers.get("X-HTTP-Method-Override")
    if http_method == "POST" and override:
        # googleapiclient turns a GET whose URL passes 2,048 characters into such a POST.
        http_method = override.upper()
        args = MultiDict([*request.args.items(multi=True), *request.form.items(multi=True)])
    found = urls.match(http_method, request.path)
    method_name = found[0] if found else None
    started = time.perf_counter()
    started_cpu = time.thread_time()
    user: str | None = None
    try:
        if found is None:
            raise MethodNotFoundError(f"Method not found: {http_method} {request.path}")
        method_name, path = found
        route = urls.METHODS[method_name]
        raw = b"" if override else request.get_data(cache=False)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            raise InvalidArgumentError("Invalid JSON payload received.") from exc
        with state.lock:
            token = state.authenticate(request.headers.get("Authorization"))
            user = token.user
            if path.get("person") != "me" or method_name != "people.get":
                state.require_scope(token, write=route.write)
            latency = state.faults.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
            started = time.perf_counter()
            started_cpu = time.thread_time()
        with state.lock:
            size_of = _BATCH_SIZES.get(method_name)
            contacts = size_of(body) if size_of and isinstance(body, dict) else 0
            if route.write and not size_of:
                contacts = 1 if method_name.startswith("people.") else 0
            extra = None
            if method_name == "people.connections.list" and not (
                args.get("pageToken") or args.get("syncToken")
            ):
                extra = {"full_sync": 1}
            state.charge_quota(user, method_name, contacts, extra)
            injected = state.draw_error()
            if injected is not None:
                raise injected
            call = Call(request, args, body, user, token, path)
            answer = app.handler(route)(call)
            if route.write and state.draw_fail_after_apply():
                raise UnavailableError("The service is currently unavailable.")
            response = json_response(answer)
            state.user(user).stats.record_time(
                method_name, time.perf_counter() - started, time.thread_time() - started_cpu
            )
            return response
    except GoogleApiError as exc:
        with state.lock:
            if user is not None:
                stats = state.user(user).stats
                stats.errors[exc.status] += 1
                if method_name:
                    stats.record_time(
                        method_name,
                        time.perf_counter() - started,
                        time.thread_time() - started_cpu,
                    )
        if exc.code >= 500:
            logger.info("%s %s → %s (%s)", request.method, request.path, exc.code, exc.message)
        return json_response(exc.to_body(method_name), exc.code)


class EmulatorApp:
    """The whole emulator as one WSGI app: People API, OAuth2 and admin API."""

    def __init__(self, state: EmulatorState, *, auto_approve: bool = False) -> None:
        self.state = state
        self.people = PeopleResponses(state)
        self.groups = GroupResponses(state)
        self.oauth = OAuthServer(state, auto_approve=auto_approve)
        self.admin = AdminApi(state)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/_emulator/"):
            response = self.admin.handle(request)
        elif path.startswith(("/o/oauth2/", "/token", "/revoke")):
            response = self.oauth.handle(request)
        else:
            response = handle_api(self, request)
        return response(environ, start_response)

    def handler(self, method: urls.Method) -> Callable[[Call], Any]:
        """The bound handler serving ``method``."""
        handler: Callable[[Call], Any] = getattr(getattr(self, method.handlers), method.handler)
        return handler
