"""Browser-test seed for e2e/settings.test.mjs: the demo, plus one ballot decided in the past under
rules that publish the per-unit record.

The compound's rules publish the per-unit record (分户表决记录) from before the ballot's notice, so
the notice froze them; "2026年第五次业主大会" was then voted (owner 13800000001 agreed), closed,
tallied and its result published after the objection window. Everything is done through the
services with the clock set back, exactly as the committee's buttons would.

Run by e2e/harness.mjs through GONGJUE_E2E_SEED (cwd is the repository root).
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from sqlalchemy import select  # noqa: E402

from app import calendar, clock, demo  # noqa: E402
from app.audit.service import Actor  # noqa: E402
from app.auth.models import UserAccount  # noqa: E402
from app.db import transaction  # noqa: E402
from app.roster.models import Compound  # noqa: E402
from app.voting import casting, results, service  # noqa: E402
from app.voting import settings as voting_settings  # noqa: E402
from app.voting.demo import _account, _vote_some  # noqa: E402
from app.voting.models import BallotVoter  # noqa: E402
from app.voting.service import MatterSpec  # noqa: E402

VOTER = "13800000001"
TITLE = "2026年第五次业主大会"


def midnight(at: datetime, days: int) -> datetime:
    return calendar.start_of_day(calendar.local_day(at) + timedelta(days=days))


def main() -> None:
    demo.main()
    rng = random.Random(11)
    real_now = datetime.now(UTC)
    with transaction(write=True) as session:
        compound = session.execute(select(Compound).order_by(Compound.id)).scalars().first()
        committee = session.execute(select(UserAccount).where(UserAccount.username == "committee")).scalar_one()
        owner = _account(session, VOTER)
        actor = Actor(user_id=committee.id, role="committee")
        frozen = clock.FrozenClock(real_now - timedelta(days=40))
        clock.set_now(frozen)
        try:
            voting_settings.update_settings(session, compound_id=compound.id,
                                            changes={"publish_unit_record": True}, actor=actor)
            ballot = service.create_ballot(
                session, compound_id=compound.id, title=TITLE, description="书面征求意见。",
                starts_at=midnight(frozen.current, 16), ends_at=midnight(frozen.current, 23),
                scope_building_ids=[], actor=actor, matters=[
                    MatterSpec(title="更换小区门禁系统（预算8万元）", category="9"),
                ])
            service.publish_notice(session, ballot=ballot, actor=actor)
            frozen.current = ballot.starts_at + timedelta(hours=8)
            service.open_ballot(session, ballot=ballot, actor=actor)
            mine = session.execute(select(BallotVoter).where(
                BallotVoter.ballot_id == ballot.id, BallotVoter.phone == VOTER)).scalars().first()
            matters = service.list_matters(session, ballot_id=ballot.id or 0)
            casting.cast_vote(session, ballot=ballot, subject_id=mine.subject_id, user=owner,
                              raw_choices={str(matters[0].id): "agree"})
            _vote_some(session, ballot, 0.8, rng, skip_phones=frozenset({VOTER}))
            frozen.current = ballot.ends_at + timedelta(hours=9)
            results.close_ballot(session, ballot=ballot, actor=actor)
            frozen.current = ballot.objection_ends_at + timedelta(hours=2)
            results.publish_result(session, ballot=ballot, actor=actor)
            # Back to the statute's default for ballots from now on: the frozen rules still publish.
            voting_settings.update_settings(session, compound_id=compound.id,
                                            changes={"publish_unit_record": False}, actor=actor)
        finally:
            clock.set_now(None)


if __name__ == "__main__":
    main()
