"""The demo's ballots: one published with results that recount, one open for the demo owners."""

from __future__ import annotations

import json

from sqlmodel import Session

from app.demo import seed_demo
from app.voting import results, service
from app.voting.__main__ import recount
from app.voting.models import BallotSubject


def test_demo_has_a_published_and_an_open_ballot(db: Session) -> None:
    info = seed_demo(db)
    db.commit()
    assert info.compound_id is not None
    ballots = service.list_ballots(db, compound_id=info.compound_id, include_drafts=True)
    statuses = {b.title: service.status_of(b) for b in ballots}
    assert statuses == {"2026年第一次业主大会": "published", "2026年第二次业主大会": "open"}
    past = next(b for b in ballots if b.title.endswith("第一次业主大会"))
    data = json.loads(json.dumps(results.tally_inputs(db, ballot=past), default=str))
    report = recount(data)
    assert report["ok"], report["problems"]
    progress = results.progress(db, ballot=next(b for b in ballots if b.title.endswith("第二次业主大会")))
    assert 0 < progress["voted_headcount"] < progress["total_headcount"]
    # The demo owners have not voted in the open ballot yet.
    current = next(b for b in ballots if service.status_of(b) == "open")
    from app.voting.casting import voter_subjects

    for phone in ("13800000001", "13800000002"):
        subjects = voter_subjects(db, ballot=current, phone=phone)
        assert subjects, phone
        for voter in subjects:
            frozen = db.get(BallotSubject, (current.id, voter.subject_id))
            assert frozen is not None and frozen.effective_cast_id is None
