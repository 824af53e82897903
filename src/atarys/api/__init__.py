"""Access control of the API (``auth.py``: users, tokens, the gate in front of ``/api/``,
``/api/auth/*``) and its commands (``commands.py``: ``auth``, ``create-user``, ``create-token``).

``init_api(app)`` bounds the ``<int:>`` URL converter and installs the gate.
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
    """Bound the ``int`` URL converter and install access control (the gate, ``/api/auth/*``).

    Call it before registering other blueprints: they use the bounded converter.
    """
    from atarys.api import auth

    app.url_map.converters["int"] = BoundedIntConverter

    auth.init_app(app)
