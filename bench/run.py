"""``make bench``: the sync engine against the seed's naive algorithm, on the emulator.

Each (database, N, scenario, algorithm) gets a fresh database and emulator account;
its setup and its measured run each happen in a fresh child process
(``bench.child``), so CPU time and peak RSS are the run's own. API calls come from
the emulator's request counters (its admin API), the source of truth.

Writes ``docs/benchmarks.md`` and ``docs/benchmarks.png``; prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "first_to_google": "1re synchro ATARYS → Google vide",
    "first_from_google": "1re synchro Google → ATARYS vide",
    "overlap_50": "1re synchro, 50 % en commun (e-mail)",
    "second_no_change": "2e synchro sans changement",
    "steady_no_change": "synchro suivante sans changement",
    "one_percent": "1 % modifié de chaque côté",
    "api_edit": "1 client modifié par l'API → visible dans Google",
}
NAIVE_SCENARIOS = ("first_to_google", "first_from_google", "overlap_50", "second_no_change")
# The per-minute limits the paced estimate is computed under (the engine's default budget).
PACED_LIMITS = {"critical_read": 90, "critical_write": 90, "write": 90}


@dataclass
class Row:
    backend: str
    n: int
    scenario: str
    algorithm: str
    latency_ms: int
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> dict[str, int]:
        return _diff(self.result, "methods")

    @property
    def buckets(self) -> dict[str, int]:
        return _diff(self.result, "buckets")

    @property
    def calls(self) -> int:
        return sum(self.methods.values())

    def writes(self) -> int:
        return sum(
            v
            for k, v in self.methods.items()
            if any(
                w in k
                for w in ("create", "update", "delete", "Create", "Update", "Delete", "modify")
            )
        )

    def paced_minutes(self) -> float:
        """Minutes a run with these quota-bucket costs needs under PACED_LIMITS."""
        return max((self.buckets.get(b, 0) / lim for b, lim in PACED_LIMITS.items()), default=0.0)


def _diff(result: dict[str, Any], key: str) -> dict[str, int]:
    before = (result.get("stats_before") or {}).get(key) or {}
    after = (result.get("stats_after") or {}).get(key) or {}
    return {
        k: int(after.get(k, 0)) - int(before.get(k, 0))
        for k in after
        if after.get(k, 0) != before.get(k, 0)
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "atarys.cli", "emulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "emulator.log", "wb"),  # noqa: SIM115
        env={**os.environ, "ATARYS_LOG_DIR": str(work / "logs")},
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):  # a busy machine may take a while to import it
        try:
            requests.get(f"{url}_emulator/health", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the emulator did not start")


def child(args: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.child", json.dumps(args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"bench step failed: {args}\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_one(row: Row, base: dict[str, Any]) -> Row:
    args = {**base, "n": row.n, "scenario": row.scenario, "algorithm": row.algorithm}
    child({**args, "step": "setup"})
    row.result = child({**args, "step": "measure", "latency_ms": row.latency_ms})
    print(
        f"{row.backend:10} N={row.n:>6} {row.scenario:18} {row.algorithm:6} "
        f"lat={row.latency_ms:>3}ms calls={row.calls:>6} wall={row.result['wall_s']:8.2f}s "
        f"cpu={row.result['cpu_s']:7.2f}s rss={row.result['peak_rss_mb']:6.0f}MB "
        f"rows={row.result['rows_written']}",
        flush=True,
    )
    return row


def database_url(backend: str, work: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{work / 'bench.db'}"
    url = os.environ.get(
        "ATARYS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    return f"{url}?options=-csearch_path%3Dbench"


def paced_check(base: dict[str, Any], n: int) -> dict[str, Any]:
    """A real quota-paced run at a small N, against the estimate from its call counts."""
    limits = {"critical_read": 30, "critical_write": 12, "write": 30}
    row = Row("sqlite", n, "first_to_google", "engine", 0)
    args = {
        **base,
        "n": n,
        "scenario": row.scenario,
        "algorithm": "engine",
        "quota_per_minute": limits,
    }
    child({**args, "step": "setup"})
    row.result = child({**args, "step": "measure"})
    predicted = (
        max((math.ceil(row.buckets.get(b, 0) / lim) - 1 for b, lim in limits.items()), default=0)
        * 60.0
    )
    return {
        "n": n,
        "limits": limits,
        "measured_s": row.result["wall_s"],
        "predicted_s": predicted,
        "calls": row.calls,
    }


def versions() -> str:
    names = ["flask", "sqlalchemy", "google-api-python-client", "psycopg"]
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


# Issue 10's targets at the largest N: (scenario, max CPU s, max peak RSS MB, max ratio to N=1,000)
TARGETS = {
    "steady_no_change": (0.3, 150, 2.0),
    "api_edit": (0.3, None, 2.0),
    "one_percent": (2.0, None, None),
    "first_to_google": (12.0, 250, None),
    "first_from_google": (12.0, 250, None),
}


def scaling(rows: list[Row]) -> list[str]:
    """Each engine scenario's CPU and memory against the same scenario at 1,000 (same run)."""
    base = {
        (r.backend, r.scenario): r
        for r in rows
        if r.algorithm == "engine" and r.n == 1000 and r.latency_ms == 0
    }
    out = [
        "",
        "## Cost against the same scenario at 1,000 (same run)",
        "",
        "| DB | N | scenario | CPU s | × CPU at 1,000 | peak RSS MB | API calls | target (CPU s, RSS MB, ×) |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        b = base.get((r.backend, r.scenario))
        if r.algorithm != "engine" or r.latency_ms or b is None or r.n == 1000:
            continue
        ratio = r.result["cpu_s"] / max(b.result["cpu_s"], 1e-6)
        cpu, rss, times = TARGETS.get(r.scenario, (None, None, None))
        target = ", ".join(
            x for x in (
                f"≤ {cpu} s" if cpu is not None else "",
                f"≤ {rss} MB" if rss is not None else "",
                f"≤ {times}×" if times is not None else "",
            ) if x
        )  # fmt: skip
        out.append(
            f"| {r.backend} | {r.n} | {SCENARIOS[r.scenario]} | {r.result['cpu_s']:.2f} | "
            f"{ratio:.1f}× | {r.result['peak_rss_mb']:.0f} | {r.calls} | {target or '-'} |"
        )
    return out


# The same scenarios at 25,000, SQLite, before this round's changes (commit 7b78c29), on
# a quiet machine (2026-11-29 04:15 UTC): (DB, scenario) → (CPU s, peak RSS MB).
PREVIOUS_LABEL = (
    "commit 405d49e (the previous stop), measured on this machine, quiet, 2026-11-29 07:50 UTC"
)
PREVIOUS = {
    ("sqlite", "first_to_google"): (6.08, 219),
    ("sqlite", "first_from_google"): (9.20, 253),
    ("sqlite", "one_percent"): (0.67, 119),
}


def previous(rows: list[Row]) -> list[str]:
    """This run's engine figures at 25,000 beside the previous run's."""
    found = [
        r
        for r in rows
        if r.algorithm == "engine" and r.n == 25000 and (r.backend, r.scenario) in PREVIOUS
    ]
    if not found:
        return []
    out = [
        "",
        f"## At 25,000: this run against the code before it ({PREVIOUS_LABEL})",
        "",
        "| DB | scenario | CPU s before | CPU s now | peak RSS MB before | peak RSS MB now |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in found:
        cpu, rss = PREVIOUS[(r.backend, r.scenario)]
        out.append(
            f"| {r.backend} | {SCENARIOS[r.scenario]} | {cpu:.2f} | {r.result['cpu_s']:.2f} | "
            f"{rss} | {r.result['peak_rss_mb']:.0f} |"
        )
    return out


def render(
    rows: list[Row],
    paced: dict[str, Any] | None,
    started: float,
    quick: bool,
    note: str | None = None,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}; "
        f"{versions()}), {'quick mode' if quick else 'full'}, {time.time() - started:.0f} s in all. "
        "Reproduce with `make bench` (`make bench-quick` for the CI subset).",
        "",
        *([note, ""] if note else []),
        "API calls are counted by the emulator. CPU time and peak RSS are the sync process's own "
        "(the emulator runs in another process). *Paced* is the time the run's quota-bucket costs "
        f"need under {PACED_LIMITS} requests per minute (the engine's default client-side budget).",
        "",
        "| DB | N | scenario | algorithm | latency | API calls | writes | wall s | CPU s | peak RSS MB | rows written | paced min | calls per method |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        methods = ", ".join(f"{k.split('.')[-1]} {v}" for k, v in sorted(r.methods.items()))
        lines.append(
            f"| {r.backend} | {r.n} | {SCENARIOS[r.scenario]} | {r.algorithm} | {r.latency_ms} ms | "
            f"{r.calls} | {r.writes()} | {r.result['wall_s']:.2f} | {r.result['cpu_s']:.2f} | "
            f"{r.result['peak_rss_mb']:.0f} | {r.result['rows_written']} | {r.paced_minutes():.1f} | {methods} |"
        )
    lines += ["", "## Engine against naive (same data, same run)", ""]
    lines += [
        "| DB | N | scenario | latency | naive calls | engine calls | ratio | naive wall s | engine wall s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    index = {(r.backend, r.n, r.scenario, r.algorithm, r.latency_ms): r for r in rows}
    for r in rows:
        if r.algorithm != "naive":
            continue
        e = index.get((r.backend, r.n, r.scenario, "engine", r.latency_ms))
        if e is None:
            continue
        ratio = r.calls / max(e.calls, 1)
        lines.append(
            f"| {r.backend} | {r.n} | {SCENARIOS[r.scenario]} | {r.latency_ms} ms | {r.calls} | {e.calls} | "
            f"{ratio:.0f}× | {r.result['wall_s']:.2f} | {e.result['wall_s']:.2f} |"
        )
    lines += scaling(rows)
    edits = [r for r in rows if r.scenario == "api_edit"]
    if edits:
        lines += [
            "",
            "## One client edited through the API: time until Google has it",
            "",
            "`PATCH /api/clients/<id>` through the real app with its scheduler; the push is "
            "debounced (2 s after the last edit by default, `ATARYS_PUSH_DELAY_SECONDS`). "
            "Its CPU runs from the request to Google having the change, in a server already "
            "running (Google token, account, API user and scheduler made before the clock "
            "starts); the harness's own polling of the emulator is left out.",
            "",
            "| DB | N | API answer ms | in Google after s | API calls |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in edits:
            d = r.result["detail"]
            lines.append(
                f"| {r.backend} | {r.n} | {d['api_answer_s'] * 1000:.0f} | {d['latency_s']:.2f} | {r.calls} |"
            )
    if paced:
        lines += [
            "",
            "## Quota pacing, measured",
            "",
            f"First sync of {paced['n']} clients with the engine's budget set to {paced['limits']} per "
            f"minute: {paced['calls']} calls, measured {paced['measured_s']:.1f} s, predicted from the "
            f"call counts {paced['predicted_s']:.0f} s.",
        ]
    lines += previous(rows)
    lines += ["", "![benchmarks](benchmarks.png)", ""]
    return "\n".join(lines)


def chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for algorithm, marker in (("engine", "o"), ("naive", "s")):
        for scenario in SCENARIOS:
            pts = sorted(
                (r.n, r.calls, r.result["wall_s"])
                for r in rows
                if r.algorithm == algorithm
                and r.scenario == scenario
                and r.latency_ms == 0
                and r.backend == rows[0].backend
            )
            if not pts:
                continue
            label = f"{algorithm}: {scenario}"
            ax1.plot([p[0] for p in pts], [max(p[1], 1) for p in pts], marker=marker, label=label)
            ax2.plot([p[0] for p in pts], [p[2] for p in pts], marker=marker, label=label)
    ax1.set(xscale="log", yscale="log", xlabel="N contacts", ylabel="API calls", title="API calls")
    ax2.set(
        xscale="log", yscale="log", xlabel="N contacts", ylabel="wall time (s)", title="Wall time"
    )
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def render_saved(paths: list[Path], out: Path, note: str | None = None) -> None:
    """One doc from the rows of several runs (e.g. one per backend, run side by side)."""
    rows: list[Row] = []
    started = time.time()
    for path in paths:
        saved = json.loads(path.read_text(encoding="utf-8"))
        started = min(started, float(saved["started"]))
        rows += [Row(**r) for r in saved["rows"]]
    out.mkdir(parents=True, exist_ok=True)
    text = render(rows, None, started, False, note)
    (out / "benchmarks.md").write_text(text, encoding="utf-8")
    chart(rows, out / "benchmarks.png")
    print(f"written {out / 'benchmarks.md'} and .png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, SQLite only (CI)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--backends", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--scenarios", default=None, help="comma-separated subset of " + ",".join(SCENARIOS)
    )
    parser.add_argument(
        "--accounts", type=int, default=20, help="multi_account: phones (Google accounts)"
    )
    parser.add_argument("--clients", type=int, default=2000, help="multi_account: clients")
    parser.add_argument("--no-naive", action="store_true", help="leave the naive baseline out")
    parser.add_argument(
        "--save-rows", type=Path, default=None, help="also keep the rows measured (JSON)"
    )
    parser.add_argument(
        "--render-from",
        default=None,
        help="comma-separated --save-rows files: write the doc from them, measuring nothing",
    )
    parser.add_argument("--note", default=None, help="a paragraph for the doc's head")
    opts = parser.parse_args()
    if opts.render_from:
        paths = [Path(p) for p in opts.render_from.split(",")]
        render_saved(paths, opts.out or ROOT / "docs", opts.note)
        return
    chosen = opts.scenarios.split(",") if opts.scenarios else list(SCENARIOS)
    # Several phones on the job queue (PostgreSQL + Redis, real worker processes): its own
    # harness, run by ``make bench`` and on demand, never by the quick mode (CI).
    if "multi_account" in chosen or (opts.scenarios is None and not opts.quick):
        from bench import multi_account

        multi_account.run(opts.accounts, opts.clients, concurrency=2)
        chosen = [s for s in chosen if s != "multi_account"]
        if not chosen:
            return
    sizes = opts.sizes or ([200] if opts.quick else [1000, 5000, 25000])
    backends = (opts.backends or ("sqlite" if opts.quick else "sqlite,postgresql")).split(",")
    # The naive baseline at 5,000 takes minutes per scenario: SQLite only; PostgreSQL to 1,000.
    naive_max = {"sqlite": 5000, "postgresql": 1000}
    started = time.time()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="atarys-bench-") as tmp:
        work = Path(tmp)
        proc, emulator = start_emulator(work)
        try:
            for backend in backends:
                base = {
                    "database_url": database_url(backend, work),
                    "emulator": emulator,
                    "work_dir": str(work),
                }
                for n in sizes:
                    for scenario in chosen:
                        rows.append(run_one(Row(backend, n, scenario, "engine", 0), base))
                        if (
                            scenario in NAIVE_SCENARIOS
                            and n <= naive_max[backend]
                            and not opts.no_naive
                        ):
                            rows.append(run_one(Row(backend, n, scenario, "naive", 0), base))
                # What a real network does: 50 ms per request.
                n = 200  # the naive baseline at 50 ms a request: ~30 s per scenario
                latency = 50
                if backend == backends[0] and opts.scenarios is None:
                    for algorithm in ("engine", "naive"):
                        for scenario in ("first_to_google", "second_no_change"):
                            rows.append(
                                run_one(Row(backend, n, scenario, algorithm, latency), base)
                            )
            paced = (
                None
                if opts.quick or opts.scenarios
                else paced_check(
                    {
                        "database_url": database_url("sqlite", work),
                        "emulator": emulator,
                        "work_dir": str(work),
                    },
                    600,
                )
            )
        finally:
            proc.terminate()
            proc.wait(10)
    if opts.save_rows:
        saved = {"started": started, "rows": [asdict(r) for r in rows]}
        opts.save_rows.write_text(json.dumps(saved, default=str), encoding="utf-8")
    out = opts.out or (ROOT / "bench" / "out" if opts.quick else ROOT / "docs")
    out.mkdir(parents=True, exist_ok=True)
    name = "benchmarks"
    (out / f"{name}.md").write_text(render(rows, paced, started, opts.quick), encoding="utf-8")
    chart(rows, out / f"{name}.png")
    print(f"written {out / (name + '.md')} and .png")


if __name__ == "__main__":
    main()
