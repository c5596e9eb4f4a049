"""Owners voting at once over HTTP, next to the framework ceiling, with progress watched alongside.

First a closed loop (each owner votes again as soon as the answer comes) measures the most votes
per second the server answers; then an open loop sends votes at a fraction of that rate, arriving
on their own (Poisson) whatever the answers do, while the committee's progress page is polled at
a steady rate: the latencies an owner sees on an evening of voting, not at saturation.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from sqlalchemy import func, select

from app.db import transaction
from app.voting.models import VoteCast
from bench import loadgen
from bench.seed import CastWorld, choices_json
from bench.server import Server


def _clients_for(world: CastWorld, method: str, path: str, bodies: list[list[str]] | None,
                 count: int | None = None) -> list[dict[str, Any]]:
    return [
        {"method": method, "path": path, "headers": {"Authorization": f"Bearer {v.token}"},
         "bodies": bodies[i] if bodies else None}
        for i, v in enumerate(world.voters[:count])
    ]


def _spec(server: Server, clients: list[dict[str, Any]], *, warmup_s: float, duration_s: float,
          pollers: list[dict[str, Any]] | None = None, collect: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "warmup_s": warmup_s,
                            "duration_s": duration_s, "clients": clients, "pollers": pollers or []}
    if collect:
        spec["collect"] = collect
    return spec


def _keep(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("throughput_rps", "requests", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms",
            "statuses", "transport_errors", "error_samples", "loadgen_cpu_s",
            "server_cpu_ms_per_request")
    return {k: result.get(k) for k in keys}


def _measure(server: Server, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load and charge the server's CPU time to the answers it gave (warm-up included).

    CPU per request does not depend on what else runs on the machine, unlike requests/s.
    """
    before = server.cpu_seconds()
    result = loadgen.run_process(spec)
    used = server.cpu_seconds() - before
    answered = sum(result["all_statuses"].values())
    result["server_cpu_ms_per_request"] = round(used / answered * 1000, 2) if answered else None
    return result


def progress_path(world: CastWorld) -> str:
    return f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}/progress"


def _vote_bodies(world: CastWorld) -> list[list[str]]:
    return [[json.dumps({"subject_id": v.subject_id, "choices": choices_json(world.matter_ids, k)})
             for k in range(3)] for v in world.voters]


def closed_loop(server: Server, world: CastWorld, *, warmup_s: float, duration_s: float,
                pollers: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every closed-loop owner votes, then changes the vote as soon as the answer comes."""
    ballot_path = f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}"
    with transaction(write=False) as session:
        casts_before = _cast_count(session, world.ballot_id)
    cast = _measure(server, _spec(
        server, _clients_for(world, "POST", f"{ballot_path}/votes", _vote_bodies(world)),
        warmup_s=warmup_s, duration_s=duration_s, pollers=pollers))
    accepted = sum(v for k, v in cast["all_statuses"].items() if k == "201")
    return cast, _check_votes(world, accepted, casts_before)


OPEN_LOOP_FRACTION = 0.5  # of the closed loop's votes/s
OPEN_LOOP_LATE_MS = 10  # an arrival sent later than this after its time counts as late


def open_loop(server: Server, world: CastWorld, *, rate_rps: float, progress_rps: float,
              warmup_s: float, duration_s: float, seed: int = 278, timeline: bool = False) -> dict[str, Any]:
    """Votes arriving at `rate_rps` (Poisson) from the world's open-loop owners, each owner in
    turn (a first vote, then changed ones), and the progress page polled `progress_rps` times a
    second (evenly spaced), both open loops: latencies from each arrival's intended send time."""
    ballot_path = f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}"
    owners = world.owners or world.voters
    votes = [{"method": "POST", "path": f"{ballot_path}/votes",
              "headers": {"Authorization": f"Bearer {v.token}"},
              "body": json.dumps({"subject_id": v.subject_id, "choices": choices_json(world.matter_ids, k)})}
             for k in range(3) for v in owners]
    watch = [{"method": "GET", "path": progress_path(world),
              "headers": {"Authorization": f"Bearer {world.committee_token}"}}]
    spec = _spec(server, [], warmup_s=warmup_s, duration_s=duration_s)
    spec.update({
        "open": [
            {"name": "votes", "rate_rps": rate_rps, "arrival": "poisson", "seed": seed,
             "requests": votes, "prewarm": 16},
            {"name": "progress", "rate_rps": progress_rps, "arrival": "uniform", "requests": watch,
             "prewarm": 1},
        ],
        "late_ms": OPEN_LOOP_LATE_MS,
        "drain_s": 30,
        "timeline": timeline,
    })
    with transaction(write=False) as session:
        casts_before = _cast_count(session, world.ballot_id)
    cpu_before, wall_before, load_before = server.cpu_seconds(), time.perf_counter(), os.getloadavg()[0]
    result = loadgen.run_process(spec)
    cpu_used, wall = server.cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    voted, watched = result["open"]["votes"], result["open"]["progress"]
    return {
        "arrival": "poisson",
        "rate_rps": round(rate_rps, 2),
        "progress_rate_rps": progress_rps,
        "owners": len(owners),
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "votes": voted,
        "progress": watched,
        "p50_ms": voted["p50_ms"],
        "p99_ms": voted["p99_ms"],
        "progress_p50_ms": watched["p50_ms"],
        "progress_p99_ms": watched["p99_ms"],
        "late": voted["late"] + watched["late"],
        "server_cpu_cores": round(cpu_used / wall, 2) if wall else None,
        "loadgen_cpu_s": result["loadgen_cpu_s"],
        "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "checks": _check_votes(world, sum(v for k, v in voted["all_statuses"].items() if k == "201"),
                               casts_before),
    }


def run(server: Server, world: CastWorld, *, warmup_s: float, duration_s: float,
        poll_interval_s: float, extra_levels: tuple[int, ...] = (), extras: bool = True,
        open_duration_s: float | None = None) -> dict[str, Any]:
    """Ceilings first, then the votes (each owner votes, then keeps changing the vote)."""
    ballot_path = f"/api/v1/compounds/{world.compound_id}/ballots/{world.ballot_id}"
    poller = {"name": "progress", "method": "GET", "path": progress_path(world),
              "headers": {"Authorization": f"Bearer {world.committee_token}"},
              "interval_s": poll_interval_s}

    idle = _measure(server, _spec(server, [], warmup_s=0.2, duration_s=max(1.0, duration_s / 3),
                                  pollers=[{**poller, "interval_s": 0.05}]))
    ceiling = _measure(server, _spec(
        server, _clients_for(world, "GET", "/api/v1/bench/ceiling", None),
        warmup_s=warmup_s, duration_s=duration_s, collect="pid"))
    ceiling_nodb = _measure(server, _spec(
        server, _clients_for(world, "GET", "/api/v1/bench/ceiling-nodb", None),
        warmup_s=warmup_s, duration_s=duration_s)) if extras else {}
    bodies = _vote_bodies(world)
    cast, checks = closed_loop(server, world, warmup_s=warmup_s, duration_s=duration_s, pollers=[poller])
    # The open loop at half the rate just measured, progress polled at the closed loop's pace.
    opened = open_loop(server, world, rate_rps=cast["throughput_rps"] * OPEN_LOOP_FRACTION,
                       progress_rps=round(1 / poll_interval_s, 2), warmup_s=warmup_s,
                       duration_s=open_duration_s or duration_s) if cast["throughput_rps"] else None
    levels = {}
    for n in extra_levels:
        if n >= len(world.voters):
            continue
        at_ceiling = _measure(server, _spec(
            server, _clients_for(world, "GET", "/api/v1/bench/ceiling", None, n),
            warmup_s=warmup_s, duration_s=duration_s))
        at_cast = _measure(server, _spec(
            server, _clients_for(world, "POST", f"{ballot_path}/votes", bodies, n),
            warmup_s=warmup_s, duration_s=duration_s))
        levels[str(n)] = {
            "concurrency": n, **{k: at_cast[k] for k in ("throughput_rps", "p50_ms", "p99_ms", "statuses",
                                                         "server_cpu_ms_per_request")},
            "ceiling_throughput_rps": at_ceiling["throughput_rps"],
            "ceiling_server_cpu_ms_per_request": at_ceiling["server_cpu_ms_per_request"],
            "ratio": round(at_cast["throughput_rps"] / at_ceiling["throughput_rps"], 3)
            if at_ceiling["throughput_rps"] else None,
        }

    ratio = cast["throughput_rps"] / ceiling["throughput_rps"] if ceiling["throughput_rps"] else None
    ratio_nodb = (cast["throughput_rps"] / ceiling_nodb["throughput_rps"]
                  if ceiling_nodb.get("throughput_rps") else None)
    return {
        "cast": {
            "concurrency": len(world.voters),
            "subjects": world.subjects,
            "matters": len(world.matter_ids),
            "endpoint": "POST /api/v1/compounds/{id}/ballots/{b}/votes",
            "warmup_s": warmup_s,
            "duration_s": duration_s,
            **_keep(cast),
            "ceiling": {
                "endpoint": "GET /api/v1/bench/ceiling",
                "reads_account": True,
                "note": "authenticated as every API route is: JWT check plus one read of the "
                        "account and the token denylist (revocation); no other database work",
                "workers_seen": len(ceiling.get("collected", {})),
                **_keep(ceiling),
            },
            "ceiling_nodb": {
                "endpoint": "GET /api/v1/bench/ceiling-nodb",
                "reads_account": False,
                "note": "JWT signature and expiry only: no database at all"
                        + ("" if extras else " (not measured in --quick)"),
                **_keep(ceiling_nodb),
            },
            "ratio": round(ratio, 3) if ratio is not None else None,
            "ratio_vs_nodb_ceiling": round(ratio_nodb, 3) if ratio_nodb is not None else None,
            "cpu_ratio": (round(ceiling["server_cpu_ms_per_request"] / cast["server_cpu_ms_per_request"], 3)
                          if cast["server_cpu_ms_per_request"] and ceiling["server_cpu_ms_per_request"]
                          else None),
            "cpu_ratio_note": "server CPU per ceiling request ÷ server CPU per vote: the throughput "
                              "ratio a dedicated machine would allow if CPU were the only limit",
            "checks": checks,
            "at_other_concurrency": levels,
        },
        "open_loop": {
            "fraction_of_closed_loop": OPEN_LOOP_FRACTION,
            "closed_loop_votes_per_s": cast["throughput_rps"],
            **(opened or {"note": "not run: the closed loop answered no vote"}),
        },
        "progress": {
            "endpoint": "GET /api/v1/compounds/{id}/ballots/{b}/progress",
            "subjects": world.subjects,
            "interval_s": poll_interval_s,
            "during_cast": cast["pollers"]["progress"],
            "idle": idle["pollers"]["progress"],
            "p50_ms": cast["pollers"]["progress"]["p50_ms"],
            "p99_ms": cast["pollers"]["progress"]["p99_ms"],
        },
    }


def _cast_count(session: Any, ballot_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(VoteCast).where(VoteCast.ballot_id == ballot_id)
    ).scalar_one())


def _check_votes(world: CastWorld, accepted: int, casts_before: int) -> dict[str, Any]:
    """Every answered vote is stored once, one effective vote per subject, and the chain holds."""
    from app.audit.service import verify_compound

    with transaction(write=False) as session:
        stored = _cast_count(session, world.ballot_id) - casts_before
        effective = session.execute(
            select(func.count(), func.count(func.distinct(VoteCast.subject_id)))
            .where(VoteCast.ballot_id == world.ballot_id, VoteCast.superseded_at.is_(None))
        ).one()
        chain = verify_compound(session, compound_id=world.compound_id)
    return {
        "votes_accepted": accepted,
        "votes_stored": stored,
        "all_accepted_votes_stored": accepted == stored,
        "one_effective_vote_per_subject": effective[0] == effective[1],
        "audit_chain_ok": bool(chain["ok"]),
        "audit_events": chain["events"],
    }
