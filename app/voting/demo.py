"""Demo ballots: one decided and published, one open for voting now (history built in the past)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app import calendar, clock
from app.audit.service import Actor
from app.auth import service as auth_service
from app.auth.models import UserAccount
from app.privacy import mask_phone
from app.voting import casting, results, service
from app.voting.models import Ballot, BallotVoter
from app.voting.service import CandidateSpec, MatterSpec

# Demo owners who log in to try voting: the open ballot leaves them unvoted.
KEEP_UNVOTED = frozenset({"13800000001", "13800000002", "13800000003"})


def _midnight(day_offset: int, now: datetime) -> datetime:
    return calendar.start_of_day(calendar.local_day(now) + timedelta(days=day_offset))


def _account(session: Session, phone: str) -> UserAccount:
    return auth_service.ensure_phone_account(session, phone=phone, display_name=f"业主 {mask_phone(phone)}")


def _vote_some(session: Session, ballot: Ballot, share: float, rng: random.Random,
               skip_phones: frozenset[str] = frozenset()) -> int:
    """Representatives of about `share` of the subjects vote, mostly in favour."""
    matters = service.list_matters(session, ballot_id=ballot.id or 0)
    cands = service.candidates_by_matter(session, ballot_id=ballot.id or 0)
    voters = session.execute(
        select(BallotVoter).where(BallotVoter.ballot_id == ballot.id, BallotVoter.is_representative,
                                  BallotVoter.phone.is_not(None)).order_by(BallotVoter.subject_id)
    ).scalars().all()
    cast = 0
    seen: set[int] = set()
    for voter in voters:
        if voter.subject_id in seen or voter.phone in skip_phones or rng.random() > share:
            continue
        seen.add(voter.subject_id)
        choices: dict[str, object] = {}
        for m in matters:
            if m.seats:
                pool = [c.id or 0 for c in cands[m.id or 0]]
                choices[str(m.id)] = {"approve": sorted(rng.sample(pool, k=min(m.seats, len(pool) - 1)))}
            else:
                choices[str(m.id)] = rng.choices(["agree", "oppose", "abstain"], weights=[8, 2, 1])[0]
        casting.cast_vote(session, ballot=ballot, subject_id=voter.subject_id,
                          user=_account(session, voter.phone or ""), raw_choices=choices)
        cast += 1
    return cast


def seed_voting_demo(session: Session, *, compound_id: int, committee_user_id: int) -> list[int]:
    """Create a published ballot and an open one, moving the clock through their history."""
    real_now = datetime.now(UTC)  # the wall clock: the demo's history ends today
    actor = Actor(user_id=committee_user_id, role="committee")
    rng = random.Random(20260315)
    frozen = clock.FrozenClock(real_now - timedelta(days=50))
    clock.set_now(frozen)
    try:
        # 1. Decided and published: noticed 50 days ago, voted 35–28 days ago.
        past = service.create_ballot(
            session, compound_id=compound_id, title="2026年第一次业主大会",
            description="本次会议以书面征求意见形式召开，请业主在投票期内完成表决。",
            starts_at=_midnight(15, frozen.current), ends_at=_midnight(22, frozen.current),
            scope_building_ids=[], actor=actor, matters=[
                MatterSpec(title="续聘阳光物业服务有限公司为本小区物业服务企业（三年）", category="4"),
                MatterSpec(title="使用专项维修资金维修2栋外墙（预算28.6万元）", category="5"),
                MatterSpec(title="利用地面共有车位设置新能源汽车充电桩并收取场地使用费", category="8"),
            ])
        service.publish_notice(session, ballot=past, actor=actor)
        frozen.current = past.starts_at + timedelta(hours=9)
        service.open_ballot(session, ballot=past, actor=actor)
        _vote_some(session, past, 0.8, rng)
        frozen.current = past.ends_at + timedelta(hours=9)
        results.close_ballot(session, ballot=past, actor=actor)
        frozen.current = (past.objection_ends_at or frozen.current) + timedelta(hours=9)
        results.publish_result(session, ballot=past, actor=actor)

        # 2. Open now: noticed 16 days ago, voting since yesterday for 7 days.
        frozen.current = real_now - timedelta(days=16)
        current = service.create_ballot(
            session, compound_id=compound_id, title="2026年第二次业主大会",
            description="审议物业服务收费标准调整方案，并选举第二届业主委员会委员。各事项的内容列于本公告。",
            starts_at=_midnight(15, frozen.current), ends_at=_midnight(22, frozen.current),
            scope_building_ids=[], actor=actor, matters=[
                MatterSpec(title="调整物业服务收费标准（住宅由每月2.20元/㎡调整为2.50元/㎡）", category="9",
                           description="自2027年1月1日起，住宅物业服务费由每月每平方米2.20元调整为2.50元，"
                                       "商铺标准不变。调整理由：人工成本上涨，电梯维保合同续签。"),
                MatterSpec(title="筹集专项维修资金（每户按专有面积每平方米30元续筹）", category="6",
                           description="专项维修资金余额已低于首期交存额的30%，按专有部分面积每平方米30元续筹，"
                                       "存入业主大会专户，用于共用部位、共用设施设备的维修和更新、改造。"),
                MatterSpec(title="选举第二届业主委员会委员（应选5名）", category="3", seats=5,
                           candidates=tuple(CandidateSpec(n, i) for n, i in (
                               ("陈立新", "现任业委会主任，退休工程师"), ("刘芳", "现任委员，会计师"),
                               ("周海燕", "社区志愿者，教师"), ("孙志强", "律师"),
                               ("吴晓东", "IT工程师"), ("郑淑珍", "退休医生"), ("何俊杰", "个体经营者")))),
            ])
        service.publish_notice(session, ballot=current, actor=actor)
        frozen.current = current.starts_at + timedelta(hours=8)
        service.open_ballot(session, ballot=current, actor=actor)
        _vote_some(session, current, 0.3, rng, skip_phones=KEEP_UNVOTED)
    finally:
        clock.set_now(None)
    return [past.id or 0, current.id or 0]
