"""HTTP for procedures: settings and templates, agenda items and their steps, observers, the
owners' timeline, and the reviewer's queue across compounds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from app.audit import service as audit_service
from app.auth.roles import is_staff
from app.db import new_session
from app.deps import CurrentPrincipal, SessionDep
from app.errors import NotFound
from app.notices import service as notices_service
from app.procedures import (
    adoption,
    agenda,
    flow,
    observers,
    policy,
    queue,
    reading,
    resolution,
    views,
)
from app.procedures.dependencies import (
    Actor,
    Appointer,
    ItemActor,
    ItemAppointer,
    ItemBallotKeeper,
    ItemMember,
    ItemObserverOnly,
    ItemReader,
    ItemWatcher,
    Member,
    SettingsKeeper,
    Staff,
    caller_of,
)
from app.procedures.schemas import (
    AgendaAuditOut,
    AgendaItemRecordOut,
    AgendaItemSummaryOut,
    AgendaTimelineOut,
    DecisionIn,
    LinkableBallotOut,
    LinkIn,
    ObservationIn,
    ObserverIn,
    ProcedureObserverAppointedOut,
    ProcedureObserverOut,
    ProcedureObserverRevokedOut,
    ProcedureSettingsIn,
    ProcedureSettingsOut,
    ProcedureTemplateIn,
    ProcedureTemplateOut,
    ProposalIn,
    PublicationIn,
    ReviewerQueueOut,
    RevisionIn,
)
from app.voting import results as voting_results
from app.voting import views as voting_views
from app.voting.responses import BallotProgressOut

router = APIRouter(tags=["procedures"])
P = "/compounds/{compound_id}/procedures"
ITEM = P + "/items/{item_id}"


def _item(session, access, item_id: int, lock: bool = False):
    return agenda.get_item(session, compound_id=access.compound_id, item_id=item_id, lock=lock)


def _record(session, access, item) -> AgendaItemRecordOut:
    return views.item_record(session, item=item, roles=access.roles)


# --- settings and templates ---------------------------------------------------------------------


@router.get(P + "/settings")
def get_settings(access: Member, session: SessionDep) -> ProcedureSettingsOut:
    return views.settings_out(session, compound_id=access.compound_id)


@router.put(P + "/settings")
def put_settings(body: ProcedureSettingsIn, access: SettingsKeeper, session: SessionDep) -> ProcedureSettingsOut:
    adoption.update_settings(session, compound_id=access.compound_id, template_key=body.template_key,
                            extra_major=body.extra_major_matters, caller=caller_of(access), actor=access.actor)
    return views.settings_out(session, compound_id=access.compound_id)


@router.get(P + "/templates")
def list_templates(access: Member, session: SessionDep) -> list[ProcedureTemplateOut]:
    return [views.template_out(t) for t in adoption.list_templates(session, compound_id=access.compound_id)]


@router.post(P + "/templates", status_code=201)
def add_template(body: ProcedureTemplateIn, access: SettingsKeeper, session: SessionDep) -> ProcedureTemplateOut:
    """Add the compound's own template (data, checked for shape and order)."""
    t = adoption.add_template(session, compound_id=access.compound_id, data=body.model_dump(), actor=access.actor)
    return views.template_out(t)


# --- items ---------------------------------------------------------------------------------------


@router.get(P + "/items")
def list_items(
    access: Member, session: SessionDep, waiting_for_me: Annotated[bool, Query()] = False,
) -> list[AgendaItemSummaryOut]:
    """Staff see every item; owners see the major matters that passed review (the timeline)."""
    staff = is_staff(access.roles)
    items = reading.list_items(session, compound_id=access.compound_id, public_only=not staff)
    if waiting_for_me:
        held = {r.value for r in access.roles}
        items = [i for i in items if held & set(agenda.waiting_roles(i))]
    return [views.summary_out(i) for i in items]


@router.post(P + "/items", status_code=201)
def propose(body: ProposalIn, access: Actor, session: SessionDep) -> AgendaItemRecordOut:
    item = flow.propose(
        session, compound_id=access.compound_id, title=body.title, text=body.text,
        matter_type=body.matter_type, category=body.category, proposer_body=body.proposer_body,
        document_file_ids=body.document_file_ids, caller=caller_of(access))
    return _record(session, access, item)


@router.get(ITEM)
def get_item(item_id: int, access: ItemReader, session: SessionDep) -> AgendaItemRecordOut:
    """The full procedure record (staff and observers)."""
    return _record(session, access, _item(session, access, item_id))


@router.post(ITEM + "/revisions", status_code=201)
def resubmit(item_id: int, body: RevisionIn, access: ItemActor, session: SessionDep) -> AgendaItemRecordOut:
    item = flow.resubmit(session, item=_item(session, access, item_id, lock=True), title=body.title,
                            text=body.text, note=body.note, document_file_ids=body.document_file_ids,
                            caller=caller_of(access))
    return _record(session, access, item)


@router.post(ITEM + "/decisions", status_code=201)
def decide(item_id: int, body: DecisionIn, access: ItemActor, session: SessionDep) -> AgendaItemRecordOut:
    decision = flow.Decision(action=body.action, opinion=body.opinion, meeting_date=body.meeting_date,
                                attendees=tuple(body.attendees), file_ids=tuple(body.file_ids))
    item = flow.decide(session, item=_item(session, access, item_id, lock=True), step_key=body.step_key,
                          decision=decision, caller=caller_of(access))
    return _record(session, access, item)


@router.get(ITEM + "/linkable-ballots")
def linkable_ballots(item_id: int, access: ItemBallotKeeper, session: SessionDep) -> list[LinkableBallotOut]:
    """The compound's ballots and their matters, to pick the one that resolves this item."""
    return [LinkableBallotOut.model_validate(b)
            for b in resolution.linkable_ballots(session, item=_item(session, access, item_id))]


@router.post(ITEM + "/ballot-link")
def link_ballot(item_id: int, body: LinkIn, access: ItemBallotKeeper, session: SessionDep) -> AgendaItemRecordOut:
    item = resolution.link_ballot(session, item=_item(session, access, item_id, lock=True), ballot_id=body.ballot_id,
                               matter_id=body.matter_id, caller=caller_of(access))
    return _record(session, access, item)


@router.post(ITEM + "/resolution")
def record_resolution(item_id: int, access: ItemBallotKeeper, session: SessionDep) -> AgendaItemRecordOut:
    item = resolution.record_resolution(session, item=_item(session, access, item_id, lock=True),
                                     caller=caller_of(access))
    return _record(session, access, item)


@router.post(ITEM + "/publications", status_code=201)
def publish(item_id: int, body: PublicationIn, access: ItemBallotKeeper, session: SessionDep) -> AgendaItemRecordOut:
    item = flow.publish(session, item=_item(session, access, item_id, lock=True), step_key=body.step_key,
                           title=body.title, body=body.body, attachment_file_ids=body.attachment_file_ids,
                           caller=caller_of(access))
    return _record(session, access, item)


@router.post(ITEM + "/observations", status_code=201)
def record_observation(item_id: int, body: ObservationIn, access: ItemObserverOnly,
                       session: SessionDep) -> AgendaItemRecordOut:
    """观察意见: the only write an observer may make."""
    item = _item(session, access, item_id)
    observers.record_observation(session, item=item, text=body.text, caller=caller_of(access))
    return _record(session, access, item)


@router.get(ITEM + "/timeline")
def timeline(item_id: int, access: ItemMember, session: SessionDep) -> AgendaTimelineOut:
    """The public page of a major matter (owners see it once it passed review)."""
    item = _item(session, access, item_id)
    if not policy.item_visible(item, access=access):
        raise agenda.ItemNotFound("议题不存在")
    viewer = notices_service.viewer_for(session, compound_id=access.compound_id, roles=access.roles,
                                        owner_ids=access.owner_ids)
    return views.timeline(session, item=item, viewer=viewer)


# --- what observers (and the committee and reviewers) check -------------------------------------


def _linked_ballot(session, item):
    linked = resolution.linked_matter(session, item)
    if linked is None:
        raise NotFound("本议题尚未关联表决", code="ballot_not_linked")
    return linked[0]


@router.get(ITEM + "/ballot/progress")
def ballot_progress(item_id: int, access: ItemWatcher, session: SessionDep) -> BallotProgressOut:
    """Participation while the ballot is open (choices stay hidden): the ballot's own progress."""
    return BallotProgressOut.model_validate(
        voting_results.progress(session, ballot=_linked_ballot(session, _item(session, access, item_id))))


@router.get(ITEM + "/ballot/tally-inputs", response_class=Response,
            responses=voting_views.TALLY_FILE_RESPONSES)
def ballot_tally_inputs(
    item_id: int, access: ItemWatcher, session: SessionDep, format: voting_views.TallyFormat = "json",
) -> Response:
    """Tally inputs after closing: `python -m app.voting recount tally-<id>.json`."""
    ballot = _linked_ballot(session, _item(session, access, item_id))
    return voting_views.tally_file(session, ballot=ballot, format=format)


@router.get(ITEM + "/audit")
def item_audit(item_id: int, access: ItemWatcher, session: SessionDep) -> AgendaAuditOut:
    """The item's events (and its ballot's), with the verification of the whole chain."""
    item = _item(session, access, item_id)
    return AgendaAuditOut.model_validate({
        "events": [audit_service.event_record(e) for e in reading.item_events(session, item=item)],
        "verification": audit_service.verify_compound(session, compound_id=access.compound_id),
    })


@router.get(ITEM + "/audit/export", responses={200: {"content": {"application/x-ndjson": {}}}})
def item_audit_export(item_id: int, access: ItemWatcher, session: SessionDep) -> StreamingResponse:
    """The compound's whole chain (verification needs all of it): `python -m app.audit verify --file`."""
    _item(session, access, item_id)
    compound_id = access.compound_id

    def lines():
        stream = new_session(write=False)
        try:
            for line in audit_service.export_lines(stream, compound_id=compound_id):
                yield line + "\n"
        finally:
            stream.close()

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers={
        "Content-Disposition": f'attachment; filename="audit-{compound_id}.jsonl"'})


# --- observers ------------------------------------------------------------------------------------


@router.get(P + "/observers")
def list_observers(access: Staff, session: SessionDep) -> list[ProcedureObserverOut]:
    return [ProcedureObserverOut.model_validate(o)
            for o in observers.list_observers(session, compound_id=access.compound_id)]


@router.post(P + "/observers", status_code=201)
def appoint_compound_observer(body: ObserverIn, access: Appointer,
                              session: SessionDep) -> ProcedureObserverAppointedOut:
    """Appoint an observer of the whole compound (platform admin or reviewer)."""
    return ProcedureObserverAppointedOut.model_validate(observers.appoint_observer(
        session, compound_id=access.compound_id, username=body.username,
        organization=body.organization, item_id=None, actor=access.actor))


@router.post(P + "/observers/{grant_id}/revoke")
def revoke_compound_observer(grant_id: int, access: Appointer,
                             session: SessionDep) -> ProcedureObserverRevokedOut:
    grant = observers.revoke_compound_observer(session, compound_id=access.compound_id, grant_id=grant_id,
                                             actor=access.actor)
    return ProcedureObserverRevokedOut(id=grant.id or 0, revoked_at=grant.revoked_at)


@router.get(ITEM + "/observers")
def list_item_observers(item_id: int, access: ItemReader, session: SessionDep) -> list[ProcedureObserverOut]:
    _item(session, access, item_id)
    return [ProcedureObserverOut.model_validate(o)
            for o in observers.list_observers(session, compound_id=access.compound_id, item_id=item_id)]


@router.post(ITEM + "/observers", status_code=201)
def appoint_item_observer(item_id: int, body: ObserverIn, access: ItemAppointer,
                          session: SessionDep) -> ProcedureObserverAppointedOut:
    """Appoint an observer of this item only (platform admin or reviewer)."""
    return ProcedureObserverAppointedOut.model_validate(observers.appoint_observer(
        session, compound_id=access.compound_id, username=body.username,
        organization=body.organization, item_id=item_id, actor=access.actor))


@router.post(ITEM + "/observers/{appointment_id}/revoke")
def revoke_item_observer(item_id: int, appointment_id: int, access: ItemAppointer,
                         session: SessionDep) -> ProcedureObserverRevokedOut:
    _item(session, access, item_id)
    row = observers.revoke_item_observer(session, compound_id=access.compound_id, appointment_id=appointment_id,
                                       actor=access.actor)
    return ProcedureObserverRevokedOut(id=row.id or 0, revoked_at=row.revoked_at)


# --- the reviewer's workspace across compounds ---------------------------------------------------


@router.get("/reviewer/queue")
def reviewer_queue(principal: CurrentPrincipal, session: SessionDep) -> ReviewerQueueOut:
    """Items waiting for a reviewer (or overdue) in every compound where the caller is a reviewer,
    and only there; a session opened by a one-time code stands as an owner only."""
    if not principal.password_verified:
        return ReviewerQueueOut(compound_ids=[], items=[])
    compound_ids = queue.reviewer_compound_ids(session, user=principal.user)
    items = queue.reviewer_queue(session, user=principal.user)
    return ReviewerQueueOut(compound_ids=compound_ids, items=views.queue_out(session, items=items))
