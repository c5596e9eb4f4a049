"""The production close (SQL aggregates, app/voting/results.py) against the pure tally (tally.py).

Random ballots are built in the real database (SQLite or PostgreSQL): a random roster with several
buildings, co-owned flats and the developer's unsold units; stricter or statutory thresholds;
Art. 278 matters, a survey, an Art. 279 matter scoped to some buildings and a committee election;
votes online (changed up to three times) and on paper (blank matters, invalid marks, too many
candidates). Each ballot is closed through the production path and every matter's stored result
must equal, in full, the pure tally of the same frozen roster and the votes as they were cast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app import clock
from app.audit.canonical import canonical_json
from app.audit.service import Actor
from app.auth.models import Role, UserAccount
from app.db import new_session
from app.files.models import StoredFile
from app.roster.models import Building, UnitStatus
from app.voting import __main__ as recount_tool
from app.voting import casting, results, rules, service, tally
from app.voting import settings as voting_settings
from app.voting.models import Ballot, BallotResult, BallotSubject, BallotVoter
from tests.factories import UnitSpec, add_roster, make_compound, make_staff

NOTICE_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
STARTS_AT = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) - timedelta(hours=8)  # 17 Mar 00:00 Shanghai
THRESHOLDS = [None, {"quorum": ">=3/4"}, {"simple_majority": ">=2/3", "special_majority": ">4/5"},
              {"quorum": ">3/4", "simple_majority": ">=3/5"}]
# Weighted toward 同意 and toward voting, so that matters pass as well as fail.
ONLINE = ["agree", "agree", "agree", "oppose", "abstain"]
PAPER = ["agree", "agree", "oppose", "abstain", "invalid", None]  # None: the matter left blank

_phone = iter(range(10_000, 99_999))


@dataclass
class Flat:
    building: int
    area: int
    kind: str  # "single", "co_owned" or "unsold"


@dataclass
class Plan:
    buildings: int
    flats: list[Flat]
    thresholds: dict[str, str] | None
    categories: list[str]
    scoped: bool  # a ballot for some buildings only
    seats: int = 3
    candidates: int = 4
    cast: dict[int, Any] = field(default_factory=dict)


flats = st.builds(Flat, building=st.integers(0, 2), area=st.integers(1, 30000),
                  kind=st.sampled_from(["single", "single", "co_owned", "unsold"]))
plans = st.builds(
    Plan,
    buildings=st.integers(1, 3),
    flats=st.lists(flats, min_size=2, max_size=9),
    thresholds=st.sampled_from(THRESHOLDS),
    categories=st.lists(st.sampled_from(["1", "5", "6", "8", "9", "survey", "art279"]),
                        min_size=1, max_size=4, unique=True),
    scoped=st.booleans(),
    seats=st.sampled_from([3, 5]),
    candidates=st.integers(1, 6),
)


def _roster(db, plan: Plan):  # type: ignore[no-untyped-def]
    compound = make_compound(db)
    units, phones = [], {}
    for i, f in enumerate(plan.flats):
        building = f"{f.building % plan.buildings + 1}栋"
        if f.kind == "unsold":
            units.append(UnitSpec(building, f"{i + 1:03d}", f.area, [], status=UnitStatus.UNSOLD))
            continue
        names = [f"业主{i}甲"] + ([f"业主{i}乙"] if f.kind == "co_owned" else [])
        for name in names:
            phones[name] = f"1370{next(_phone):07d}"
        units.append(UnitSpec(building, f"{i + 1:03d}", f.area, names))
    add_roster(db, compound, units, phones=phones)
    return compound


def _matters(plan: Plan, building_ids: list[int], draw) -> list[service.MatterSpec]:  # type: ignore[no-untyped-def]
    out = []
    for category in plan.categories:
        affected: tuple[int, ...] = ()
        if category == "art279":
            affected = tuple(draw(st.lists(st.sampled_from(building_ids), min_size=1, unique=True)))
        out.append(service.MatterSpec(title=f"事项{category}", category=category, description="",
                                      seats=None, candidates=(), affected_building_ids=affected,
                                      document_file_ids=()))
    out.append(service.MatterSpec(
        title="选举业主委员会委员", category="3", description="", seats=plan.seats,
        candidates=tuple(service.CandidateSpec(f"候选人{i}", "") for i in range(plan.candidates)),
        affected_building_ids=(), document_file_ids=()))
    return out


def _online_choices(draw, matters, cands) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = {}
    for m in matters:
        if m.category == "3":
            ids = [c.id for c in cands[m.id]]
            out[str(m.id)] = {"approve": draw(st.lists(st.sampled_from(ids), max_size=m.seats, unique=True))}
        else:
            out[str(m.id)] = draw(st.sampled_from(ONLINE))
    return out


def _paper_choices(draw, matters, cands) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = {}
    for m in matters:
        if m.category == "3":
            ids = [c.id for c in cands[m.id]]
            value = draw(st.one_of(st.none(), st.just("invalid"),
                                   st.lists(st.sampled_from(ids), unique=True)))  # may exceed seats
            if value is not None:
                out[str(m.id)] = value if value == "invalid" else {"approve": value}
        else:
            value = draw(st.sampled_from(PAPER))
            if value is not None:
                out[str(m.id)] = value
    return out


def _pure_tally(ballot: Ballot, subjects: list[BallotSubject], matters, cands,  # type: ignore[no-untyped-def]
                final: dict[int, dict[str, Any]]) -> tally.BallotTally:
    """The pure tally of the frozen roster and the last choices each subject cast."""
    roster = [tally.RosterEntry(subject_id=s.subject_id, area=s.area_hundredths) for s in subjects]
    pure_matters = [
        tally.matter_of(matter_id=m.id, category=m.category, seats=m.seats,
                        candidate_ids=[c.id for c in cands[m.id]],
                        affected_building_ids=json.loads(m.affected_building_ids),
                        subjects=[(s.subject_id, json.loads(s.building_ids)) for s in subjects])
        for m in matters
    ]
    votes = [vote for subject_id, choices in final.items()
             for vote in tally.votes_of(subject_id, choices, pure_matters)]
    thresholds = json.loads(ballot.settings_json or "{}").get("thresholds")
    return tally.tally_ballot(roster=roster, matters=pure_matters, votes=votes,
                              settings=voting_settings.rule_settings(json.dumps(thresholds or {})))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(plan=plans, data=st.data())
def test_the_production_close_equals_the_pure_tally(engine: Engine, plan: Plan, data: st.DataObject) -> None:
    draw = data.draw
    fc = clock.FrozenClock(NOTICE_AT)
    clock.set_now(fc)
    db = new_session(write=True)
    try:
        compound = _roster(db, plan)
        cid = compound.id or 0
        c1 = make_staff(db, roles={cid: [Role.COMMITTEE]})
        c2 = make_staff(db, roles={cid: [Role.COMMITTEE]})
        first, second = Actor(user_id=c1.id, role="committee"), Actor(user_id=c2.id, role="committee")
        if plan.thresholds:
            voting_settings.update_settings(db, compound_id=cid, changes={"thresholds": plan.thresholds},
                                            actor=first)
        building_ids = sorted(b.id for b in db.execute(
            select(Building).where(Building.compound_id == cid)).scalars())
        scope = draw(st.lists(st.sampled_from(building_ids), min_size=1, unique=True)) if plan.scoped else []
        ballot = service.create_ballot(
            db, compound_id=cid, title="随机表决", description="", starts_at=STARTS_AT,
            ends_at=STARTS_AT + timedelta(days=7), scope_building_ids=scope,
            matters=_matters(plan, building_ids, draw), actor=first)
        ballot = service.publish_notice(db, ballot=ballot, actor=first)
        fc.current = STARTS_AT + timedelta(hours=1)
        ballot = service.open_ballot(db, ballot=ballot, actor=first)
        matters = service.list_matters(db, ballot_id=ballot.id or 0)
        cands = service.candidates_by_matter(db, ballot_id=ballot.id or 0)
        subjects = list(db.execute(select(BallotSubject).where(BallotSubject.ballot_id == ballot.id)
                                   .order_by(BallotSubject.subject_id)).scalars())
        if not subjects:
            return
        reps = {v.subject_id: v.phone for v in db.execute(select(BallotVoter).where(
            BallotVoter.ballot_id == ballot.id, BallotVoter.is_representative.is_(True))).scalars()
            if v.phone}
        scan = StoredFile(compound_id=cid, sha256="0" * 64, file_name="scan.pdf",
                          content_type="application/pdf", size_bytes=1, purpose="paper_ballot")
        db.add(scan)
        db.flush()
        final: dict[int, dict[str, Any]] = {}
        for s in subjects:
            how = draw(st.sampled_from(["none", "online", "online", "online", "paper"]
                                       if s.subject_id in reps else ["none", "paper", "paper"]))
            if how == "online":
                phone = reps[s.subject_id]
                user = db.execute(select(UserAccount).where(UserAccount.phone == phone)).scalar_one_or_none()
                if user is None:
                    user = UserAccount(phone=phone, display_name="业主")
                    db.add(user)
                    db.flush()
                for _ in range(draw(st.integers(1, 3))):  # a vote, then changed votes
                    fc.advance(minutes=2)
                    final[s.subject_id] = _online_choices(draw, matters, cands)
                    casting.cast_vote(db, ballot=ballot, subject_id=s.subject_id, user=user,
                                      raw_choices=final[s.subject_id], matters=matters)
            elif how == "paper":
                choices = _paper_choices(draw, matters, cands)
                if not choices:
                    continue
                entry = casting.enter_paper(db, ballot=ballot, subject_id=s.subject_id, raw_choices=choices,
                                            scan_file_id=scan.id or 0, actor=first)
                casting.confirm_paper(db, ballot=ballot, entry_id=entry.id or 0, actor=second)
                final[s.subject_id] = choices
        fc.current = ballot.ends_at + timedelta(minutes=1)
        results.close_ballot(db, ballot=ballot, actor=first)

        stored = {r.matter_id: r for r in db.execute(
            select(BallotResult).where(BallotResult.ballot_id == ballot.id)).scalars()}
        pure = _pure_tally(ballot, subjects, matters, cands, final)
        event(f"subjects voting: {min(len(final), 5)}+ of {min(len(subjects), 5)}+")
        event("a matter passed" if any(tally.decided(o) for o in pure.results.values()) else "nothing passed")
        assert set(stored) == {m.id for m in matters}
        for m in matters:
            outcome = pure.results[m.id or 0]
            assert stored[m.id or 0].result_json == canonical_json(results.outcome_json(outcome)), m.category
            assert stored[m.id or 0].passed == tally.decided(outcome)
        # The recount tool, reading the export, agrees with the published preliminary results.
        report = recount_tool.recount(json.loads(json.dumps(results.tally_inputs(db, ballot=ballot),
                                                            default=str)))
        assert report["ok"], report["problems"]
        # Owners read each matter's rule beside its result.
        view = results.results_view(db, ballot=ballot)
        assert all(m["rule_text"] == rules.rule_text(rules.Category(m["category"]),
                                                     voting_settings.ballot_rules(db, ballot=ballot)
                                                     .rule_settings(), seats=m["result"].get("seats"))
                   for m in view["matters"])
    finally:
        db.rollback()
        db.close()
        clock.set_now(None)
