"""Open-loop latency of the vote and the progress page, with what the server and database did.

    python -m bench.profile_openloop [--db postgres|sqlite] [--fractions 0.5] [--rate 80]
        [--duration 15] [--repeat 3] [--db-timing] [--pgstat] [--pyspy samples.txt]
        [--config NAME:KEY=VALUE,… ...] [--out runs.json]

Not part of `python -m bench`: a developer's tool for bench/PROFILE.md §11. The bench's cast
compound (10,000 flats, a three-matter ballot open now) and the real server (2 workers on
PostgreSQL, 1 on SQLite, as `python -m bench`); a closed loop of `--voters` owners measures the
most votes per second (unless `--rate` is given), then open loops at the given fractions of it:
votes arriving as a Poisson stream from 1,000 other owners, the progress page polled 5 times a
second. `--db-timing` makes the server split its own time (Server-Timing: before the first
connection, pool, SQL, COMMIT, after it; bench/ceiling.py); `--pgstat` samples pg_stat_activity
every 10 ms (what the server's connections wait on); `--pyspy` records the workers' stacks
(idle ones included) during the first open loop; each `--config` is a server configuration
(settings, WORKERS=n) and every round runs each of them in turn, with its own server, so that
configurations are compared in the same minutes of a shared machine; `--out` keeps every
arrival's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import context


def sample_pg_activity(url: str, database: str, stop: threading.Event, into: Counter[str],
                       interval_s: float = 0.01) -> None:
    """Count, per sample, the app's connections by state and wait event (one row per backend)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'cpu') FROM pg_stat_activity "
                "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                (database,)).fetchall()
            into["_samples"] += 1
            for state, wait in rows:
                into[f"{state}/{wait}" if state == "active" else str(state)] += 1
            time.sleep(interval_s)


def _parse_config(text: str) -> tuple[str, dict[str, str]]:
    """`name:KEY=VALUE,KEY=VALUE` → (name, {KEY: VALUE}); WORKERS=n sets the uvicorn workers."""
    label, _, rest = text.partition(":")
    return label, dict(item.split("=", 1) for item in rest.split(",") if item)


def _one(args: argparse.Namespace, server: Any, world: Any, name: str, label: str, round_: int,
         fraction: float | None, top: float | None, rate: float, *, first: bool) -> dict[str, Any]:
    from bench.workloads import cast

    spy = None
    if args.pyspy and first:
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(server.process.pid),
             "--subprocesses", "-r", "200", "-f", "raw", "-o", str(args.pyspy), "--nonblocking", "--idle",
             "-d", str(int(args.warmup + args.duration + 5))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    stop, activity = threading.Event(), Counter[str]()
    sampler = None
    if args.pgstat and args.db == "postgres":
        sampler = threading.Thread(target=sample_pg_activity, daemon=True,
                                   args=(f"{args.postgres_url}/postgres", name, stop, activity))
        sampler.start()
    result = cast.open_loop(server, world, rate_rps=rate, progress_rps=args.progress_rps,
                            warmup_s=args.warmup, duration_s=args.duration, seed=278 + round_,
                            timeline=args.out is not None)
    stop.set()
    if sampler:
        sampler.join()
    if spy:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    samples = activity.pop("_samples", 0)
    result["pg_activity_mean"] = ({k: round(v / samples, 2) for k, v in activity.most_common()}
                                  if samples else None)
    result["fraction"], result["closed_loop_votes_per_s"], result["config"] = fraction, top, label
    v, p = result["votes"], result["progress"]
    print(f"[{label} #{round_ + 1}] open loop {rate:.1f} votes/s ({fraction or '-'} of {top}): vote p50 "
          f"{v['p50_ms']} p90 {v['p90_ms']} p99 {v['p99_ms']} max {v['max_ms']} ms; progress p50 "
          f"{p['p50_ms']} p99 {p['p99_ms']} ms; late {result['late']}, unanswered {v['unfinished']}, "
          f"connections {v['connections_opened']}, server {result['server_cpu_cores']} cores, load "
          f"{result['loadavg']}; statuses {v['statuses']}; stored ok "
          f"{result['checks']['all_accepted_votes_stored']}", flush=True)
    for what, st in (("votes", v), ("progress", p)):
        print(f"  {what}: in the app p50 {st['in_app_p50_ms']} p99 {st['in_app_p99_ms']} ms, outside it "
              f"p50 {st['outside_app_p50_ms']} p99 {st['outside_app_p99_ms']} ms; slowest 1 %: "
              f"{st['slowest_1pct_latency_mean_ms']} ms of which {st['slowest_1pct_in_app_mean_ms']} in "
              f"the app; send lag p99 {st['send_lag_p99_ms']} ms", flush=True)
        if st["phases_p50_ms"]:
            print(f"    phases p50 {st['phases_p50_ms']}; slowest 1 % {st['slowest_1pct_phases_mean_ms']}",
                  flush=True)
    if result["pg_activity_mean"]:
        print("  pg_stat_activity (mean backends per sample): "
              + ", ".join(f"{k} {n}" for k, n in result["pg_activity_mean"].items()), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--voters", type=int, default=None, help="closed-loop owners (64; SQLite 16)")
    parser.add_argument("--owners", type=int, default=1_000, help="open-loop owners")
    parser.add_argument("--workers", type=int, default=None, help="uvicorn workers (2; SQLite 1)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--fractions", default="0.5", help="open-loop rates as fractions of the closed loop's")
    parser.add_argument("--rate", type=float, default=None, help="skip the closed loop: this many votes/s")
    parser.add_argument("--progress-rps", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds (each runs every configuration)")
    parser.add_argument("--pgstat", action="store_true", help="sample pg_stat_activity every 10 ms")
    parser.add_argument("--pyspy", type=Path, default=None, help="py-spy raw samples of the first open loop")
    parser.add_argument("--db-timing", action="store_true",
                        help="the server splits its time: pool, SQL, commit (bench/ceiling.py)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="server setting")
    parser.add_argument("--config", action="append", default=[], metavar="NAME:KEY=VALUE,…",
                        help="a server configuration to compare (repeatable; each round runs every "
                             "one, alternating, each with its own server); WORKERS=n sets the workers")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE the database after seeding")
    parser.add_argument("--out", type=Path, default=None, help="JSON of every run, every arrival's figures")
    args = parser.parse_args(argv)

    run_dir = Path(tempfile.mkdtemp(prefix="gj-openloop-"))
    ctx = context.prepare(run_dir)
    from app.db import set_engine
    from bench import databases, seed
    from bench.server import Server
    from bench.workloads import cast

    name = "gongjue_bench_openloop"
    db = (databases.sqlite_database(run_dir) if args.db == "sqlite"
          else databases.postgres_database(args.postgres_url, name))
    voters = args.voters or (64 if args.db == "postgres" else 16)
    configs = [_parse_config(c) for c in args.config] or [("base", {})]
    engine = db.engine()
    set_engine(engine)
    runs: list[dict[str, Any]] = []
    try:
        databases.create_schema(engine)
        world = seed.seed_cast_world(subjects=args.subjects, voters=voters, owners=args.owners)
        if args.analyze and args.db == "postgres":
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        top, rates = None, [(None, args.rate)]
        for round_ in range(args.repeat):
            for label, overrides in configs:
                env = ctx.server_env(db.url)
                env.update(dict(item.split("=", 1) for item in args.env))
                env.update(overrides)
                workers = int(env.pop("WORKERS", "0")) or args.workers or db.workers
                if args.db_timing:
                    env["BENCH_DB_TIMING"] = "1"
                with Server(env=env, workers=workers, log_path=run_dir / f"server-{label}.log") as server:
                    if top is None and args.rate is None:
                        closed, _checks = cast.closed_loop(server, world, warmup_s=args.warmup,
                                                           duration_s=args.duration)
                        top = closed["throughput_rps"]
                        print(f"closed loop, {voters} owners ({label}): {top} votes/s, p50 {closed['p50_ms']} ms, "
                              f"p99 {closed['p99_ms']} ms, server CPU {closed['server_cpu_ms_per_request']} ms "
                              "per vote", flush=True)
                        rates = [(float(f), top * float(f)) for f in args.fractions.split(",")]
                    for fraction, rate in rates:
                        assert rate is not None
                        runs.append(_one(args, server, world, name, label, round_, fraction, top, rate,
                                         first=not runs))
                        runs[-1]["settings"] = {"workers": workers, "env": args.env, "config": overrides}
    finally:
        set_engine(None)
        engine.dispose()
        if args.db == "postgres":
            databases.drop_postgres(args.postgres_url, name)
    if len(configs) > 1:
        print("\nper configuration (median of rounds):")
        for label, _ in configs:
            mine = [r for r in runs if r["config"] == label]
            med = lambda key, rs=mine: statistics.median(r[key] for r in rs if r[key] is not None)  # noqa: E731
            print(f"  {label}: vote p50 {med('p50_ms'):.1f} p99 {med('p99_ms'):.1f} ms; progress p50 "
                  f"{med('progress_p50_ms'):.1f} p99 {med('progress_p99_ms'):.1f} ms; vote p99s "
                  f"{[r['p99_ms'] for r in mine]}; progress p99s {[r['progress_p99_ms'] for r in mine]}")
    if args.out:
        args.out.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"server log: {run_dir / 'server.log'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
