"""Owners voting at once over HTTP, next to the framework ceiling, with progress watched alongside."""

from __future__ import annotations

import json
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


def run(server: Server, world: CastWorld, *, warmup_s: float, duration_s: float,
        poll_interval_s: float, extra_levels: tuple[int, ...] = (), extras: bool = True) -> dict[str, Any]:
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
    bodies = [[json.dumps({"subject_id": v.subject_id, "choices": choices_json(world.matter_ids, k)})
               for k in range(3)] for v in world.voters]
    with transaction(write=False) as session:
        casts_before = _cast_count(session, world.ballot_id)
    cast = _measure(server, _spec(
        server, _clients_for(world, "POST", f"{ballot_path}/votes", bodies),
        warmup_s=warmup_s, duration_s=duration_s, pollers=[poller]))
    checks = _check_votes(world, cast, casts_before)
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


def _check_votes(world: CastWorld, cast: dict[str, Any], casts_before: int) -> dict[str, Any]:
    """Every answered vote is stored once, one effective vote per subject, and the chain holds."""
    from app.audit.service import verify_compound

    accepted = sum(v for k, v in cast["all_statuses"].items() if k == "201")
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
