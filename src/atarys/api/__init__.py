"""The REST API around the sync: the seed's ``/api/google-contacts/*`` endpoints, access control,
OpenAPI document, Prometheus metrics and the background scheduler.

``init_api(app)`` wires all of it into an app; this package's modules import the sync
engine only through ``engine.py``.
"""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    """Register the auth, Google Contacts, OpenAPI and metrics parts on ``app``."""
    from atarys.api import auth, google_contacts, metrics, openapi

    auth.init_app(app)
    app.register_blueprint(google_contacts.bp)
    app.register_blueprint(openapi.bp)
    metrics.init_app(app)
