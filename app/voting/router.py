"""HTTP for ballots: committee lifecycle, owners' votes, proxies, paper, results and exports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from app.auth.models import Role
from app.auth.roles import COMMITTEE, MANAGERS, OWNERS, STAFF, WATCHERS
from app.clock import now
from app.deps import (
    AccessSession,
    CompoundAccess,
    CurrentPrincipal,
    SessionDep,
    access_in_one_step,
    compound_access,
)
from app.errors import Forbidden, NotFound
from app.notify.schemas import DeliveryCountsOut, ReminderPreviewOut, ReminderSentOut
from app.voting import (
    announce,
    casting,
    lifecycle,
    paper,
    paper_print,
    policy,
    results,
    service,
    views,
)
from app.voting import settings as voting_settings
from app.voting.responses import (
    BallotDetailOut,
    BallotNonVoterPage,
    BallotObjectionOut,
    BallotProgressOut,
    BallotReceiptCheckOut,
    BallotReceiptCodesOut,
    BallotResultsOut,
    BallotSummaryOut,
    BallotTurnoutOut,
    BallotUnitRecordOut,
    VoteConflictOut,
    VotePaperEntryHiddenOut,
    VotePaperEntryOut,
    VotePaperStandingOut,
    VoteProxyOut,
    VoteReceiptOut,
    VoteSubjectRecordOut,
    VotingSettingsOut,
)
from app.voting.schemas import (
    AnswerIn,
    BallotIn,
    NoticeIn,
    ObjectionIn,
    PaperIn,
    PostponeIn,
    ProxyIn,
    ReasonIn,
    ResolveIn,
    VoteIn,
    VotingSettingsIn,
)

router = APIRouter(tags=["voting"])

Manager = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
# Paper ballots are typed in and confirmed by committee members themselves.
Committee = Annotated[CompoundAccess, Depends(compound_access(*COMMITTEE))]
Watcher = Annotated[
    CompoundAccess,
    Depends(compound_access(*WATCHERS)),
]


def _or_proxy(base: Callable[..., CompoundAccess]) -> Callable[..., CompoundAccess]:
    """Let people holding an accepted proxy through as voters (role owner, no owner ids), only
    for the ballots they hold it for and only until those ballots close."""

    def dependency(
        request: Request, principal: CurrentPrincipal, session: SessionDep,
        compound_id: Annotated[int, Path(ge=1)],
    ) -> CompoundAccess:
        try:
            return base(principal, session, compound_id)
        except Forbidden:
            live = casting.live_proxy_ballot_ids(session, compound_id=compound_id,
                                                 phone=principal.user.phone)
            ballot_id = request.path_params.get("ballot_id")
            if not live or (ballot_id is not None and not (str(ballot_id).isdigit()
                                                           and int(ballot_id) in live)):
                raise
            return CompoundAccess(principal=principal, compound_id=compound_id, role=Role.OWNER,
                                  roles=frozenset({Role.OWNER}))

    return dependency


Member = Annotated[
    CompoundAccess,
    Depends(_or_proxy(compound_access(*STAFF, *OWNERS))),
]
_voter = _or_proxy(compound_access(*OWNERS))
Voter = Annotated[CompoundAccess, Depends(_voter)]
# The vote route's session, authentication and voter check in one dependency (one thread hop).
VoterSession = Annotated[AccessSession, Depends(access_in_one_step(_voter), scope="function")]
OwnerOrManager = Annotated[
    CompoundAccess, Depends(compound_access(*MANAGERS, *OWNERS))
]
B = "/compounds/{compound_id}/ballots/{ballot_id}"
NON_VOTER_SORT_PATTERN = "^-?(" + "|".join(results.NON_VOTER_SORTS) + ")$"


def _specs(body: BallotIn) -> list[service.MatterSpec]:
    return [
        service.MatterSpec(
            title=m.title, category=m.category, description=m.description, seats=m.seats,
            candidates=tuple(service.CandidateSpec(c.name, c.intro) for c in m.candidates),
            affected_building_ids=tuple(m.affected_building_ids),
            affected_entrances=tuple((e.building_id, e.entrance) for e in m.affected_entrances),
            document_file_ids=tuple(m.document_file_ids),
        )
        for m in body.matters
    ]


def _ballot(session, access: CompoundAccess, ballot_id: int, lock: bool = False):
    ballot = service.get_ballot(session, compound_id=access.compound_id, ballot_id=ballot_id, lock=lock)
    if ballot.deleted_at is not None:  # a deleted draft is gone for every ballot route
        raise NotFound("表决不存在", code="ballot_not_found")
    policy.check_visible(session, ballot=ballot, access=access)
    return ballot


@router.get("/compounds/{compound_id}/voting/settings")
def get_settings(access: Member, session: SessionDep) -> VotingSettingsOut:
    return views.settings_view(session, voting_settings.get_settings(session, compound_id=access.compound_id),
                               access=access)


@router.put("/compounds/{compound_id}/voting/settings")
def put_settings(body: VotingSettingsIn, access: Manager, session: SessionDep) -> VotingSettingsOut:
    setting = voting_settings.update_settings(
        session, compound_id=access.compound_id, changes=body.model_dump(exclude_unset=True),
        actor=access.actor)
    return views.settings_view(session, setting, access=access)


@router.post("/compounds/{compound_id}/ballots", status_code=201)
def create_ballot(body: BallotIn, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = service.create_ballot(
        session, compound_id=access.compound_id, title=body.title, description=body.description,
        starts_at=body.starts_at, ends_at=body.ends_at, scope_building_ids=body.scope_building_ids,
        scope_entrances=[(e.building_id, e.entrance) for e in body.scope_entrances],
        matters=_specs(body), actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.get("/compounds/{compound_id}/ballots")
def list_ballots(access: Member, session: SessionDep) -> list[BallotSummaryOut]:
    return views.ballot_list(session, access=access)


@router.get(B)
def get_ballot(ballot_id: int, access: Member, session: SessionDep) -> BallotDetailOut:
    return views.ballot_detail(session, ballot=_ballot(session, access, ballot_id), access=access)


@router.put(B)
def update_ballot(ballot_id: int, body: BallotIn, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = service.update_draft(
        session, ballot=_ballot(session, access, ballot_id, lock=True), title=body.title,
        description=body.description, starts_at=body.starts_at, ends_at=body.ends_at,
        scope_building_ids=body.scope_building_ids,
        scope_entrances=[(e.building_id, e.entrance) for e in body.scope_entrances],
        matters=_specs(body), actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.delete(B)
def delete_draft(ballot_id: int, access: Manager, session: SessionDep) -> BallotSummaryOut:
    """Delete a draft (never noticed): hidden from every list, kept for the audit trail."""
    ballot = lifecycle.delete_draft(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                    actor=access.actor)
    return views.summary_of(session, ballot=ballot)


@router.post(B + "/cancel")
def cancel_ballot(ballot_id: int, body: ReasonIn, access: Manager, session: SessionDep) -> BallotDetailOut:
    """Cancel a noticed or open ballot: a notice states the reason; votes kept, never counted."""
    ballot = lifecycle.cancel_ballot(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                     reason=body.reason, actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.post(B + "/postpone")
def postpone_ballot(ballot_id: int, body: PostponeIn, access: Manager, session: SessionDep) -> BallotDetailOut:
    """Move the voting period later: a notice states the reason; the notice period runs again."""
    ballot = lifecycle.postpone_ballot(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                       reason=body.reason, starts_at=body.starts_at, ends_at=body.ends_at,
                                       actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.post(B + "/notice")
def publish_notice(ballot_id: int, body: NoticeIn, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = service.publish_notice(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                    actor=access.actor, extra_body=body.extra_body)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.post(B + "/open")
def open_ballot(ballot_id: int, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = service.open_ballot(session, ballot=_ballot(session, access, ballot_id, lock=True), actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.post(B + "/votes", status_code=201)
def vote(ballot_id: int, body: VoteIn, voter: VoterSession) -> VoteReceiptOut:
    """Vote or change the vote; the answer is the receipt."""
    access, session = voter.access, voter.session
    ballot, matters = service.get_ballot_with_matters(session, compound_id=access.compound_id,
                                                      ballot_id=ballot_id)
    policy.check_visible(session, ballot=ballot, access=access)
    cast = casting.cast_vote(session, ballot=ballot, subject_id=body.subject_id,
                             user=access.principal.user, raw_choices=body.choices, matters=matters)
    # Commit here, in this thread: the compound's audit-chain lock is released now rather than
    # after another thread-pool hop (the session dependency's commit is then a no-op).
    session.commit()
    return views.vote_receipt(cast)


@router.get(B + "/my-votes", response_model=list[VoteSubjectRecordOut])
def my_votes(ballot_id: int, access: Voter, session: SessionDep) -> list[dict[str, Any]]:
    """查票: the caller's own recorded votes and receipts."""
    ballot = _ballot(session, access, ballot_id)
    return results.my_votes(session, ballot=ballot, phone=access.principal.user.phone)


@router.get(B + "/progress", response_model=BallotProgressOut)
def progress(ballot_id: int, access: Watcher, session: SessionDep) -> dict[str, Any]:
    return results.progress(session, ballot=_ballot(session, access, ballot_id))


@router.get(B + "/turnout", response_model=BallotTurnoutOut)
def turnout(ballot_id: int, access: Member, session: SessionDep) -> dict[str, Any]:
    """Participation so far by area and headcount against the quorum (from opening; no choices)."""
    return results.turnout(session, ballot=_ballot(session, access, ballot_id))


@router.get(B + "/non-voters", response_model=BallotNonVoterPage)
def non_voters(
    ballot_id: int, access: Manager, session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100,
    building: Annotated[str | None, Query(max_length=50)] = None,
    entrance: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=30)] = None,
    sort: Annotated[str, Query(pattern=NON_VOTER_SORT_PATTERN)] = "roster",
) -> dict[str, Any]:
    """Subjects that have not voted (building and room only), filtered and ordered; with the
    buildings (and, for a building, the entrances) there are to filter by."""
    total, items, facets = results.non_voters(
        session, ballot=_ballot(session, access, ballot_id), offset=offset, limit=limit,
        building=building, entrance=entrance, query=q, sort=sort,
    )
    return {"total": total, "items": items, **facets}


@router.post(B + "/proxies", status_code=201)
def submit_proxy(ballot_id: int, body: ProxyIn, access: OwnerOrManager, session: SessionDep) -> VoteProxyOut:
    ballot = _ballot(session, access, ballot_id)
    proxy = casting.submit_proxy(
        session, ballot=ballot, subject_id=body.subject_id, proxy_name=body.proxy_name,
        proxy_phone=body.proxy_phone, document_file_id=body.document_file_id, actor=access.actor,
        filer_phone=access.principal.user.phone)
    return views.proxy_view(session, proxy)


@router.get(B + "/proxies")
def list_proxies(ballot_id: int, access: Watcher, session: SessionDep) -> list[VoteProxyOut]:
    return [views.proxy_view(session, p) for p in views.proxies(session, ballot=_ballot(session, access, ballot_id))]


@router.post(B + "/proxies/{proxy_id}/accept")
def accept_proxy(ballot_id: int, proxy_id: int, access: Manager, session: SessionDep) -> VoteProxyOut:
    ballot = _ballot(session, access, ballot_id)
    return views.proxy_view(session, casting.accept_proxy(session, ballot=ballot, proxy_id=proxy_id,
                                                          actor=access.actor))


@router.post(B + "/proxies/{proxy_id}/reject")
def reject_proxy(ballot_id: int, proxy_id: int, body: ReasonIn, access: Manager,
                 session: SessionDep) -> VoteProxyOut:
    ballot = _ballot(session, access, ballot_id)
    return views.proxy_view(session, casting.reject_proxy(session, ballot=ballot, proxy_id=proxy_id,
                                                          reason=body.reason, actor=access.actor))


@router.post(B + "/paper", status_code=201)
def enter_paper(ballot_id: int, body: PaperIn, access: Committee, session: SessionDep) -> VotePaperEntryOut:
    entry = casting.enter_paper(session, ballot=_ballot(session, access, ballot_id), subject_id=body.subject_id,
                                raw_choices=body.choices, scan_file_id=body.scan_file_id, actor=access.actor)
    return views.paper_view(entry)


@router.get(B + "/paper")
def list_paper(ballot_id: int, access: Watcher,
               session: SessionDep) -> list[VotePaperEntryOut | VotePaperEntryHiddenOut]:
    return views.paper_list(session, ballot=_ballot(session, access, ballot_id), access=access)


@router.get(B + "/paper-lookup", response_model=VotePaperStandingOut)
def paper_lookup(
    ballot_id: int, access: Committee, session: SessionDep,
    serial: Annotated[str, Query(max_length=200, description="表决票编号（或扫码所得文字）")] = "",
    subject_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Before typing a paper ballot in: the subject its serial names (or the chosen subject), and
    whether it already has a vote or a paper ballot waiting, with what a new entry will do."""
    ballot = _ballot(session, access, ballot_id)
    if serial.strip():
        subject_id = paper.subject_of_serial(session, ballot=ballot, text=serial)
    elif subject_id is None:
        raise paper.SerialInvalid("请输入表决票编号或选择房屋", code="paper_serial_invalid")
    return views.paper_standing(paper.standing(session, ballot=ballot, subject_id=subject_id))


@router.get(B + "/paper-ballots", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def paper_ballots_pdf(ballot_id: int, access: Manager, session: SessionDep) -> Response:
    """One pre-filled paper ballot per voting subject (A4 PDF, rendered once per ballot version)."""
    ballot = _ballot(session, access, ballot_id)
    content = paper_print.paper_ballots_pdf(paper.paper_ballots(session, ballot=ballot),
                                            compound_id=access.compound_id)
    return views.download(content, media_type="application/pdf",
                          ascii_name=f"paper-ballots-{ballot_id}.pdf", name=f"书面表决票-{ballot_id}.pdf")


@router.get(B + "/non-voters/worklist", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, views.XLSX_MEDIA: {}}}})
def non_voter_worklist(
    ballot_id: int, access: Manager, session: SessionDep,
    format: Annotated[str, Query(pattern="^(pdf|xlsx)$")] = "pdf",
) -> Response:
    """The door-to-door worklist (扫楼) of flats not yet voted, by building and entrance."""
    data = paper.worklist(session, ballot=_ballot(session, access, ballot_id), at=now())
    if format == "xlsx":
        return views.download(paper_print.worklist_xlsx(data), media_type=views.XLSX_MEDIA,
                              ascii_name=f"worklist-{ballot_id}.xlsx", name=f"未投票户上门名单-{ballot_id}.xlsx")
    return views.download(paper_print.render_worklist(data), media_type="application/pdf",
                          ascii_name=f"worklist-{ballot_id}.pdf", name=f"未投票户上门名单-{ballot_id}.pdf")


@router.post(B + "/paper/{entry_id}/confirm")
def confirm_paper(ballot_id: int, entry_id: int, access: Committee, session: SessionDep) -> VotePaperEntryOut:
    entry = casting.confirm_paper(session, ballot=_ballot(session, access, ballot_id), entry_id=entry_id,
                                  actor=access.actor)
    return views.paper_view(entry)


@router.post(B + "/paper/{entry_id}/reject")
def reject_paper(ballot_id: int, entry_id: int, body: ReasonIn, access: Manager,
                 session: SessionDep) -> VotePaperEntryOut:
    entry = casting.reject_paper(session, ballot=_ballot(session, access, ballot_id), entry_id=entry_id,
                                 reason=body.reason, actor=access.actor)
    return views.paper_view(entry)


@router.get(B + "/conflicts")
def list_conflicts(ballot_id: int, access: Watcher, session: SessionDep) -> list[VoteConflictOut]:
    ballot = _ballot(session, access, ballot_id)
    return [views.conflict_view(session, c) for c in casting.list_conflicts(session, ballot=ballot)]


@router.post(B + "/conflicts/{conflict_id}/resolve")
def resolve_conflict(ballot_id: int, conflict_id: int, body: ResolveIn, access: Manager,
                     session: SessionDep) -> VoteConflictOut:
    c = casting.resolve_conflict(session, ballot=_ballot(session, access, ballot_id), conflict_id=conflict_id,
                                 accept_incoming=body.accept_incoming, note=body.note, actor=access.actor)
    return views.conflict_view(session, c)


@router.post(B + "/close")
def close_ballot(ballot_id: int, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = results.close_ballot(session, ballot=_ballot(session, access, ballot_id, lock=True), actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.get(B + "/results", response_model=BallotResultsOut)
def get_results(ballot_id: int, access: Member, session: SessionDep) -> dict[str, Any]:
    ballot = _ballot(session, access, ballot_id)
    return results.results_view(session, ballot=ballot)


@router.post(B + "/objections", status_code=201)
def raise_objection(ballot_id: int, body: ObjectionIn, access: Voter, session: SessionDep) -> BallotObjectionOut:
    obj = results.raise_objection(session, ballot=_ballot(session, access, ballot_id),
                                  phone=access.principal.user.phone, user_id=access.user_id,
                                  subject_id=body.subject_id, text=body.text)
    return views.objection_view(obj)


@router.get(B + "/objections")
def list_objections(ballot_id: int, access: Member, session: SessionDep) -> list[BallotObjectionOut]:
    ballot = _ballot(session, access, ballot_id)
    # Owners and clerks see their own objections; the committee and watchers see all.
    own_only = access.role in (Role.OWNER, Role.CLERK)
    items = results.list_objections(session, ballot=ballot,
                                    raised_by=access.user_id if own_only else None)
    return [views.objection_view(o) for o in items]


@router.post(B + "/objections/{objection_id}/answer")
def answer_objection(ballot_id: int, objection_id: int, body: AnswerIn, access: Manager,
                     session: SessionDep) -> BallotObjectionOut:
    obj = results.answer_objection(session, ballot=_ballot(session, access, ballot_id),
                                   objection_id=objection_id, answer=body.answer, actor=access.actor)
    return views.objection_view(obj)


@router.post(B + "/publish")
def publish(ballot_id: int, access: Manager, session: SessionDep) -> BallotDetailOut:
    ballot = results.publish_result(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                    actor=access.actor)
    return views.ballot_detail(session, ballot=ballot, access=access)


@router.get(B + "/messages", response_model=DeliveryCountsOut)
def message_counts(ballot_id: int, access: Manager, session: SessionDep) -> dict[str, int]:
    """SMS about this ballot (opening, reminders, result) by delivery status."""
    return announce.delivery_counts(session, ballot=_ballot(session, access, ballot_id))


@router.get(B + "/reminder", response_model=ReminderPreviewOut)
def reminder_preview(ballot_id: int, access: Manager, session: SessionDep) -> ReminderPreviewOut:
    """What a reminder to the owners of subjects that have not voted would send, and its cost."""
    preview, sent_today = announce.reminder_preview(session, ballot=_ballot(session, access, ballot_id))
    return ReminderPreviewOut(**dataclasses.asdict(preview), sent_today=sent_today)


@router.post(B + "/reminder", response_model=ReminderSentOut)
def send_reminder(ballot_id: int, access: Manager, session: SessionDep) -> ReminderSentOut:
    """Send the reminder (at most once per ballot per calendar day: 409 otherwise)."""
    result = announce.send_reminder(session, ballot=_ballot(session, access, ballot_id, lock=True),
                                    actor=access.actor)
    return ReminderSentOut(queued=result.queued, skipped=sum(result.skipped.values()))


@router.get(B + "/receipts")
def receipts(ballot_id: int, access: Member, session: SessionDep) -> BallotReceiptCodesOut:
    """The public list of receipt codes of counted votes (after publication)."""
    ballot = _ballot(session, access, ballot_id)
    codes = results.public_receipt_codes(session, ballot=ballot)
    return BallotReceiptCodesOut(ballot_id=ballot.id or 0, count=len(codes), receipt_codes=codes,
                                 short_codes=results.public_short_codes(session, ballot=ballot))


@router.get(B + "/receipts/check", response_model=BallotReceiptCheckOut)
def check_receipt(
    ballot_id: int, access: Member, session: SessionDep,
    receipt: Annotated[str, Query(max_length=64, description="回执码（短码或完整回执）")] = "",
) -> dict[str, Any]:
    """Is this receipt counted? The short code or the full receipt, any case, with or without
    dashes and spaces (after publication, like the public list). The ballot is looked up first,
    so another compound's ballot is "not found" whatever the code; an empty code is malformed."""
    return results.check_receipt(session, ballot=_ballot(session, access, ballot_id), code=receipt)


@router.get(B + "/unit-record")
def unit_record(ballot_id: int, access: Member, session: SessionDep) -> list[BallotUnitRecordOut]:
    ballot = _ballot(session, access, ballot_id)
    return [BallotUnitRecordOut(label=r["label"], choices=r["choices"], channel=r["channel"])
            for r in results.unit_record(session, ballot=ballot)]


@router.get(B + "/tally-inputs", response_class=Response, responses=views.TALLY_FILE_RESPONSES)
def tally_inputs(
    ballot_id: int, access: Watcher, session: SessionDep, format: views.TallyFormat = "json",
) -> Response:
    """Tally inputs for an independent recount: `python -m app.voting recount tally-<id>.json`."""
    return views.tally_file(session, ballot=_ballot(session, access, ballot_id), format=format)
