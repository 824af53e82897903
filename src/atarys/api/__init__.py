"""The REST API around the sync: the seed's ``/api/google-contacts/*`` endpoints, access control,
OpenAPI document, Prometheus metrics and the background scheduler.

``init_api(app)`` wires all of it into an app; this package's modules import the sync
engine only through ``engine.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER column holds: larger ids are a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_api(app: Flask) -> None:
    """Register the auth, Google Contacts, OpenAPI and metrics parts on ``app``.

    Call it before registering other blueprints: it bounds the ``int`` URL converter.
    """
    from atarys.api import auth, google_contacts, metrics, openapi

    app.url_map.converters["int"] = BoundedIntConverter

    auth.init_app(app)
    app.register_blueprint(google_contacts.bp)
    app.register_blueprint(openapi.bp)
    metrics.init_app(app)
