"""A district with three compounds and a quarter of real records, built through the domains'
services on a frozen clock, for the credit tests.

- 红旗小区 (朝阳区, 和平街道), served by 阳光物业: the 2025 satisfaction survey published at 5 of 6
  satisfied (83.3%); two work orders due on 23 October 2025, one done on time and rated 满意, one
  done late and rated 基本满意; a 负面清单 finding of 4 November; the 2025 appraisal published on
  1 December at 81.0 with one rectification item due 15 December; no ledger.
- 绿园小区 (朝阳区, 光明街道), served by 绿城物业: nothing but a ledger started on 1 October 2025.
- 东方小区 (海淀区): no company recorded.

The clock ends on 10 January 2026, 10:00 in Shanghai: 2025 Q4 has ended and the rectification
item is overdue. Hand-computed 2025 Q4 scores (rules in app/credit/rules.py):
红旗 19.4 + 16.2 + 7.5 + 8.0 + 0 + 10.0 = 61.1; 绿园 12.5 + 10 + 7.5 + 5 + 10 + 20 = 65.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from app.appraisals import service as appraisal_service
from app.appraisals.rules import Quarter
from app.audit.service import SYSTEM, Actor
from app.auth.models import Role
from app.clock import FrozenClock
from app.credit import rules, service
from app.ledger import service as ledger_service
from app.roster import service as roster_service
from app.surveys import service as survey_service
from app.workorders import service as workorder_service
from tests.factories import UnitSpec, add_roster, make_staff

Q4 = Quarter(2025, 4)
RED_CODE = "91350100M000100Y43"
GREEN_CODE = "91110000802100433B"
OTHER_CODE = "911100001000079554"
NAMES = [f"业主{i}" for i in range(6)]
PHONES = {name: f"1390000{i:04d}" for i, name in enumerate(NAMES, start=1)}
END = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)


@dataclass
class District:
    red: int  # 红旗小区
    green: int  # 绿园小区
    east: int  # 东方小区 (another district)
    users: dict[str, int] = field(default_factory=dict)
    item_id: int = 0  # the rectification item of 红旗's 2025 appraisal
    finding_id: int = 0
    orders: list[int] = field(default_factory=list)

    def actor(self, who: str, role: str) -> Actor:
        return Actor(user_id=self.users[who], role=role)


def _compound(db: Session, name: str, district: str, street: str) -> int:
    c = roster_service.create_compound(db, name=name, district=district, street=street,
                                       community=f"{street[:2]}社区", actor=SYSTEM)
    db.flush()
    assert c.id is not None
    return c.id


def build(db: Session, clock: FrozenClock) -> District:
    clock.current = datetime(2025, 10, 9, 2, 0, tzinfo=UTC)
    d = District(red=_compound(db, "红旗小区", "朝阳区", "和平街道"),
                 green=_compound(db, "绿园小区", "朝阳区", "光明街道"),
                 east=_compound(db, "东方小区", "海淀区", "学院路街道"))
    from app.roster.models import Compound

    red = db.get(Compound, d.red)
    assert red is not None
    add_roster(db, red, [UnitSpec("1栋", f"{i + 1}01", 9000, [n]) for i, n in enumerate(NAMES)], phones=PHONES)
    for who, roles in (("wy", {d.red: [Role.COMMITTEE]}), ("wy2", {d.green: [Role.COMMITTEE]}),
                       ("sh", {d.red: [Role.REVIEWER]}), ("wg", {d.red: [Role.CLERK]}),
                       ("wgw", {d.red: [Role.GRID_WORKER]}),
                       ("jd", {d.red: [Role.SUPERVISOR]}),  # 和平街道: 红旗小区 only
                       ("qu", {d.red: [Role.SUPERVISOR], d.green: [Role.SUPERVISOR],
                               d.east: [Role.SUPERVISOR]})):  # the district's housing bureau
        d.users[who] = make_staff(db, username=f"cr_{who}", roles=roles).id or 0
    d.users["admin"] = make_staff(db, username="cr_admin", platform_admin=True).id or 0
    db.commit()

    committee = d.actor("wy", "committee")
    service.record_company(db, compound_id=d.red, actor=committee, name="阳光物业服务有限公司",
                           credit_code=RED_CODE, contract_starts_on=date(2024, 1, 1),
                           contract_ends_on=date(2026, 12, 31))
    service.record_company(db, compound_id=d.green, actor=d.actor("wy2", "committee"), name="绿城物业服务集团有限公司",
                           credit_code=GREEN_CODE, contract_starts_on=date(2023, 7, 1), contract_ends_on=None)
    ledger_service.update_settings(db, compound_id=d.green, changes={"starts_on": date(2025, 10, 1)},
                                   actor=d.actor("wy2", "committee"))

    # The 2025 satisfaction survey of 红旗小区: 5 of 6 satisfied on every item.
    survey = survey_service.create_survey(
        db, compound_id=d.red, actor=committee, year=2025, opens_at=clock.current + timedelta(hours=1),
        closes_at=clock.current + timedelta(days=5), template_key="property_satisfaction")
    survey_service.open_survey(db, compound_id=d.red, survey_id=survey.id or 0, actor=committee)
    clock.current += timedelta(hours=2)
    questions = survey_service.questions_of(db, survey=survey)
    for i, name in enumerate(NAMES):
        subject = survey_service.answering_subjects(db, compound_id=d.red, phone=PHONES[name])[0]
        survey_service.submit_answer(db, compound_id=d.red, survey_id=survey.id or 0, phone=PHONES[name],
                                     subject_id=subject.subject_id,
                                     answers={q.id or 0: (1 if i == 0 else 3) for q in questions}, comment="")
    clock.current += timedelta(days=6)
    survey_service.close_survey(db, compound_id=d.red, survey_id=survey.id or 0, actor=committee)
    survey_service.publish_survey(db, compound_id=d.red, survey_id=survey.id or 0, actor=committee)
    db.commit()

    # Two work orders dispatched on Monday 20 October (due Thursday 23 October, 24:00).
    grid, clerk = d.actor("wgw", "grid_worker"), d.actor("wg", "clerk")
    clock.current = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)
    for text in ("楼道灯不亮", "电梯按钮失灵"):
        order = workorder_service.report(db, compound_id=d.red, actor=grid, owner_phone=PHONES["业主1"],
                                         category="repair", text=text, location="1栋", photo_file_ids=[])
        workorder_service.dispatch(db, compound_id=d.red, work_order_id=order.id or 0, actor=grid,
                                   due_at=None, note="")
        workorder_service.accept(db, compound_id=d.red, work_order_id=order.id or 0, actor=clerk)
        d.orders.append(order.id or 0)
    owner = Actor(user_id=d.users["wgw"], role="owner")  # the rating's actor is not what is tested
    clock.current = datetime(2025, 10, 21, 2, 0, tzinfo=UTC)
    workorder_service.record_done(db, compound_id=d.red, work_order_id=d.orders[0], actor=clerk,
                                  note="已更换灯泡", photo_file_ids=[])
    workorder_service.rate(db, compound_id=d.red, work_order_id=d.orders[0], actor=owner,
                           phone=PHONES["业主1"], rating="satisfied", comment="")
    clock.current = datetime(2025, 10, 27, 2, 0, tzinfo=UTC)
    workorder_service.record_done(db, compound_id=d.red, work_order_id=d.orders[1], actor=clerk,
                                  note="已维修", photo_file_ids=[])
    workorder_service.rate(db, compound_id=d.red, work_order_id=d.orders[1], actor=owner,
                           phone=PHONES["业主1"], rating="basic", comment="")
    db.commit()

    # A 负面清单 finding by the street's supervisor.
    clock.current = datetime(2025, 11, 5, 2, 0, tzinfo=UTC)
    d.finding_id = service.record_finding(db, compound_id=d.red, actor=d.actor("jd", "supervisor"),
                                          found_on=date(2025, 11, 4), text="擅自占用消防通道停放车辆").id or 0

    # The 2025 appraisal: 80 from everyone, the survey's 83.3%: 81.0; one item due 15 December.
    clock.current = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
    party = d.actor("sh", "reviewer")
    appraisal_service.file_account(db, compound_id=d.red, year=2025, actor=committee, party="committee",
                                   text="业委会年度述职", file_ids=[])
    appraisal_service.file_account(db, compound_id=d.red, year=2025, actor=clerk, party="company",
                                   text="物业年度述职", file_ids=[])
    sheet = dict.fromkeys(("contract", "service", "repairs", "openness", "reporting"), 80)
    for actor, kind, name in ((party, "party", "社区党委"), (committee, "committee", "业委会"),
                              (committee, "owner_rep", "业主代表甲")):
        appraisal_service.enter_score(db, compound_id=d.red, year=2025, actor=actor, appraiser_kind=kind,
                                      appraiser_name=name, scores=sheet)
    d.item_id = appraisal_service.add_rectification(db, compound_id=d.red, year=2025, actor=party,
                                                    text="修复地下车库照明", due_on=date(2025, 12, 15)).id or 0
    published = appraisal_service.publish(db, compound_id=d.red, year=2025, actor=party)
    assert published.score_tenths == 810
    db.commit()
    clock.current = END
    return d


def thresholds() -> rules.Thresholds:
    return rules.Thresholds("score", 90, 62)
