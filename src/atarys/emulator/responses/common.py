"""What every response handler shares: the ``Call`` it gets and query/body parameter parsing.

Parameters are checked as Google checks them (400 INVALID_ARGUMENT with Google's
messages); limits of the People API methods are named here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from atarys.emulator import wire
from atarys.emulator.errors import InvalidArgumentError
from atarys.emulator.models import AccessToken

SYNC_PREFIX = "EmuSync."
PAGE_PREFIX = "EmuPage."
ALL_FIELDS = frozenset(wire.PERSON_FIELDS)
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
BATCH_GET_MAX = 200
BATCH_CREATE_MAX = 200
BATCH_UPDATE_MAX = 200
BATCH_DELETE_MAX = 500
SEARCH_MAX = 30
MEMBERS_MODIFY_MAX = 1000


@dataclass
class Call:
    """One API request as a handler sees it."""

    request: Request
    args: MultiDict[str, str]
    body: Any
    user: str
    token: AccessToken
    path: dict[str, str]


def int_param(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidArgumentError(f"Invalid value at '{name}' (TYPE_INT32), \"{raw}\"") from exc


def bool_param(args: MultiDict[str, str], name: str) -> bool:
    raw = (args.get(name) or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidArgumentError(f"Invalid value at '{name}' (TYPE_BOOL), \"{raw}\"")
    return raw in ("true", "1")


def page_size(args: MultiDict[str, str], default: int, maximum: int) -> int:
    size = int_param(args, "pageSize", 0)
    if size < 0 or size > maximum:
        raise InvalidArgumentError(f"pageSize must be between 0 and {maximum}, got {size}.")
    return size or default


def read_sources(args: MultiDict[str, str]) -> list[str]:
    sources = sorted(args.getlist("sources"))
    for source in sources:
        if source not in wire.READ_SOURCES:
            raise InvalidArgumentError(
                f"Invalid value at 'sources' (type.googleapis.com/google.people.v1.ReadSourceType), \"{source}\""
            )
    return sources


def person_fields(args: MultiDict[str, str]) -> frozenset[str]:
    """``personFields`` (or the deprecated ``requestMask.includeField``); 400 when neither."""
    raw = args.get("personFields") or args.get("requestMask.includeField")
    return wire.parse_mask(raw, param="personFields", allowed=wire.PERSON_FIELDS)


def object_body(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgumentError("Invalid JSON payload received. Expected an object.")
    return value
