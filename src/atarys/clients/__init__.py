"""Clients feature: the ``/api/clients/`` blueprint, its validation and its queries."""

from atarys.clients.routes import bp

__all__ = ["bp"]
