"""Browser-test seed: the demo, plus two ballots whose voting lies in the past.

- "2026年第三次业主大会" was closed and tallied two days ago: its objection window is open now,
  and owner 13800000001 voted in it (so 查票 and objections can be tried);
- "2026年第四次业主大会" (with an election) ended at midnight and has not been closed: the
  committee can 结束并计票.

Run by e2e/harness.mjs through GONGJUE_E2E_SEED (cwd is the repository root).
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from sqlalchemy import select  # noqa: E402

from app import clock, demo  # noqa: E402
from app.audit.service import Actor  # noqa: E402
from app.auth.models import UserAccount  # noqa: E402
from app.calendar import SHANGHAI  # noqa: E402
from app.db import transaction  # noqa: E402
from app.roster.models import Compound  # noqa: E402
from app.voting import casting, results, service  # noqa: E402
from app.voting.demo import _account, _vote_some  # noqa: E402
from app.voting.models import BallotVoter  # noqa: E402
from app.voting.service import CandidateSpec, MatterSpec  # noqa: E402

VOTER = "13800000001"


def midnight(at: datetime, days: int) -> datetime:
    d = at.astimezone(SHANGHAI).date() + timedelta(days=days)
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def main() -> None:
    demo.main()
    rng = random.Random(7)
    real_now = datetime.now(UTC)
    with transaction(write=True) as session:
        compound = session.execute(select(Compound).order_by(Compound.id)).scalars().first()
        committee = session.execute(select(UserAccount).where(UserAccount.username == "committee")).scalar_one()
        owner = _account(session, VOTER)
        actor = Actor(user_id=committee.id, role="committee")
        frozen = clock.FrozenClock(real_now - timedelta(days=26))
        clock.set_now(frozen)
        try:
            tallied = service.create_ballot(
                session, compound_id=compound.id, title="2026年第三次业主大会",
                description="书面征求意见。", starts_at=midnight(frozen.current, 16),
                ends_at=midnight(frozen.current, 23), scope_building_ids=[], actor=actor, matters=[
                    MatterSpec(title="更换小区监控设备（预算12万元）", category="9"),
                    MatterSpec(title="物业服务满意度测评", category="survey"),
                ])
            service.publish_notice(session, ballot=tallied, actor=actor)
            frozen.current = tallied.starts_at + timedelta(hours=8)
            service.open_ballot(session, ballot=tallied, actor=actor)
            mine = session.execute(select(BallotVoter).where(
                BallotVoter.ballot_id == tallied.id, BallotVoter.phone == VOTER)).scalars().first()
            matters = service.list_matters(session, ballot_id=tallied.id or 0)
            casting.cast_vote(session, ballot=tallied, subject_id=mine.subject_id, user=owner,
                              raw_choices={str(matters[0].id): "agree", str(matters[1].id): "oppose"})
            _vote_some(session, tallied, 0.85, rng, skip_phones=frozenset({VOTER}))
            frozen.current = tallied.ends_at + timedelta(hours=9)
            results.close_ballot(session, ballot=tallied, actor=actor)

            frozen.current = real_now - timedelta(days=24)
            ended = service.create_ballot(
                session, compound_id=compound.id, title="2026年第四次业主大会",
                description="", starts_at=midnight(frozen.current, 16),
                ends_at=midnight(real_now, 0), scope_building_ids=[], actor=actor, matters=[
                    MatterSpec(title="增设小区非机动车充电棚", category="9"),
                    MatterSpec(title="增补业主委员会委员（应选3名）", category="3", seats=3,
                               candidates=tuple(CandidateSpec(n, i) for n, i in (
                                   ("钱文博", "退休教师"), ("孙慧敏", "社区志愿者"),
                                   ("李国庆", "工程师"), ("周春生", "个体经营者")))),
                ])
            service.publish_notice(session, ballot=ended, actor=actor)
            frozen.current = ended.starts_at + timedelta(hours=8)
            service.open_ballot(session, ballot=ended, actor=actor)
            _vote_some(session, ended, 0.75, rng, skip_phones=frozenset({VOTER}))
        finally:
            clock.set_now(None)


if __name__ == "__main__":
    main()
