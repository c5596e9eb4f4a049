"""Credit through the services, on SQLite and PostgreSQL: the company's history, findings, a
district's list computed from real records (hand-computed scores), frozen at publication and
audited in each compound's trail, corrections as versions, and the dismissal prompt through the
compound's procedure."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.appraisals import service as appraisal_service
from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clock import FrozenClock
from app.credit import assessing, lists, prompts, rules, service
from app.credit.exceptions import CreditInvalid, CreditState
from app.credit.models import CreditAssessment, DismissalPrompt, PropertyCompanyRecord
from app.errors import DomainError
from app.procedures import adoption, agenda
from app.procedures import reading as procedure_reading
from app.workorders import service as workorder_service
from tests.credit.helpers import GREEN_CODE, OTHER_CODE, Q4, RED_CODE, District, build, thresholds


@pytest.fixture
def d(db: Session, frozen_clock: FrozenClock) -> District:
    return build(db, frozen_clock)


def _events(db: Session, compound_id: int, action: str) -> list[AuditEvent]:
    db.flush()
    return list(db.execute(select(AuditEvent).where(AuditEvent.compound_id == compound_id,
                                                    AuditEvent.action == action).order_by(AuditEvent.seq)).scalars())


def _points(score: rules.Score | None) -> dict[str, int]:
    assert score is not None
    return {p.key: p.points_tenths for p in score.points}


def _publish(db: Session, d: District, who: str = "qu", ids: list[int] | None = None,
             reason: str = "", t: rules.Thresholds | None = None) -> lists.CreditList:
    compound_ids = ids or [d.red, d.green, d.east]
    computed = lists.compute(db, district="朝阳区", period=Q4, compound_ids=compound_ids, thresholds=t or thresholds())
    return lists.publish(db, district="朝阳区", period=Q4, compound_ids=compound_ids, thresholds=t or thresholds(),
                         digest=computed.digest, correction_reason=reason, actor=d.actor(who, "supervisor"))


# --- the company --------------------------------------------------------------------------------


def test_a_change_of_company_is_a_new_record_and_the_history_is_kept(db: Session, d: District) -> None:
    first = service.current_company(db, compound_id=d.red)
    assert first is not None and first.credit_code == RED_CODE
    new = service.record_company(db, compound_id=d.red, actor=d.actor("wy", "committee"), name=" 新城物业 ",
                                 credit_code=OTHER_CODE.lower(), contract_starts_on=date(2026, 1, 1),
                                 contract_ends_on=None, note="业主大会选聘")
    assert (new.name, new.credit_code) == ("新城物业", OTHER_CODE)
    history = service.company_history(db, compound_id=d.red)
    assert [r.id for r in history] == [new.id, first.id]
    assert (history[1].name, history[1].credit_code) == ("阳光物业服务有限公司", RED_CODE)  # untouched
    event = _events(db, d.red, "credit.company_recorded")[-1]
    assert json.loads(event.payload)["previous_name"] == "阳光物业服务有限公司"
    assert json.loads(event.payload)["credit_code"] == OTHER_CODE


@pytest.mark.parametrize("code, error", [
    ("91350100M000100Y44", "credit_code_invalid"), ("91350100M000100Y4", "credit_code_invalid"),
])
def test_a_wrong_code_is_refused(db: Session, d: District, code: str, error: str) -> None:
    with pytest.raises(CreditInvalid) as exc:
        service.record_company(db, compound_id=d.red, actor=d.actor("wy", "committee"), name="某物业",
                               credit_code=code, contract_starts_on=date(2026, 1, 1), contract_ends_on=None)
    assert exc.value.code == error


def test_recording_the_same_company_again_or_bad_dates_is_refused(db: Session, d: District) -> None:
    actor = d.actor("wy", "committee")
    with pytest.raises(CreditState):
        service.record_company(db, compound_id=d.red, actor=actor, name="阳光物业服务有限公司", credit_code=RED_CODE,
                               contract_starts_on=date(2024, 1, 1), contract_ends_on=date(2026, 12, 31))
    with pytest.raises(CreditInvalid) as exc:
        service.record_company(db, compound_id=d.red, actor=actor, name="阳光物业服务有限公司", credit_code=RED_CODE,
                               contract_starts_on=date(2024, 1, 1), contract_ends_on=date(2023, 12, 31))
    assert exc.value.code == "contract_dates_invalid"
    count = db.execute(select(func.count()).select_from(PropertyCompanyRecord)
                       .where(PropertyCompanyRecord.compound_id == d.red)).scalar_one()
    assert count == 1


def test_findings_are_recorded_against_the_company_and_withdrawn_with_a_reason(db: Session, d: District) -> None:
    sup = d.actor("jd", "supervisor")
    with pytest.raises(CreditState) as exc:
        service.record_finding(db, compound_id=d.east, actor=sup, found_on=date(2026, 1, 2), text="x")
    assert exc.value.code == "company_not_recorded"
    with pytest.raises(CreditInvalid):
        service.record_finding(db, compound_id=d.red, actor=sup, found_on=date(2026, 1, 11), text="明天的事")
    finding = service.get_finding(db, compound_id=d.red, finding_id=d.finding_id)
    assert (finding.company_name, finding.credit_code) == ("阳光物业服务有限公司", RED_CODE)
    service.withdraw_finding(db, compound_id=d.red, finding_id=d.finding_id, actor=sup, reason="登记有误")
    with pytest.raises(CreditState):
        service.withdraw_finding(db, compound_id=d.red, finding_id=d.finding_id, actor=sup, reason="再撤一次")
    assert service.active_findings(db, compound_id=d.red, credit_code=RED_CODE) == []
    assert [json.loads(e.payload)["reason"] for e in _events(db, d.red, "credit.finding_withdrawn")] == ["登记有误"]
    # The withdrawn finding no longer costs the company its 10 points.
    a = assessing.assess(db, compound_id=d.red, period=Q4)
    assert _points(a.score)["findings"] == 200


# --- the score of a compound's quarter, from the records ------------------------------------------------


def test_scores_by_hand_from_the_records(db: Session, d: District) -> None:
    red = assessing.assess(db, compound_id=d.red, period=Q4)
    assert _points(red.score) == {"satisfaction": 194, "appraisal": 162, "timeliness": 75, "rating": 80,
                                  "ledger": 0, "findings": 100}
    assert red.score is not None and red.score.total_tenths == 611
    by = {p.key: p for p in red.score.points}
    assert by["satisfaction"].value == "2025年度调查满意度83.3%（6份答卷，低于90%）"
    assert by["timeliness"].value == f"到期2次，按期办结1次（50.0%），逾期工单：{d.orders[1]}号"
    assert [s.ref for s in by["timeliness"].sources] == [str(o) for o in d.orders]
    assert by["rating"].value == "评价2次：满意1次，基本满意1次；平均80.0分"
    assert by["ledger"].value == "未启用公共收益台账"
    assert by["findings"].sources[0].label == "2025年11月4日：擅自占用消防通道停放车辆"
    green = assessing.assess(db, compound_id=d.green, period=Q4)
    assert green.score is not None and green.score.total_tenths == 650
    assert {p.key for p in green.score.points if p.no_data} == {"satisfaction", "appraisal", "timeliness", "rating"}
    east = assessing.assess(db, compound_id=d.east, period=Q4)
    assert east.company is None and east.score is None


def test_a_deadline_at_24_00_belongs_to_its_own_day(db: Session, d: District) -> None:
    rounds = workorder_service.handling_rounds(
        db, compound_id=d.red, due_from=datetime(2025, 10, 1, tzinfo=UTC), due_before=datetime(2026, 1, 1, tzinfo=UTC))
    assert [(r.work_order_id, r.on_time) for r in rounds] == [(d.orders[0], True), (d.orders[1], False)]
    # 24:00 on Thursday 23 October in Shanghai is 16:00 UTC that day.
    assert {r.due_at for r in rounds} == {datetime(2025, 10, 23, 16, 0, tzinfo=UTC)}
    assert {assessing.deadline_day(r.due_at) for r in rounds} == {date(2025, 10, 23)}
    ratings = workorder_service.ratings_given(db, compound_id=d.red, rated_from=datetime(2025, 10, 1, tzinfo=UTC),
                                              rated_before=datetime(2026, 1, 1, tzinfo=UTC))
    assert [r.rating for r in ratings] == ["satisfied", "basic"]


def test_a_reopened_order_is_a_second_round_and_its_unsatisfied_rating_counts(
        db: Session, d: District, frozen_clock: FrozenClock) -> None:
    grid, clerk = d.actor("wgw", "grid_worker"), d.actor("wg", "clerk")
    frozen_clock.current = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)  # Monday
    order = workorder_service.report(db, compound_id=d.red, actor=grid, owner_phone="13900000002",
                                     category="repair", text="水管漏水", location="1栋", photo_file_ids=[])
    oid = order.id or 0
    workorder_service.dispatch(db, compound_id=d.red, work_order_id=oid, actor=grid, due_at=None, note="")
    workorder_service.accept(db, compound_id=d.red, work_order_id=oid, actor=clerk)
    frozen_clock.current = datetime(2025, 12, 2, 2, 0, tzinfo=UTC)
    workorder_service.record_done(db, compound_id=d.red, work_order_id=oid, actor=clerk, note="已修", photo_file_ids=[])
    workorder_service.rate(db, compound_id=d.red, work_order_id=oid, actor=grid, phone="13900000002",
                           rating="unsatisfied", comment="仍在漏")
    frozen_clock.current = datetime(2025, 12, 10, 2, 0, tzinfo=UTC)  # past the new deadline (5 Dec)
    workorder_service.record_done(db, compound_id=d.red, work_order_id=oid, actor=clerk, note="已更换", photo_file_ids=[])
    workorder_service.rate(db, compound_id=d.red, work_order_id=oid, actor=grid, phone="13900000002",
                           rating="satisfied", comment="")
    frozen_clock.current = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
    rounds = workorder_service.handling_rounds(db, compound_id=d.red, due_from=datetime(2025, 12, 1, tzinfo=UTC),
                                               due_before=datetime(2026, 1, 1, tzinfo=UTC))
    assert [(r.work_order_id, r.on_time) for r in rounds] == [(oid, True), (oid, False)]
    assert rounds[1].done_at == datetime(2025, 12, 10, 2, 0, tzinfo=UTC)
    # The October rounds are outside December's window.
    assert d.orders[0] not in {r.work_order_id for r in rounds}
    a = assessing.assess(db, compound_id=d.red, period=Q4)
    by = {p.key: p for p in a.score.points}  # type: ignore[union-attr]
    assert by["timeliness"].value.startswith("到期4次，按期办结2次（50.0%）")
    # 满意, 基本满意, 不满意, 满意: (100 + 60 + 0 + 100) / 4 = 65.0 → 6.5 points.
    assert by["rating"].points_tenths == 65


# --- the list ------------------------------------------------------------------------------------------


def test_the_list_covers_the_district_compounds_the_publisher_supervises(db: Session, d: District) -> None:
    computed = lists.compute(db, district="朝阳区", period=Q4, compound_ids=[d.red, d.green, d.east],
                             thresholds=thresholds())
    assert [a.compound.id for a in computed.assessments] == [d.red, d.green]  # 东方小区 is in 海淀区
    assert [(c.credit_code, c.score_tenths, c.rank, c.place) for c in computed.companies] == [
        (GREEN_CODE, 650, 1, ""), (RED_CODE, 611, 2, "black")]
    street = lists.compute(db, district="朝阳区", period=Q4, compound_ids=[d.red])
    assert [a.compound.id for a in street.assessments] == [d.red]
    assert street.companies[0].place == ""  # no thresholds, no places


def test_publishing_freezes_the_basis_and_audits_every_compound(db: Session, d: District) -> None:
    listing = _publish(db, d)
    assert (listing.version, listing.district, listing.year, listing.quarter) == (1, "朝阳区", 2025, 4)
    assert lists.compound_ids_of(listing) == sorted([d.red, d.green])
    entries = lists.entries_of(db, listing=listing)
    assert [(e.company_name, e.score_tenths, e.rank, e.place) for e in entries] == [
        ("绿城物业服务集团有限公司", 650, 1, ""), ("阳光物业服务有限公司", 611, 2, "black")]
    stored = lists.assessment_in(db, listing=listing, compound_id=d.red)
    assert stored is not None and stored.score_tenths == 611
    basis = json.loads(stored.basis_json)
    assert basis["period"] == "2025年第4季度" and basis["company"]["credit_code"] == RED_CODE
    assert [p["points_tenths"] for p in basis["points"]] == [194, 162, 75, 80, 0, 100]
    for cid, place in ((d.red, "黑榜"), (d.green, "未上榜")):
        (event,) = _events(db, cid, "credit.list_published")
        payload = json.loads(event.payload)
        assert payload["place"] == place and payload["period"] == "2025年第4季度" and payload["company_count"] == 2
    assert _events(db, d.east, "credit.list_published") == []
    # Later records change the live computation, never the published basis.
    service.withdraw_finding(db, compound_id=d.red, finding_id=d.finding_id, actor=d.actor("jd", "supervisor"),
                             reason="复核不成立")
    assert assessing.assess(db, compound_id=d.red, period=Q4).score.total_tenths == 711  # type: ignore[union-attr]
    db.expire_all()
    again = db.get(CreditAssessment, stored.id)
    assert again is not None and again.score_tenths == 611 and again.basis_json == stored.basis_json


def test_publishing_what_was_not_looked_at_is_refused(db: Session, d: District) -> None:
    computed = lists.compute(db, district="朝阳区", period=Q4, compound_ids=[d.red, d.green])
    service.record_finding(db, compound_id=d.green, actor=d.actor("qu", "supervisor"), found_on=date(2025, 12, 2),
                           text="公共收益未按时公示")
    with pytest.raises(CreditState) as exc:
        lists.publish(db, district="朝阳区", period=Q4, compound_ids=[d.red, d.green], thresholds=thresholds(),
                      digest=computed.digest, correction_reason="", actor=d.actor("qu", "supervisor"))
    assert exc.value.code == "credit_inputs_changed"


def test_a_correction_is_the_next_version_with_its_reason(db: Session, d: District) -> None:
    first = _publish(db, d)
    with pytest.raises(CreditInvalid) as exc:
        _publish(db, d)
    assert exc.value.code == "credit_correction_reason_required"
    second = _publish(db, d, reason="黑榜线按区住建委通知调整为60分", t=rules.Thresholds("score", 90, 60))
    assert (second.version, second.supersedes_id) == (2, first.id)
    assert [e.place for e in lists.entries_of(db, listing=second)] == ["", ""]
    assert [e.place for e in lists.entries_of(db, listing=first)] == ["", "black"]  # kept as published
    assert lists.latest_list_for(db, compound_id=d.red).id == second.id  # type: ignore[union-attr]
    assert lists.superseding(db, listing=first).id == second.id  # type: ignore[union-attr]
    # A street's own list over its compound is another list (version 1), not a correction.
    street = _publish(db, d, who="jd", ids=[d.red])
    assert street.version == 1 and street.scope_key != first.scope_key


def test_an_unfinished_or_too_old_quarter_is_refused(db: Session, d: District) -> None:
    for period, code in ((rules.Quarter(2026, 1), "credit_period_not_ended"),
                         (rules.Quarter(2023, 4), "credit_period_too_old")):
        with pytest.raises(CreditInvalid) as exc:
            lists.compute(db, district="朝阳区", period=period, compound_ids=[d.red])
        assert exc.value.code == code


def test_nothing_to_rank_is_refused(db: Session, d: District) -> None:
    computed = lists.compute(db, district="海淀区", period=Q4, compound_ids=[d.east])
    with pytest.raises(CreditState) as exc:
        lists.publish(db, district="海淀区", period=Q4, compound_ids=[d.east], thresholds=thresholds(),
                      digest=computed.digest, correction_reason="", actor=d.actor("qu", "supervisor"))
    assert exc.value.code == "credit_nothing_to_rank"


# --- the dismissal prompt -----------------------------------------------------------------------------------


def _adopt(db: Session, d: District) -> None:
    adoption.update_settings(db, compound_id=d.red, template_key="sanyi_yishen", extra_major=None,
                             caller=agenda.Caller.of(d.users["wy"], {Role.COMMITTEE}),
                             actor=d.actor("wy", "committee"))


def test_no_prompt_until_the_company_is_on_the_black_list(db: Session, d: District) -> None:
    s = prompts.state(db, compound_id=d.red)
    assert s.causes == [] and s.listing is None
    _publish(db, d, t=rules.Thresholds("score", 90, 60))  # 61.1: not black at 60
    assert prompts.state(db, compound_id=d.red).causes == []
    assert prompts.state(db, compound_id=d.green).causes == []


def test_the_prompt_is_recorded_once_per_cause(db: Session, d: District) -> None:
    listing = _publish(db, d)
    s = prompts.state(db, compound_id=d.red)
    assert [c.item.id for c in s.causes] == [d.item_id] and s.entry is not None and s.entry.place == "black"
    assert s.open_causes and s.causes[0].record is None
    committee = d.actor("wy", "committee")
    prompts.record_shown(db, compound_id=d.red, actor=committee)
    prompts.record_shown(db, compound_id=d.red, actor=committee)
    events = _events(db, d.red, "credit.dismissal_prompted")
    assert len(events) == 1
    payload = json.loads(events[0].payload)
    assert (payload["text"], payload["due_on"], payload["period"]) == ("修复地下车库照明", "2025-12-15", "2025年第4季度")
    rows = db.execute(select(DismissalPrompt).where(DismissalPrompt.compound_id == d.red)).scalars().all()
    assert [(r.list_id, r.rectification_item_id) for r in rows] == [(listing.id, d.item_id)]


def test_dismissed_with_a_reason_until_a_new_cause(db: Session, d: District) -> None:
    _publish(db, d)
    committee = d.actor("wy", "committee")
    with pytest.raises(CreditInvalid):
        prompts.dismiss(db, compound_id=d.red, actor=committee, reason=" ")
    s = prompts.dismiss(db, compound_id=d.red, actor=committee, reason="物业已书面承诺1月底前完成，下月复核")
    assert s.causes and not s.open_causes
    assert len(_events(db, d.red, "credit.dismissal_prompt_dismissed")) == 1
    assert len(_events(db, d.red, "credit.dismissal_prompted")) == 1  # recorded on the way
    with pytest.raises(CreditState):
        prompts.dismiss(db, compound_id=d.red, actor=committee, reason="again")
    # A corrected list (a new version, still black) is a new cause: it prompts again.
    _publish(db, d, reason="更正一处笔误", t=rules.Thresholds("score", 90, 63))
    assert prompts.state(db, compound_id=d.red).open_causes


def test_the_cause_goes_when_the_item_is_confirmed_or_the_company_changes(
        db: Session, d: District, frozen_clock: FrozenClock) -> None:
    _publish(db, d)
    assert prompts.state(db, compound_id=d.red).open_causes
    appraisal_service.mark_done(db, compound_id=d.red, item_id=d.item_id, actor=d.actor("wg", "clerk"),
                                note="已全部修复", file_ids=[_a_file(db, d)])
    s = prompts.state(db, compound_id=d.red)
    assert s.open_causes and s.causes[0].item.done_at is not None  # done late, not yet confirmed
    appraisal_service.confirm(db, compound_id=d.red, item_id=d.item_id, actor=d.actor("wy", "committee"))
    assert prompts.state(db, compound_id=d.red).causes == []


def test_a_new_company_is_not_prompted_for_the_old_one(db: Session, d: District) -> None:
    _publish(db, d)
    service.record_company(db, compound_id=d.red, actor=d.actor("wy", "committee"), name="新城物业",
                           credit_code=OTHER_CODE, contract_starts_on=date(2026, 1, 8), contract_ends_on=None)
    assert prompts.state(db, compound_id=d.red).causes == []


def _a_file(db: Session, d: District) -> int:
    from app.files import service as files_service

    stored = files_service.store_file(db, compound_id=d.red, actor=d.actor("wg", "clerk"), purpose="attachment",
                                      file_name="照片.pdf", data=b"%PDF-1.4\n% evidence\n",
                                      content_type="application/pdf")
    return stored.id or 0


def test_proposing_the_dismissal_goes_through_the_procedure(db: Session, d: District) -> None:
    _publish(db, d)
    db.commit()
    committee = d.actor("wy", "committee")
    caller = agenda.Caller.of(d.users["wy"], {Role.COMMITTEE})
    s = prompts.state(db, compound_id=d.red)
    title, text = prompts.proposal_text(s)
    assert title == "解聘物业服务企业：阳光物业服务有限公司"
    assert "朝阳区2025年第4季度物业服务企业红黑榜" in text and "列入黑榜，得分61.1分，排名第2（共2家）" in text
    assert "整改事项“修复地下车库照明”，整改期限2025年12月15日" in text and "由业主大会表决决定" in text
    # Without an adopted procedure there is no path for a major matter: refused, nothing recorded.
    with pytest.raises(DomainError) as exc:
        prompts.propose_dismissal(db, compound_id=d.red, actor=committee, caller=caller, title=title, text=text)
    assert exc.value.code == "procedure_not_adopted"
    db.rollback()
    _adopt(db, d)
    item = prompts.propose_dismissal(db, compound_id=d.red, actor=committee, caller=caller, title=title, text=text)
    assert (item.matter_type, item.category, item.is_major, item.proposer_body) == (
        "property_manager", "4", True, "committee")
    # At the procedure's beginning: proposed, waiting for the joint meeting, not past the gate.
    assert agenda.current_step(item)["key"] == "consult"  # type: ignore[index]
    assert item.gate_passed_at is None and item.public_at is None
    assert [r.step_key for r in procedure_reading.step_records(db, item=item)] == ["propose"]
    assert item.id in {i.id for i in procedure_reading.list_items(db, compound_id=d.red, public_only=False)}
    assert item.id not in {i.id for i in procedure_reading.list_items(db, compound_id=d.red, public_only=True)}
    s = prompts.state(db, compound_id=d.red)
    assert s.draft is not None and s.draft.id == item.id and not s.open_causes
    assert len(_events(db, d.red, "credit.dismissal_proposed")) == 1
    with pytest.raises(CreditState):
        prompts.propose_dismissal(db, compound_id=d.red, actor=committee, caller=caller, title=title, text=text)


def test_the_platform_decides_nothing(db: Session, d: District, frozen_clock: FrozenClock) -> None:
    """A black list and an overdue item change no company record and open no ballot by themselves."""
    _publish(db, d)
    frozen_clock.current += timedelta(days=90)
    prompts.state(db, compound_id=d.red)
    from app.voting import service as voting_service

    assert voting_service.list_ballots(db, compound_id=d.red, include_drafts=True) == []
    assert service.current_company(db, compound_id=d.red).credit_code == RED_CODE  # type: ignore[union-attr]
    assert procedure_reading.list_items(db, compound_id=d.red, public_only=False) == []


def test_two_screens_recording_the_same_cause_record_it_once(db: Session, d: District) -> None:
    _publish(db, d)
    stale = prompts.state(db, compound_id=d.red)  # what the second screen read
    prompts.record_shown(db, compound_id=d.red, actor=d.actor("wy", "committee"))
    rows = prompts._ensure_recorded(db, stale, compound_id=d.red, actor=d.actor("wy", "committee"))
    assert len(rows) == 1 and rows[0].id is not None
    assert len(_events(db, d.red, "credit.dismissal_prompted")) == 1


def test_two_publishers_at_once_one_is_told(db: Session, d: District, monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(db, d)
    # The second publisher read "nothing published yet" just before the first committed.
    monkeypatch.setattr(lists, "latest_of_scope", lambda *a, **k: None)
    with pytest.raises(CreditState) as exc:
        _publish(db, d)
    assert exc.value.code == "credit_published_meanwhile"
