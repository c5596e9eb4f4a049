"""Notice rules through the service: publication, immutability, corrections, audience, delivery."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.audit.service import SYSTEM
from app.clock import FrozenClock
from app.errors import DomainError
from app.notices import delivery as notice_delivery
from app.notices import postings, service
from app.notices.models import DeliveryMethod, NoticeDelivery, NoticeImmutable, NoticeKind
from app.roster import service as roster_service
from app.roster.models import Owner, UnitOwner
from tests.notices.conftest import PDF_BYTES, PHONES, Site, count_events, store


def _draft(db: Session, site: Site, **kwargs):  # type: ignore[no-untyped-def]
    values = {"kind": NoticeKind.GENERAL, "title": "关于清理楼道杂物的通知",
              "body": "请各位业主于本周内清理楼道杂物。"}
    values.update(kwargs)
    return service.create_draft(db, compound_id=site.id, actor=site.actor, **values)


def _published(db: Session, site: Site, **kwargs):  # type: ignore[no-untyped-def]
    notice = _draft(db, site, **kwargs)
    return service.publish(db, compound_id=site.id, notice_id=notice.id, actor=site.actor)


def _owner_viewer(db: Session, site: Site, name: str) -> service.Viewer:
    owner_ids = list(db.execute(
        select(Owner.id).where(Owner.compound_id == site.id, Owner.name == name)
    ).scalars())
    return service.viewer_for(db, compound_id=site.id, roles=set(), owner_ids=owner_ids)


def _user(phone: str):  # type: ignore[no-untyped-def]
    from app.auth.models import UserAccount

    return UserAccount(id=None, phone=phone, display_name="业主")


# --- publication and immutability -------------------------------------------------------------


def test_draft_is_editable_until_published_then_refused(
    db: Session, site: Site, frozen_clock: FrozenClock
) -> None:
    notice = _draft(db, site, title="草稿标题")
    service.update_draft(db, compound_id=site.id, notice_id=notice.id, actor=site.actor,
                         title="  正式标题 ", display_days=20)
    assert (notice.title, notice.display_days, notice.published_at) == ("正式标题", 20, None)

    service.publish(db, compound_id=site.id, notice_id=notice.id, actor=site.actor)
    assert notice.published_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert notice.published_by == site.committee.id

    with pytest.raises(NoticeImmutable) as refused:
        service.update_draft(db, compound_id=site.id, notice_id=notice.id, actor=site.actor,
                             body="改过的正文")
    assert refused.value.code == "notice_immutable"
    with pytest.raises(DomainError) as again:
        service.publish(db, compound_id=site.id, notice_id=notice.id, actor=site.actor)
    assert again.value.code == "notice_already_published"


@pytest.mark.parametrize(("title", "body"), [("", "正文"), ("标题", "  \n "), ("   ", "正文")])
def test_publish_refuses_an_empty_title_or_body(
    db: Session, site: Site, title: str, body: str
) -> None:
    notice = _draft(db, site, title=title, body=body)
    with pytest.raises(DomainError) as refused:
        service.publish(db, compound_id=site.id, notice_id=notice.id, actor=site.actor)
    assert (refused.value.code, refused.value.status) == ("notice_incomplete", 422)


def test_orm_guard_refuses_any_write_to_a_published_notice(db: Session, site: Site) -> None:
    notice = _published(db, site)
    db.commit()
    notice.body = "偷偷改掉"
    with pytest.raises(NoticeImmutable):
        db.flush()
    db.rollback()
    with pytest.raises(NoticeImmutable):
        db.delete(notice)
        db.flush()
    db.rollback()


def test_display_period_counts_from_the_day_after_publication_in_shanghai(
    db: Session, site: Site, frozen_clock: FrozenClock
) -> None:
    frozen_clock.current = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 3月2日 01:30 in Shanghai
    notice = _published(db, site, display_days=15)
    assert service.published_date(notice) == date(2026, 3, 2)
    assert service.display_until(notice) == date(2026, 3, 17)
    view = service.describe_notice(db, notice=notice)
    assert (view.status, view.status_label) == ("on_display", "公示中")
    frozen_clock.current = datetime(2026, 3, 17, 15, 59, tzinfo=UTC)  # 3月17日 23:59
    assert view.status == "on_display"
    frozen_clock.current = datetime(2026, 3, 17, 16, 0, tzinfo=UTC)  # 3月18日 00:00
    assert (view.status, view.status_label) == ("display_ended", "公示期满")


def test_display_days_must_be_at_least_one(db: Session, site: Site) -> None:
    with pytest.raises(DomainError) as refused:
        _draft(db, site, display_days=0)
    assert refused.value.code == "notice_display_days_invalid"


# --- corrections ------------------------------------------------------------------------------


def test_correction_supersedes_and_both_stay_visible(db: Session, site: Site) -> None:
    photo = store(db, site, name="平面图.png", purpose="attachment")
    original = _published(db, site, audience_building_ids=[site.buildings["2栋"]],
                          attachment_file_ids=[photo.id])
    correction = service.supersede(
        db, compound_id=site.id, notice_id=original.id, title="关于清理楼道杂物的通知（更正）",
        body="清理期限延长至下周五。", actor=site.actor,
    )
    assert correction.published_at is not None
    assert correction.supersedes_id == original.id
    assert correction.kind == original.kind

    total, items = service.list_notices(db, compound_id=site.id)
    assert total == 2 and {n.id for n in items} == {original.id, correction.id}
    old_view, new_view = service.describe_notices(db, notices=[original, correction])
    assert old_view.superseded_by is not None and old_view.superseded_by.id == correction.id
    assert (old_view.status, old_view.status_label) == ("superseded", "已被更正")
    assert new_view.supersedes is not None and new_view.supersedes.id == original.id
    # Audience and attachments are carried over unless given.
    assert new_view.audience == [site.buildings["2栋"]]
    assert [f.id for f in new_view.attachments] == [photo.id]
    # The original is unchanged.
    assert original.title == "关于清理楼道杂物的通知"
    assert service.effective_notice(db, compound_id=site.id, notice_id=original.id).id == correction.id

    with pytest.raises(DomainError) as twice:
        service.supersede(db, compound_id=site.id, notice_id=original.id, title="再次更正",
                          body="正文", actor=site.actor)
    assert twice.value.code == "notice_already_superseded"
    # A further fix corrects the correction, forming a chain.
    third = service.supersede(db, compound_id=site.id, notice_id=correction.id, title="再次更正",
                              body="清理期限为下周六。", audience_building_ids=None,
                              actor=site.actor)
    assert service.describe_notice(db, notice=third).audience == "compound"
    assert service.effective_notice(db, compound_id=site.id, notice_id=original.id).id == third.id


def test_a_draft_cannot_be_corrected(db: Session, site: Site) -> None:
    notice = _draft(db, site)
    with pytest.raises(DomainError) as refused:
        service.supersede(db, compound_id=site.id, notice_id=notice.id, title="更正",
                          body="正文", actor=site.actor)
    assert (refused.value.code, refused.value.status) == ("notice_not_published", 409)


# --- the one-call API for other domains -------------------------------------------------------


def test_publish_notice_links_the_source_and_records_its_fingerprint(
    db: Session, site: Site
) -> None:
    structured = {"sections": [{"type": "table", "heading": "表决事项",
                                "columns": ["序号", "事项", "类别"],
                                "rows": [[1, "续聘物业服务企业", "（四）"]]}],
                  "data": {"ballot_id": 12, "matter_ids": [3, 4]}}
    notice = service.publish_notice(
        db, compound_id=site.id, kind=NoticeKind.MEETING, title="关于召开2026年第一次业主大会的公告",
        body="现将表决事项公告如下。", source_type="ballot", source_id=12, structured=structured,
        actor=SYSTEM,
    )
    assert notice.published_at is not None and notice.source_id == "12"
    assert service.notices_for_source(db, compound_id=site.id, source_type="ballot",
                                      source_id=12) == [notice]
    assert service.notices_for_source(db, compound_id=site.id, source_type="ballot",
                                      source_id=13) == []
    view = service.describe_notice(db, notice=notice)
    assert view.structured == structured
    assert json.loads(notice.structured or "") == structured
    event = db.execute(
        select(AuditEvent).where(AuditEvent.compound_id == site.id,
                                 AuditEvent.action == "notice.published")
    ).scalar_one()
    payload = json.loads(event.payload)
    assert payload["content_sha256"] == view.content_sha256
    assert payload["source_type"] == "ballot" and payload["source_id"] == "12"


@pytest.mark.parametrize("structured", [
    {"sections": [{"type": "table", "columns": ["a", "b"], "rows": [["only one"]]}]},
    {"sections": [{"type": "chart"}]},
    {"data": {"area": 89.5}},
    {"unknown": 1},
])
def test_structured_content_is_validated_before_it_is_stored(
    db: Session, site: Site, structured: dict
) -> None:
    with pytest.raises(DomainError) as refused:
        _draft(db, site, structured=structured)
    assert (refused.value.code, refused.value.status) == ("notice_structured_invalid", 422)


def test_attachments_must_be_the_compounds_and_not_private(db: Session, site: Site) -> None:
    ballot_scan = store(db, site, data=PDF_BYTES, content_type="application/pdf",
                        name="纸质表决票.pdf", purpose="paper_ballot")
    with pytest.raises(DomainError) as private:
        _draft(db, site, attachment_file_ids=[ballot_scan.id])
    assert private.value.code == "notice_attachment_private"
    foreign = store(db, site, compound_id=site.other.id)
    with pytest.raises(DomainError) as elsewhere:
        _draft(db, site, attachment_file_ids=[foreign.id])
    assert elsewhere.value.code == "file_not_found"
    with pytest.raises(DomainError) as building:
        _draft(db, site, audience_building_ids=[999_999])
    assert building.value.code == "notice_building_not_found"


# --- audience ---------------------------------------------------------------------------------


def test_owners_see_compound_notices_and_those_for_their_buildings(
    db: Session, site: Site
) -> None:
    everyone = _published(db, site, title="全体通知")
    building2 = _published(db, site, title="2栋通知", audience_building_ids=[site.buildings["2栋"]])
    draft = _draft(db, site, title="草稿")

    def visible(name: str) -> set[int | None]:
        _, rows = service.list_notices(db, compound_id=site.id,
                                       viewer=_owner_viewer(db, site, name))
        return {n.id for n in rows}

    assert visible("李四") == {everyone.id}  # 1栋 only
    assert visible("赵六") == {everyone.id, building2.id}  # 2栋
    assert visible("张三") == {everyone.id, building2.id}  # 1栋 and 2栋
    with pytest.raises(DomainError) as hidden:
        service.get_notice(db, compound_id=site.id, notice_id=building2.id,
                           viewer=_owner_viewer(db, site, "李四"))
    assert hidden.value.code == "notice_not_found"
    with pytest.raises(DomainError) as no_drafts:
        service.get_notice(db, compound_id=site.id, notice_id=draft.id,
                           viewer=_owner_viewer(db, site, "赵六"))
    assert no_drafts.value.code == "notice_not_found"
    with pytest.raises(DomainError) as forbidden:
        service.list_notices(db, compound_id=site.id, status="draft",
                             viewer=_owner_viewer(db, site, "赵六"))
    assert forbidden.value.code == "notice_drafts_forbidden"
    # Another compound's notices never show.
    _, theirs = service.list_notices(db, compound_id=site.other.id)
    assert theirs == []


# --- delivery (送达) --------------------------------------------------------------------------


def test_online_read_is_recorded_once_per_subject(db: Session, site: Site) -> None:
    notice = _published(db, site)
    first = notice_delivery.record_online_read(db, compound_id=site.id, notice_id=notice.id,
                                       user=_user(PHONES["李四"]))
    assert first == [site.subjects["李四+王五"]]
    # The co-owner and a second opening reach the same subject: nothing new.
    assert notice_delivery.record_online_read(db, compound_id=site.id, notice_id=notice.id,
                                      user=_user(PHONES["王五"])) == []
    assert notice_delivery.record_online_read(db, compound_id=site.id, notice_id=notice.id,
                                      user=_user(PHONES["李四"])) == []
    assert count_events(db, site.id, "notice.read_online") == 1
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    assert [s.subject_id for s in status.reached] == [site.subjects["李四+王五"]]
    assert status.count_by(DeliveryMethod.ONLINE_READ) == 1


def test_online_read_counts_only_subjects_in_the_audience(db: Session, site: Site) -> None:
    building1 = _published(db, site, audience_building_ids=[site.buildings["1栋"]])
    # 赵六 owns only in 2栋: opening a 1栋 notice (e.g. as staff) reaches nobody.
    assert notice_delivery.record_online_read(db, compound_id=site.id, notice_id=building1.id,
                                      user=_user(PHONES["赵六"])) == []
    assert notice_delivery.record_online_read(db, compound_id=site.id, notice_id=building1.id,
                                      user=_user("13900000000")) == []
    draft = _draft(db, site)
    with pytest.raises(DomainError) as refused:
        notice_delivery.record_online_read(db, compound_id=site.id, notice_id=draft.id,
                                   user=_user(PHONES["张三"]))
    assert refused.value.code == "notice_not_published"


def test_paper_delivery_and_posting_shrink_the_not_reached_list(
    db: Session, site: Site, frozen_clock: FrozenClock
) -> None:
    notice = _published(db, site)
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    labels = [s.label for s in status.not_reached]
    assert labels == ["1栋101、2栋201", "1栋102", "2栋101", "开发建设单位（未售/未交付1套）"]
    assert status.reached == []

    notice_delivery.record_online_read(db, compound_id=site.id, notice_id=notice.id,
                               user=_user(PHONES["赵六"]))
    receipt = store(db, site, data=PDF_BYTES, content_type="application/pdf", name="签收单.pdf",
                    purpose="document")
    frozen_clock.advance(hours=3)
    delivery = notice_delivery.record_paper_delivery(
        db, compound_id=site.id, notice_id=notice.id, subject_id=site.subjects["李四+王五"],
        evidence_file_id=receipt.id, actor=site.actor,
    )
    assert (delivery.method, delivery.recorded_by) == (DeliveryMethod.PAPER, site.committee.id)
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    assert [s.label for s in status.not_reached] == ["1栋101、2栋201",
                                                    "开发建设单位（未售/未交付1套）"]
    assert (status.count_by(DeliveryMethod.ONLINE_READ), status.count_by(DeliveryMethod.PAPER)) == (1, 1)

    # A board posting is recorded with its photo; it reaches no one subject in particular.
    photo = store(db, site)
    posting = postings.record_posting(db, compound_id=site.id, notice_id=notice.id,
                                     posted_on=date(2026, 3, 2), location="1栋大堂公告栏",
                                     photo_file_id=photo.id, actor=site.actor)
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    assert [p.id for p in status.postings] == [posting.id]
    assert len(status.not_reached) == 2
    text = " ".join(s.label for s in status.subjects)
    assert all(name not in text for name in PHONES) and all(p not in text for p in PHONES.values())

    assert count_events(db, site.id, "notice.delivered_paper") == 1
    assert count_events(db, site.id, "notice.posted") == 1
    assert count_events(db, site.id, "notice.read_online") == 1


def test_paper_delivery_refusals(db: Session, site: Site, frozen_clock: FrozenClock) -> None:
    notice = _published(db, site, audience_building_ids=[site.buildings["2栋"]])
    with pytest.raises(DomainError) as outside:
        notice_delivery.record_paper_delivery(db, compound_id=site.id, notice_id=notice.id,
                                      subject_id=site.subjects["李四+王五"], actor=site.actor)
    assert outside.value.code == "notice_subject_not_in_audience"
    with pytest.raises(DomainError) as too_early:
        notice_delivery.record_paper_delivery(
            db, compound_id=site.id, notice_id=notice.id, subject_id=site.subjects["赵六"],
            delivered_at=frozen_clock.current - timedelta(days=1), actor=site.actor,
        )
    assert too_early.value.code == "notice_delivery_time_invalid"
    notice_delivery.record_paper_delivery(db, compound_id=site.id, notice_id=notice.id,
                                  subject_id=site.subjects["赵六"], actor=site.actor)
    with pytest.raises(DomainError) as twice:
        notice_delivery.record_paper_delivery(db, compound_id=site.id, notice_id=notice.id,
                                      subject_id=site.subjects["赵六"], actor=site.actor)
    assert (twice.value.code, twice.value.status) == ("notice_delivery_exists", 409)
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    # Only 2栋's subjects are in the audience: 赵六, 张三 (2栋201) and the developer.
    assert [s.label for s in status.subjects] == ["1栋101、2栋201", "2栋101",
                                                  "开发建设单位（未售/未交付1套）"]


def test_posting_refusals(db: Session, site: Site, frozen_clock: FrozenClock) -> None:
    notice = _published(db, site)
    photo = store(db, site)
    pdf_file = store(db, site, data=PDF_BYTES, content_type="application/pdf", name="x.pdf",
                     purpose="document")
    cases = [
        ({"posted_on": date(2026, 3, 1), "photo_file_id": photo.id}, "notice_posting_date_invalid"),
        ({"posted_on": date(2026, 3, 3), "photo_file_id": photo.id}, "notice_posting_date_invalid"),
        ({"posted_on": date(2026, 3, 2), "photo_file_id": pdf_file.id},
         "notice_posting_photo_invalid"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as refused:
            postings.record_posting(db, compound_id=site.id, notice_id=notice.id,
                                   location="公告栏", actor=site.actor, **kwargs)
        assert refused.value.code == code
    draft = _draft(db, site)
    with pytest.raises(DomainError) as unpublished:
        postings.record_posting(db, compound_id=site.id, notice_id=draft.id,
                               posted_on=date(2026, 3, 2), location="公告栏",
                               photo_file_id=photo.id, actor=site.actor)
    assert unpublished.value.code == "notice_not_published"


# --- the audit trail --------------------------------------------------------------------------


def test_every_change_appends_an_audit_event(db: Session, site: Site) -> None:
    notice = _draft(db, site)
    service.update_draft(db, compound_id=site.id, notice_id=notice.id, actor=site.actor,
                         body="新的正文")
    service.publish(db, compound_id=site.id, notice_id=notice.id, actor=site.actor)
    service.supersede(db, compound_id=site.id, notice_id=notice.id, title="更正", body="更正正文",
                      actor=site.actor)
    service.publish_notice(db, compound_id=site.id, kind=NoticeKind.LEDGER, title="公共收益公示",
                           body="2026年第一季度公共收益如下。", actor=SYSTEM)
    counts = {
        action: count_events(db, site.id, action)
        for action in ("notice.draft_created", "notice.draft_updated", "notice.published")
    }
    assert counts == {"notice.draft_created": 3, "notice.draft_updated": 1, "notice.published": 3}
    # Refused changes leave no event behind.
    with pytest.raises(NoticeImmutable):
        service.update_draft(db, compound_id=site.id, notice_id=notice.id, actor=site.actor,
                             title="x")
    assert count_events(db, site.id, "notice.draft_updated") == 1


def test_a_title_transfer_after_delivery_keeps_the_record_and_needs_a_new_delivery(
    db: Session, site: Site
) -> None:
    notice = _published(db, site, audience_building_ids=[site.buildings["2栋"]])
    notice_delivery.record_paper_delivery(db, compound_id=site.id, notice_id=notice.id,
                                  subject_id=site.subjects["赵六"], actor=site.actor)
    db.commit()
    # 2栋101 passes from 赵六 to 李四 alone: 赵六's subject is retired by the roster rebuild.
    zhao, li = (
        db.execute(select(Owner).where(Owner.compound_id == site.id, Owner.name == name)).scalar_one()
        for name in ("赵六", "李四")
    )
    unit_id = db.execute(select(UnitOwner.unit_id).where(UnitOwner.owner_id == zhao.id)).scalar_one()
    db.execute(delete(UnitOwner).where(UnitOwner.owner_id == zhao.id))
    db.add(UnitOwner(compound_id=site.id, unit_id=unit_id, owner_id=li.id or 0))
    db.flush()
    roster_service.rebuild_subjects(db, compound_id=site.id)
    db.commit()

    kept = db.execute(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id)).scalar_one()
    assert (kept.subject_id, kept.subject_label) == (site.subjects["赵六"], "2栋101")
    status = notice_delivery.delivery_status(db, compound_id=site.id, notice_id=notice.id)
    assert status.reached == []
    assert "2栋101" in [s.label for s in status.not_reached]


def test_kinds_may_be_given_as_text_and_unknown_kinds_are_refused(
    db: Session, site: Site
) -> None:
    notice = service.publish_notice(db, compound_id=site.id, kind="ledger", title="公共收益公示",
                                    body="见附表。", actor=SYSTEM)
    assert notice.kind == NoticeKind.LEDGER
    with pytest.raises(DomainError) as refused:
        service.publish_notice(db, compound_id=site.id, kind="poster", title="t", body="b",
                               actor=SYSTEM)
    assert (refused.value.code, refused.value.status) == ("notice_kind_invalid", 422)
