"""Two « Synchroniser » at the same moment (a double click, two tabs): one run, both follow it."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator

from .conftest import wait_run

SYNC_ALL = "/api/google-contacts/sync-all"


def _runs(http: FlaskClient) -> list[dict[str, Any]]:
    data = http.get("/api/google-contacts/runs?limit=50").get_json()["data"]
    return [r for r in data if not r.get("dry_run")]


def test_clicks_at_once_start_one_run_and_both_follow_it(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    before = len(_runs(connected))
    emulator.state.set_faults(latency_ms=1500)  # the run lasts while every request arrives
    clients = [gapp.test_client() for _ in range(3)]
    for client in clients:
        client.environ_base.update(connected.environ_base)
    answers: list[Any] = [None] * len(clients)
    barrier = threading.Barrier(len(clients))

    def click(n: int) -> None:
        barrier.wait()
        answers[n] = clients[n].post(SYNC_ALL, json={"async": True})

    threads = [threading.Thread(target=click, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert all(a is not None and a.status_code == 202 for a in answers), [
            a.get_json() for a in answers if a is not None
        ]
        run_ids = {a.get_json()["data"]["run_id"] for a in answers}
        assert len(run_ids) == 1, run_ids  # every click follows the same run
        (run_id,) = run_ids
        job = wait_run(connected, run_id, lambda j: j["status"] in ("finished", "failed"), 60)
        assert job["status"] == "finished", job
    finally:
        emulator.state.set_faults(latency_ms=0)
    runs = _runs(connected)
    assert len(runs) == before + 1, runs  # no second run, and no failed « busy » run recorded
    assert all(r["status"] != "failed" for r in runs), runs
