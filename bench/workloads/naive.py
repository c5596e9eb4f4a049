"""The naive vote endpoint (bench/naive.py) under the same load as Gongjue's vote, in the same run.

Its own database (a SQLite file, or `gongjue_bench_naive_<mode>` on the same PostgreSQL server),
its own users and tokens (signed with its own secret), the same number of workers, the same
load generator, the same 64 (SQLite: 16) concurrent clients each changing its vote.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from jose import jwt

from bench import loadgen
from bench.context import ROOT
from bench.server import Server


class NaiveServer(Server):
    """`python -m app.serve bench.naive:app --workers N`: uvicorn's workers served as Gongjue's are
    (one listening socket per worker, app/serve.py), so the two are compared endpoint for endpoint."""

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "app.serve", "bench.naive:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers)]

    def _healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.base_url}/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def naive_env(database_url: str, secret: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGJUE_", "NAIVE_"))}
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    env.update({"NAIVE_DATABASE_URL": database_url, "NAIVE_SECRET_KEY": secret})
    return env


class Naive:
    """The naive app's database, users and server for one run."""

    def __init__(self, database_url: str, *, users: int, workers: int, log_path: Path) -> None:
        self.secret = secrets.token_urlsafe(48)
        self.env = naive_env(database_url, self.secret)
        self.users = users
        self.workers = workers
        self.log_path = log_path
        self._call("setup", str(users))
        self.tokens = [str(jwt.encode({"sub": str(i), "exp": 2_000_000_000}, self.secret, algorithm="HS256"))
                       for i in range(1, users + 1)]

    def _call(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bench.naive", *args], cwd=ROOT, env=self.env,
                              capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bench.naive {args[0]} failed: {done.stderr.decode(errors='replace')[-2000:]}")
        return done.stdout.decode()

    def server(self) -> NaiveServer:
        return NaiveServer(env=self.env, workers=self.workers, log_path=self.log_path)

    def verify(self) -> dict[str, Any]:
        return json.loads(self._call("verify"))  # type: ignore[no-any-return]


def run(server: NaiveServer, naive: Naive, *, matter_ids: tuple[int, ...], warmup_s: float,
        duration_s: float) -> dict[str, Any]:
    """One closed-loop run: every client votes again as soon as its answer arrives."""
    from bench.seed import choices_json

    bodies = [json.dumps({"ballot_id": 1, "choices": choices_json(matter_ids, k)}) for k in range(3)]
    spec = {"host": "127.0.0.1", "port": server.port, "warmup_s": warmup_s, "duration_s": duration_s,
            "clients": [{"method": "POST", "path": "/votes",
                         "headers": {"Authorization": f"Bearer {token}"}, "bodies": bodies}
                        for token in naive.tokens]}
    before = server.cpu_seconds()
    result = loadgen.run_process(spec)
    used = server.cpu_seconds() - before
    answered = sum(result["all_statuses"].values())
    keys = ("throughput_rps", "requests", "p50_ms", "p99_ms", "statuses", "transport_errors",
            "error_samples")
    out = {k: result.get(k) for k in keys}
    out["server_cpu_ms_per_request"] = round(used / answered * 1000, 2) if answered else None
    out["accepted"] = result["all_statuses"].get("201", 0)
    return out


def summarize(runs: list[dict[str, Any]], chain: dict[str, Any], cast: dict[str, Any],
              ceiling: dict[str, Any]) -> dict[str, Any]:
    """The naive endpoint's runs (one before and one after Gongjue's cast run) against ours."""
    rps = [r["throughput_rps"] for r in runs]
    cpu = [r["server_cpu_ms_per_request"] for r in runs if r["server_cpu_ms_per_request"]]
    mean_rps = sum(rps) / len(rps) if rps else None
    ours_cpu, ceiling_cpu = cast.get("server_cpu_ms_per_request"), ceiling.get("server_cpu_ms_per_request")
    return {
        "endpoint": "POST /votes (bench/naive.py: FastAPI + SQLModel, sync, JWT + user read, "
                    "vote row + hash-chained audit row under pg_advisory_xact_lock / BEGIN IMMEDIATE)",
        "note": "measured once just before Gongjue's server starts and once just after it stops "
                "(same clients and workers, one server up at a time); throughput_rps is their mean",
        "runs": runs,
        "throughput_rps": round(mean_rps, 1) if mean_rps is not None else None,
        "throughput_range": [min(rps), max(rps)] if rps else None,
        "server_cpu_ms_per_request": round(sum(cpu) / len(cpu), 2) if cpu else None,
        "chain": chain,
        "chain_ok": bool(chain.get("ok")) and chain.get("rows") == chain.get("votes")
        == sum(r["accepted"] for r in runs),
        "ratio": round(cast["throughput_rps"] / mean_rps, 3) if mean_rps else None,
        "ratio_note": "Gongjue's votes/s ÷ the naive endpoint's (target >= 1.0)",
        "cpu_per_vote_x_ceiling": round(ours_cpu / ceiling_cpu, 2) if ours_cpu and ceiling_cpu else None,
        "cpu_per_vote_x_ceiling_note": "Gongjue's server CPU per vote ÷ per authenticated ceiling "
                                       "request (target <= 2.0)",
    }
