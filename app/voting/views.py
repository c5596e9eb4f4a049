"""Response views of ballots and their records (personal data minimal and masked).

The presenter layer: it builds the response models of app/voting/responses.py; who may see what
is decided in app/voting/policy.py.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.models import ROLE_LABELS, Role
from app.deps import CompoundAccess
from app.files import service as files_service
from app.privacy import mask_name, mask_phone
from app.roster import service as roster_service
from app.roster.scope import scope_words
from app.spreadsheets import neutralize_formulas, sheet_row
from app.voting import casting, paper, policy, results, rules, service
from app.voting.models import (
    CHANNEL_LABELS,
    Ballot,
    BallotObjection,
    BallotSubject,
    Channel,
    PaperEntry,
    ProxyAuthorization,
    VoteConflict,
    VotingSetting,
)
from app.voting.responses import (
    BallotDetailOut,
    BallotDocumentOut,
    BallotFrozenRulesOut,
    BallotMatterOut,
    BallotMySubjectOut,
    BallotObjectionOut,
    BallotReviewOut,
    BallotRulesOut,
    BallotSummaryOut,
    VoteConflictOut,
    VotePaperEntryHiddenOut,
    VotePaperEntryOut,
    VoteProxyFilerOut,
    VoteProxyOut,
    VoteReceiptOut,
    VotingRunningBallotOut,
    VotingSettingsOut,
    VotingThresholdsOut,
)
from app.voting.settings import BallotRules, ballot_rules, thresholds_levels


def settings_view(session: Session, setting: VotingSetting, *, access: CompoundAccess) -> VotingSettingsOut:
    """The compound's rules, and (to staff) the running ballots that keep the rules of their notice.

    Owners are not shown the list: it would name ballots scoped to other buildings.
    """
    current = BallotRules.of_setting(setting)
    running: list[VotingRunningBallotOut] = []
    ballots = (service.list_ballots(session, compound_id=setting.compound_id, include_drafts=False)
               if _staff(access) else [])
    for ballot in ballots:
        if ballot.published_at is not None or ballot.cancelled_at is not None:
            continue
        frozen = ballot_rules(session, ballot=ballot)
        running.append(VotingRunningBallotOut(
            id=ballot.id or 0, title=ballot.title, status=service.status_of(ballot),
            status_label=service.STATUS_LABELS[service.status_of(ballot)],
            noticed_at=ballot.noticed_at, rules_differ=frozen != current,
            rules=BallotRulesOut(**asdict(frozen)),
        ))
    keeping = [b for b in running if b.rules_differ]
    note = ("修改后的规则只适用于此后发布会议通知的表决；已公告的表决按其会议通知公布的规则进行。"
            + ("以下表决仍按原规则：" + "、".join(f"“{b.title}”" for b in keeping) if keeping else ""))
    return VotingSettingsOut(
        notice_days=setting.notice_days, min_voting_days=setting.min_voting_days,
        max_voting_days=setting.max_voting_days, objection_days=setting.objection_days,
        proxy_limit=setting.proxy_limit, publish_unit_record=setting.publish_unit_record,
        thresholds=VotingThresholdsOut(**thresholds_levels(setting)),
        running_ballots=running,
        applies_to_note=note,
    )


def _is_manager(access: CompoundAccess) -> bool:
    return policy.is_manager(access.roles)


def _staff(access: CompoundAccess) -> bool:
    return policy.is_staff(access.roles)


def _summary_fields(ballot: Ballot, building_names: dict[int, str]) -> dict[str, Any]:
    status = service.status_of(ballot)
    return {
        "id": ballot.id, "title": ballot.title, "status": status,
        "status_label": service.STATUS_LABELS[status],
        "starts_at": ballot.starts_at, "ends_at": ballot.ends_at,
        "noticed_at": ballot.noticed_at, "opened_at": ballot.opened_at, "closed_at": ballot.closed_at,
        "tallied_at": ballot.tallied_at, "objection_ends_at": ballot.objection_ends_at,
        "published_at": ballot.published_at, "notice_id": ballot.notice_id,
        "preliminary_notice_id": ballot.preliminary_notice_id,
        "result_notice_id": ballot.result_notice_id,
        "scope_building_ids": json.loads(ballot.scope_building_ids),
        "cancelled_at": ballot.cancelled_at, "cancel_reason": ballot.cancel_reason,
        "cancel_notice_id": ballot.cancel_notice_id,
        "postponed_at": ballot.postponed_at, "postpone_reason": ballot.postpone_reason,
        "postpone_notice_id": ballot.postpone_notice_id,
        "scope_entrances": json.loads(ballot.scope_entrances),
        "scope_label": scope_words(service.ballot_scope(ballot), building_names),
    }


def _building_names(session: Session, compound_id: int) -> dict[int, str]:
    return {b.id: b.name for b in roster_service.buildings(session, compound_id=compound_id)}


def ballot_summary(ballot: Ballot, building_names: dict[int, str]) -> BallotSummaryOut:
    return BallotSummaryOut(**_summary_fields(ballot, building_names))


def summary_of(session: Session, *, ballot: Ballot) -> BallotSummaryOut:
    """One ballot's summary, its scope named with the compound's buildings."""
    return ballot_summary(ballot, _building_names(session, ballot.compound_id))


def ballot_list(session: Session, *, access: CompoundAccess) -> list[BallotSummaryOut]:
    if _is_manager(access):
        ballots = service.list_ballots(session, compound_id=access.compound_id, include_drafts=True)
    elif _staff(access):
        ballots = service.list_ballots(session, compound_id=access.compound_id, include_drafts=False)
    else:
        ballots = [
            b for b in service.list_ballots(session, compound_id=access.compound_id, include_drafts=False)
            if policy.ballot_visible(session, ballot=b, access=access)
        ]
        if not access.owner_ids:  # a proxy, not an owner: only the ballots it is a proxy for
            live = casting.live_proxy_ballot_ids(session, compound_id=access.compound_id,
                                                 phone=access.principal.user.phone)
            ballots = [b for b in ballots if b.id in live]
    names = _building_names(session, access.compound_id)
    return [ballot_summary(b, names) for b in ballots]


def ballot_detail(session: Session, *, ballot: Ballot, access: CompoundAccess) -> BallotDetailOut:
    cands = service.candidates_by_matter(session, ballot_id=ballot.id or 0)
    # The rules this ballot is decided by: fixed by its notice (a draft shows the current ones).
    frozen = ballot_rules(session, ballot=ballot)
    settings = frozen.rule_settings()
    matters = service.list_matters(session, ballot_id=ballot.id or 0)
    docs = _documents(session, ballot.compound_id,
                      [i for m in matters for i in json.loads(m.document_file_ids)])
    phone = access.principal.user.phone
    mine = []
    for v in casting.voter_subjects(session, ballot=ballot, phone=phone):
        mine.append(_my_subject(session, ballot, v.subject_id, "owner" if v.is_representative else "co_owner"))
    for p in casting.proxy_subjects(session, ballot=ballot, phone=phone):
        mine.append(_my_subject(session, ballot, p.subject_id, "proxy"))
    return BallotDetailOut(
        **_summary_fields(ballot, _building_names(session, ballot.compound_id)),
        description=ballot.description,
        total_area_hundredths=ballot.total_area_hundredths,
        total_headcount=ballot.total_headcount,
        rules=BallotFrozenRulesOut(**asdict(frozen), frozen=bool(ballot.settings_json)),
        matters=[
            BallotMatterOut(
                id=m.id or 0, position=m.position, title=m.title, description=m.description,
                category=m.category, category_label=rules.Category(m.category).label,
                needs_special_majority=rules.Category(m.category).needs_special_majority,
                seats=m.seats,
                candidates=[{"id": c.id, "name": c.name, "intro": c.intro} for c in cands[m.id or 0]],
                affected_building_ids=json.loads(m.affected_building_ids),
                affected_entrances=json.loads(m.affected_entrances),
                document_file_ids=json.loads(m.document_file_ids),
                documents=[docs[i] for i in json.loads(m.document_file_ids) if i in docs],
                rule_text=rules.rule_text(rules.Category(m.category), settings, seats=m.seats),
            )
            for m in matters
        ],
        my_subjects=mine,
        can_vote=service.status_of(ballot) == "open" and any(s.may_vote for s in mine),
        **(_committee_fields(session, ballot) if _is_manager(access) else {}),
    )


def _committee_fields(session: Session, ballot: Ballot) -> dict[str, Any]:
    """The review status of the matters (before notice, and while it may still open) and the
    scheduler's recorded problem."""
    review = ([BallotReviewOut(**row) for row in service.review_report(session, ballot)]
              if ballot.opened_at is None and ballot.cancelled_at is None else [])
    return {"review": review, "schedule_problem": ballot.schedule_problem,
            "schedule_problem_at": ballot.schedule_problem_at}


def _documents(session: Session, compound_id: int, ids: list[int]) -> dict[int, BallotDocumentOut]:
    """Names and types of the matters' documents (the files themselves stay behind /files)."""

    if not ids:
        return {}
    return {
        file_id: BallotDocumentOut(id=file_id, file_name=f.file_name, content_type=f.content_type,
                                   size_bytes=f.size_bytes)
        for file_id, f in files_service.files_by_id(session, compound_id=compound_id, file_ids=ids).items()
    }


def _my_subject(session: Session, ballot: Ballot, subject_id: int, as_: str) -> BallotMySubjectOut:
    s = session.get(BallotSubject, (ballot.id, subject_id))
    return BallotMySubjectOut(
        subject_id=subject_id, label=s.label if s else "", as_=as_,
        may_vote=as_ in ("owner", "proxy"),
        voted=bool(s and s.effective_cast_id),
        voted_channel=s.effective_channel if s else None,
    )


def proxies(session: Session, *, ballot: Ballot) -> list[ProxyAuthorization]:
    return list(session.execute(select(ProxyAuthorization).where(ProxyAuthorization.ballot_id == ballot.id)
                                .order_by(ProxyAuthorization.id)).scalars())


def _subject_label(session: Session, ballot_id: int, subject_id: int) -> str:
    s = session.get(BallotSubject, (ballot_id, subject_id))
    return s.label if s else f"表决主体{subject_id}"


def proxy_view(session: Session, p: ProxyAuthorization) -> VoteProxyOut:
    state = "accepted" if p.accepted_at else ("rejected" if p.rejected_at else "pending")
    frozen = session.get(BallotSubject, (p.ballot_id, p.subject_id))
    live = None if frozen else roster_service.subject_voters(session, compound_id=p.compound_id,
                                                           subject_id=p.subject_id)
    label = frozen.label if frozen else (live.label if live else f"表决主体{p.subject_id}")
    return VoteProxyOut(
        id=p.id or 0, subject_id=p.subject_id, subject_label=label,
        proxy_name_masked=mask_name(p.proxy_name),
        proxy_phone_masked=mask_phone(p.proxy_phone), document_file_id=p.document_file_id,
        submitted_at=p.submitted_at, submitted_by=_filer(session, p), state=state,
        accepted_at=p.accepted_at, rejected_at=p.rejected_at,
        rejection_reason=p.rejection_reason)


def _filer(session: Session, p: ProxyAuthorization) -> VoteProxyFilerOut:
    """Who filed the authorization, masked: an owner by their own flats, staff by their role."""
    account = auth_service.get_account(session, user_id=p.submitted_by)
    role = p.submitted_role
    phone = account.phone if account else None
    units = roster_service.unit_labels_for_phone(session, compound_id=p.compound_id, phone=phone)
    if role == Role.OWNER.value or (role is None and units):
        label = "业主本人：" + (roster_service.units_text(units) if units else "（已不在业主名册中）")
    else:
        name = mask_name(account.display_name) if account else ""
        label = f"{ROLE_LABELS.get(Role(role), role) if role else '工作人员'}代为登记：{name}"
    return VoteProxyFilerOut(role=role, label=label, phone_masked=mask_phone(phone))


def paper_entries(session: Session, *, ballot: Ballot) -> list[PaperEntry]:
    return list(session.execute(select(PaperEntry).where(PaperEntry.ballot_id == ballot.id)
                                .order_by(PaperEntry.id)).scalars())


def paper_list(session: Session, *, ballot: Ballot,
               access: CompoundAccess) -> list[VotePaperEntryOut | VotePaperEntryHiddenOut]:
    """Paper ballots entered so far. Choices stay hidden until the close (DOMAIN §3) from all but
    the committee, who type them in and check each other's entries."""
    show_choices = Role.COMMITTEE in access.roles or ballot.closed_at is not None
    out: list[VotePaperEntryOut | VotePaperEntryHiddenOut] = []
    for entry in paper_entries(session, ballot=ballot):
        fields = _paper_fields(entry)
        out.append(VotePaperEntryOut(**fields) if show_choices
                   else VotePaperEntryHiddenOut(**{**fields, "choices": None, "choices_hidden": True}))
    return out


def _paper_fields(e: PaperEntry) -> dict[str, Any]:
    state = "confirmed" if e.confirmed_at else ("rejected" if e.rejected_at else "pending")
    return {"id": e.id, "subject_id": e.subject_id, "choices": json.loads(e.choices_json),
            "scan_file_id": e.scan_file_id, "entered_by": e.entered_by, "entered_at": e.entered_at,
            "confirmed_by": e.confirmed_by, "confirmed_at": e.confirmed_at, "state": state,
            "counted": e.cast_id is not None, "rejection_reason": e.rejection_reason}


def paper_view(e: PaperEntry) -> VotePaperEntryOut:
    return VotePaperEntryOut(**_paper_fields(e))


def conflict_view(session: Session, c: VoteConflict) -> VoteConflictOut:
    existing = session.get(BallotSubject, (c.ballot_id, c.subject_id))
    return VoteConflictOut(
        id=c.id or 0, subject_id=c.subject_id, label=_subject_label(session, c.ballot_id, c.subject_id),
        existing_cast_id=c.existing_cast_id,
        existing_channel=existing.effective_channel if existing else None,
        incoming_channel=c.incoming_channel,
        incoming_channel_label=CHANNEL_LABELS[Channel(c.incoming_channel)],
        created_at=c.created_at, resolved_at=c.resolved_at, resolution=c.resolution,
        note=c.note)


def objection_view(o: BallotObjection) -> BallotObjectionOut:
    return BallotObjectionOut(id=o.id or 0, subject_id=o.subject_id, text=o.text, raised_at=o.raised_at,
                              answer=o.answer, answered_at=o.answered_at)


def vote_receipt(cast: casting.RecordedCast) -> VoteReceiptOut:
    """The answer to a vote: its receipt (the code, and where it sits in the audit chain)."""
    receipt = casting.receipt_of(cast)
    return VoteReceiptOut(receipt_code=receipt.code, receipt_short=receipt.short_code,
                          audit_seq=receipt.audit_seq,
                          audit_hash=receipt.audit_hash, cast_at=receipt.cast_at,
                          cast_id=receipt.cast_id, channel=cast.channel)


def tally_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "计票数据"
    ws.append(["表决主体", "房屋", "专有面积(0.01㎡)", "方式", "事项", "选择", "同意的候选人"])
    for s in data["subjects"]:
        for m in data["matters"]:
            value = (s["choices"] or {}).get(str(m["matter_id"]))
            approve = ";".join(str(c) for c in value["approve"]) if isinstance(value, dict) else ""
            ws.append(sheet_row([s["subject_id"], s["label"], s["area_hundredths"], s["channel"] or "未投票",
                       m["title"], "选举" if isinstance(value, dict) else (value or ""), approve]))
    neutralize_formulas(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# The tally inputs as a file, for the ballot's route and the agenda item's (format gongjue-tally/1).
TallyFormat = Annotated[str, Query(pattern="^(json|csv|xlsx)$")]
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TALLY_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "the tally inputs as a file (format gongjue-tally/1)",
    "content": {"application/json": {}, "text/csv": {}, XLSX_MEDIA: {}}}}


def tally_file(session: Session, *, ballot: Ballot, format: str) -> Response:
    """Tally inputs for an independent recount, as JSON, CSV or XLSX, offered as a download."""
    data = results.tally_inputs(session, ballot=ballot)
    if format == "csv":
        body, media = ("\ufeff" + results.tally_csv(data)).encode("utf-8"), "text/csv; charset=utf-8"
    elif format == "xlsx":
        body, media = tally_xlsx(data), XLSX_MEDIA
    else:
        body = json.dumps(data, ensure_ascii=False, default=str, indent=1).encode("utf-8")
        media = "application/json"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="tally-{ballot.id}.{format}"'})


def paper_standing(standing: paper.Standing) -> dict[str, Any]:
    out = asdict(standing)
    out["area"] = rules.format_area(out.pop("area_hundredths"))
    return out


def download(content: bytes, *, media_type: str, ascii_name: str, name: str) -> Response:
    """A generated file offered as a download under its Chinese name (ASCII for old browsers)."""
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
