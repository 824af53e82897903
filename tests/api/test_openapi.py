"""The OpenAPI document covers every route, and the whole API is fuzzed against it (schemathesis)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from atarys.openapi import document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_BUDGET_SECONDS = 240.0  # every operation fuzzed; generous for a loaded 2-core CI machine


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


# The React UI's pages (``web.py``): ``/`` and the fallback to ``index.html`` for any other
# non-API path. They answer HTML to browsers, are not part of the API, and are left out of
# the document (so schemathesis never fuzzes them) on purpose.
UI_ENDPOINTS = frozenset({"web.index", "web.ui"})


def test_every_route_is_documented(app: Flask) -> None:
    """Each method of each route is in /api/openapi.json, and nothing else; the UI's pages are not."""
    paths = document(app)["paths"]
    routes = set()
    ui_rules = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UI_ENDPOINTS:
            ui_rules.add(rule.rule)
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routes.add((_openapi_path(rule.rule), method.lower()))
    documented = {
        (path, method)
        for path, item in paths.items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert routes == documented
    assert ui_rules == {"/", "/<ui_path:path>"}  # served, and excluded by name only
    assert all(path.startswith("/api/") or path == "/metrics" for path in paths)


def test_ui_pages_are_served_outside_the_api(anon_client: FlaskClient) -> None:
    """The excluded routes are the UI's: HTML for a browser, while unknown API paths stay JSON."""
    for path in ("/", "/clients", "/google-contacts"):
        resp = anon_client.get(path)
        try:
            assert resp.status_code == 200, path
            assert resp.mimetype == "text/html"
            assert "<html" in resp.get_data(as_text=True)
        finally:
            resp.close()  # the built index.html is streamed from a file
    unknown = anon_client.get("/api/inconnu")
    assert unknown.status_code == 401
    assert unknown.is_json


def test_openapi_json_is_served_to_authenticated_users(
    client: FlaskClient, anon_client: FlaskClient
) -> None:
    body = client.get("/api/openapi.json").get_json()
    assert body["openapi"].startswith("3.")
    assert "/api/google-contacts/sync-all" in body["paths"]
    assert anon_client.get("/api/openapi.json").status_code == 401


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    client.get("/api/google-contacts/status")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    for name in (
        "atarys_sync_runs_total",
        "atarys_sync_items_total",
        "atarys_sync_errors_total",
        "atarys_sync_conflicts_total",
        "atarys_google_api_calls_total",
        "atarys_sync_run_duration_seconds_bucket",
        "atarys_google_quota_retries_total",
    ):
        assert name in text or name.replace("_total", "") in text, name


def _fuzz(app: Flask, headers: dict[str, str], examples: int, deadline: float) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=headers)
    tested: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"invalid OpenAPI operation: {result.err()}")
        operation = result.ok()
        if operation.path in ("/api/google-contacts/disconnect", "/api/auth/logout"):
            continue  # they end the connection or session the rest of the run relies on
        if time.monotonic() > deadline:
            pytest.fail(f"fuzzing over budget after {len(tested)} operations")

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        check()

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(
            max_examples=max(3, examples // 3),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def check_negative(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        if operation.body or operation.query or operation.path_parameters:
            check_negative()
        tested.append(f"{operation.method.upper()} {operation.path}")
    return tested


def test_schemathesis_fuzz_authenticated(gapp: Flask, connected: FlaskClient) -> None:
    """Every operation, generated inputs, Google connected: no 500, every answer matches the schema."""
    token = connected.environ_base["HTTP_AUTHORIZATION"]
    started = time.monotonic()
    tested = _fuzz(
        gapp, {"Authorization": str(token)}, examples=20, deadline=started + FUZZ_BUDGET_SECONDS
    )
    assert len(tested) >= 27


def test_front_end_document_is_current() -> None:
    """frontend/src/generated/openapi.json (the front end's constants come from it) is up to date.

    Regenerate it with ``atarys openapi --out frontend/src/generated/openapi.json``.
    """
    from pathlib import Path

    from click.testing import CliRunner

    from atarys.cli import main

    committed = Path(__file__).parents[2] / "frontend" / "src" / "generated" / "openapi.json"
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 0, result.output
    assert result.output == committed.read_text(encoding="utf-8")


def test_sync_options_are_enums_of_the_document(app: Flask) -> None:
    """The settings' choices reach the front end as the core's enumerations, written once."""
    from atarys.sync.core.options import ConflictPolicy, DeletionSetting, ImportScope

    schemas = document(app)["components"]["schemas"]
    assert schemas["ConflictPolicy"]["enum"] == [p.value for p in ConflictPolicy]
    assert schemas["DeletionSetting"]["enum"] == [d.value for d in DeletionSetting]
    assert schemas["ImportScope"]["enum"] == [s.value for s in ImportScope]
