"""In-process cost of one vote next to the framework ceiling: CPU milliseconds and SQL statements.

    python -m bench.profile_vote [--db postgres] [--votes 400] [--pyspy samples.txt]

Not part of `python -m bench`: a developer's tool for the vote path. It runs the app in this
process (Starlette's TestClient: no sockets), so the figures are CPU time of this process, which
the machine's other load does not change much; the real throughput comes from `python -m bench`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--votes", type=int, default=400)
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--pyspy", type=Path, help="py-spy raw samples of the vote phase")
    parser.add_argument("--pyspy-ceiling", action="store_true",
                        help="sample the ceiling's requests instead of the votes")
    parser.add_argument("--pyspy-rate", type=int, default=250, help="samples per second")
    args = parser.parse_args(argv)

    run_dir = Path(tempfile.mkdtemp(prefix="gj-profile-"))
    ctx = context.prepare(run_dir)
    from bench import databases

    db = (databases.sqlite_database(run_dir) if args.db == "sqlite"
          else databases.postgres_database(args.postgres_url, "gongjue_bench_profile"))
    os.environ.update(ctx.server_env(db.url))
    from app.config import get_settings

    get_settings.cache_clear()
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from app.db import set_engine
    from bench import seed
    from bench.ceiling import create_app

    engine = db.engine()
    set_engine(engine)
    databases.create_schema(engine)
    world = seed.seed_cast_world(subjects=args.subjects, voters=64)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        statements[0] += 1

    voters = world.voters
    path = f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}/votes"

    def body(i: int) -> dict[str, Any]:
        v = voters[i % len(voters)]
        return {"subject_id": v.subject_id,
                "choices": seed.choices_json(world.matter_ids, i // len(voters))}

    def auth(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {voters[i % len(voters)].token}"}

    # 1. Statements per request, in this process.
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    with TestClient(create_app(), base_url="https://testserver") as client:
        for i in range(2 * len(voters)):  # every voter has voted: later ones are changes
            assert client.post(path, json=body(i), headers=auth(i)).status_code == 201
        statements[0] = 0
        for i in range(len(voters)):
            client.post(path, json=body(i), headers=auth(i))
        vote_stmts = statements[0] / len(voters)
        statements[0] = 0
        for i in range(len(voters)):
            client.get("/api/v1/bench/ceiling", headers=auth(i))
        ceil_stmts = statements[0] / len(voters)

    # 2. Server CPU per request: the real server, one worker, one client after the other.
    import httpx

    from bench.server import Server

    with Server(env=ctx.server_env(db.url), workers=1, log_path=run_dir / "server.log") as server, \
            httpx.Client(base_url=server.base_url) as http:
        def vote(i: int) -> None:
            r = http.post(path, json=body(i), headers=auth(i))
            assert r.status_code == 201, r.text

        def ceiling(i: int) -> None:
            assert http.get("/api/v1/bench/ceiling", headers=auth(i)).status_code == 200

        def measure(fn: Any, n: int, offset: int) -> float:
            c0 = server.cpu_seconds()
            for i in range(n):
                fn(offset + i)
            return (server.cpu_seconds() - c0) * 1000 / n

        for i in range(len(voters)):
            vote(4 * len(voters) + i)
            ceiling(i)
        rounds = [(measure(vote, args.votes, (r + 5) * args.votes), measure(ceiling, args.votes, 0))
                  for r in range(3)]
        vote_ms = min(r[0] for r in rounds)
        ceil_ms = min(r[1] for r in rounds)
        print(f"{args.db}: vote {vote_ms:.2f} ms server CPU, {vote_stmts:.1f} statements; "
              f"ceiling {ceil_ms:.2f} ms, {ceil_stmts:.1f} statements; "
              f"CPU ratio {ceil_ms / vote_ms:.3f}")
        if args.pyspy:
            import subprocess

            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(server.process.pid), "-r", str(args.pyspy_rate),
                                    "-f", "raw", "-o", str(args.pyspy), "--nonblocking", "--gil"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
            for i in range(args.votes * 2):
                if args.pyspy_ceiling:
                    ceiling(i)
                else:
                    vote(20 * args.votes + i)
            spy.send_signal(signal.SIGINT)
            spy.wait()
            print(f"py-spy samples written to {args.pyspy}")
    engine.dispose()
    if args.db == "postgres":
        databases.drop_postgres(args.postgres_url, "gongjue_bench_profile")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
