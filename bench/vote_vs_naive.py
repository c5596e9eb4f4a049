"""Gongjue's vote next to the naive vote endpoint (bench/naive.py), alternating, several rounds.

    python -m bench.vote_vs_naive [--db postgres|sqlite] [--rounds 3] [--duration 4] [--concurrency 64]

Not part of `python -m bench` (which measures the naive endpoint once before and once after its
own server runs): a developer's tool for passes over the vote path. Each round starts the naive
server, warms it up and measures it, stops it, then does the same with ours (votes, then the
ceiling), each for `--duration` seconds, and prints votes/s and server CPU ms per request, so a
change is compared with the naive endpoint under the same machine load (the machine is shared:
compare within a round, report ranges).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=None, help="64 (SQLite 16)")
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None, help="2 on PostgreSQL, 1 on SQLite")
    args = parser.parse_args(argv)
    concurrency = args.concurrency or (64 if args.db == "postgres" else 16)

    run_dir = Path(tempfile.mkdtemp(prefix="gj-vs-naive-"))
    ctx = context.prepare(run_dir)
    from bench import databases

    db = (databases.sqlite_database(run_dir) if args.db == "sqlite"
          else databases.postgres_database(args.postgres_url, "gongjue_bench_vs"))
    naive_url = (f"sqlite:///{run_dir / 'naive.db'}" if args.db == "sqlite" else
                 databases.postgres_database(args.postgres_url, "gongjue_bench_vs_naive").url)
    workers = args.workers or db.workers
    os.environ.update(ctx.server_env(db.url))
    from app.config import get_settings

    get_settings.cache_clear()
    logging.disable(logging.WARNING)
    from app.db import set_engine
    from bench import seed
    from bench.server import Server
    from bench.workloads import cast, naive

    engine = db.engine()
    set_engine(engine)
    databases.create_schema(engine)
    with contextlib.redirect_stdout(io.StringIO()):  # the console SMS sender's lines
        world = seed.seed_cast_world(subjects=args.subjects, voters=concurrency)
    yardstick = naive.Naive(naive_url, users=concurrency, workers=workers,
                            log_path=run_dir / "naive.log")
    ballot_path = f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}"
    bodies = [[json.dumps({"subject_id": v.subject_id, "choices": seed.choices_json(world.matter_ids, k)})
               for k in range(3)] for v in world.voters]
    rows: list[dict[str, Any]] = []
    try:
        for r in range(args.rounds):
            # One server up at a time (their pools together could exhaust a shared server's
            # max_connections), each warmed up by a second of load before it is measured.
            with yardstick.server() as naive_server:
                naive.run(naive_server, yardstick, matter_ids=world.matter_ids, warmup_s=0.2, duration_s=1)
                n = naive.run(naive_server, yardstick, matter_ids=world.matter_ids, warmup_s=0.5,
                              duration_s=args.duration)
            with Server(env=ctx.server_env(db.url), workers=workers, log_path=run_dir / "server.log") as server:
                def ours(method: str, path: str, with_bodies: bool, duration: float) -> dict[str, Any]:
                    return cast._measure(server, cast._spec(
                        server, cast._clients_for(world, method, path, bodies if with_bodies else None),
                        warmup_s=0.5, duration_s=duration))

                ours("POST", f"{ballot_path}/votes", True, 1)
                v = ours("POST", f"{ballot_path}/votes", True, args.duration)
                c = ours("GET", "/api/v1/bench/ceiling", False, args.duration)
            row = {"round": r + 1, "naive_rps": n["throughput_rps"], "ours_rps": v["throughput_rps"],
                   "ratio": round(v["throughput_rps"] / n["throughput_rps"], 3) if n["throughput_rps"] else None,
                   "naive_cpu_ms": n["server_cpu_ms_per_request"],
                   "ours_cpu_ms": v["server_cpu_ms_per_request"],
                   "ceiling_rps": c["throughput_rps"], "ceiling_cpu_ms": c["server_cpu_ms_per_request"],
                   "cpu_x_ceiling": round(v["server_cpu_ms_per_request"] / c["server_cpu_ms_per_request"], 2)
                   if v["server_cpu_ms_per_request"] and c["server_cpu_ms_per_request"] else None,
                   "ours_p99_ms": v["p99_ms"], "naive_p99_ms": n["p99_ms"],
                   "ours_statuses": v["statuses"], "naive_statuses": n["statuses"],
                   "loadavg": round(os.getloadavg()[0], 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        checks = cast._check_votes(world, {"all_statuses": {"201": 0}}, 0)
        print(json.dumps({"ours_chain_ok": checks["audit_chain_ok"],
                          "one_effective_vote_per_subject": checks["one_effective_vote_per_subject"],
                          "naive": yardstick.verify()}))
    finally:
        engine.dispose()
        if args.db == "postgres":
            databases.drop_postgres(args.postgres_url, "gongjue_bench_vs")
            databases.drop_postgres(args.postgres_url, "gongjue_bench_vs_naive")
    for key in ("ratio", "cpu_x_ceiling"):
        values = [row[key] for row in rows if row[key] is not None]
        if values:
            print(f"{key}: {min(values)}–{max(values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
