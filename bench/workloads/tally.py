"""Closing and tallying fully voted ballots, next to one raw SQL aggregate over the same rows."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from sqlalchemy import select, text

from app.audit.service import Actor
from app.db import new_session, transaction
from app.voting import results
from app.voting.models import Ballot, BallotResult
from bench.seed import TallyBallot

REFERENCE_SQL = text(
    "SELECT ec.matter_id, ec.choice, SUM(bs.area_hundredths), COUNT(*) "
    "FROM effective_choice ec JOIN ballot_subject bs "
    "ON bs.ballot_id = ec.ballot_id AND bs.subject_id = ec.subject_id "
    "WHERE ec.ballot_id = :ballot_id GROUP BY ec.matter_id, ec.choice"
)


def reference_sums(ballot_id: int) -> tuple[float, dict[tuple[int, str], tuple[int, int]]]:
    """Seconds of one run of the raw aggregate, and its sums by (matter, choice)."""
    with transaction(write=False) as session:
        t0 = time.perf_counter()
        rows = session.execute(REFERENCE_SQL, {"ballot_id": ballot_id}).all()
        elapsed = time.perf_counter() - t0
    return elapsed, {(int(m), str(c)): (int(a), int(n)) for m, c, a, n in rows}


def _close_once(ballot: TallyBallot, *, keep: bool) -> float:
    """Close and tally in one transaction (as POST …/close does); roll back unless `keep`."""
    session = new_session(write=True)
    try:
        t0 = time.perf_counter()
        row = session.get(Ballot, ballot.ballot_id)
        assert row is not None
        results.close_ballot(session, ballot=row, actor=Actor(user_id=ballot.committee_id,
                                                               role="committee"))
        session.flush()
        if keep:
            session.commit()
        elapsed = time.perf_counter() - t0
        if not keep:
            session.rollback()
        return elapsed
    finally:
        session.close()


def _tallied_sums(ballot_id: int) -> dict[tuple[int, str], tuple[int, int]]:
    out: dict[tuple[int, str], tuple[int, int]] = {}
    with transaction(write=False) as session:
        for matter_id, result_json in session.execute(
            select(BallotResult.matter_id, BallotResult.result_json)
            .where(BallotResult.ballot_id == ballot_id)
        ):
            r = json.loads(result_json)
            for choice in ("agree", "oppose", "abstain", "invalid"):
                if r.get(f"{choice}_headcount"):
                    out[(matter_id, choice)] = (r[f"{choice}_area"], r[f"{choice}_headcount"])
    return out


def run(ballots: list[TallyBallot], *, repeats: int) -> dict[str, Any]:
    """Median of `repeats` rolled-back closings (the last one kept), and of the raw aggregate."""
    sizes: dict[str, Any] = {}
    for ballot in ballots:
        reference_runs = []
        for _ in range(repeats):
            elapsed, sums = reference_sums(ballot.ballot_id)
            reference_runs.append(elapsed)
        tally_runs = [_close_once(ballot, keep=False) for _ in range(repeats - 1)]
        tally_runs.append(_close_once(ballot, keep=True))
        tally_s = statistics.median(tally_runs)
        reference_s = statistics.median(reference_runs)
        sizes[str(ballot.subjects)] = {
            "subjects": ballot.subjects,
            "vote_rows": ballot.subjects * 3,
            "seconds": round(tally_s, 4),
            "reference_seconds": round(reference_s, 4),
            "ratio": round(tally_s / reference_s, 2) if reference_s else None,
            "runs": len(tally_runs),
            "sums_match_reference": _tallied_sums(ballot.ballot_id) == sums,
        }
    out: dict[str, Any] = {
        "what": "POST …/close work in-process (close, tally 3 matters, checkpoint, preliminary "
                "result notice, audit events), one transaction; median of runs",
        "reference": "one raw SQL aggregate: SUM(area), COUNT(*) of effective choices joined "
                     "to the frozen subjects, grouped by matter and choice",
        "sizes": sizes,
    }
    if "10000" in sizes and "100000" in sizes:
        small, big = sizes["10000"], sizes["100000"]
        out["growth_10k_to_100k"] = round(big["seconds"] / small["seconds"], 2)
        out["reference_growth_10k_to_100k"] = round(big["reference_seconds"] / small["reference_seconds"], 2)
    return out
