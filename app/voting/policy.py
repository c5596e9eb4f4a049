"""Who may read a ballot and the files attached to it, in each state of the ballot's life.

The one place for these rules: the routes (check_visible below) and the file download
(app/policy.py) both ask here. Refusals read as "not found" to the caller.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from app.auth.models import Role
from app.auth.roles import WATCHERS, is_manager, is_staff
from app.deps import CompoundAccess
from app.errors import NotFound
from app.roster import service as roster_service
from app.roster.scope import Scope
from app.voting import casting
from app.voting.models import Ballot, BallotMatter, PaperEntry, ProxyAuthorization


def ballot_visible(session: Session, *, ballot: Ballot, access: CompoundAccess) -> bool:
    """Drafts are the committee's; from the notice on, staff see every ballot and owners those
    of their buildings or entrances (or where they vote, as owner or proxy)."""
    if ballot.compound_id != access.compound_id:
        return False
    if is_manager(access.roles):
        return True
    if ballot.noticed_at is None:
        return False
    if is_staff(access.roles):
        return True
    scope = Scope.from_json(ballot.scope_building_ids, ballot.scope_entrances)
    if scope.whole_compound:
        return True
    phone = access.principal.user.phone
    mine = roster_service.owner_places(session, compound_id=ballot.compound_id, owner_ids=access.owner_ids)
    return bool(scope.covers_any(mine) or casting.voter_subjects(session, ballot=ballot, phone=phone)
                or casting.proxy_subjects(session, ballot=ballot, phone=phone))


def check_visible(session: Session, *, ballot: Ballot, access: CompoundAccess) -> None:
    """Pass if the caller may see the ballot (ballot_visible); else "not found"."""
    if not ballot_visible(session, ballot=ballot, access=access):
        raise NotFound("表决不存在", code="ballot_not_found")


def proxy_document_readable(proxy: ProxyAuthorization, *, access: CompoundAccess) -> bool:
    """A signed authorization carries names and ID numbers: the committee that accepts it (and
    the platform acting for it), and whoever filed it."""
    return is_manager(access.roles) or (proxy.submitted_by is not None
                                        and proxy.submitted_by == access.user_id)


def paper_scan_readable(ballot: Ballot, *, access: CompoundAccess) -> bool:
    """A scan shows the choices: the committee, who type them in and confirm them, while the
    ballot runs; after the close the overseers too, to re-check the tally (DOMAIN §6)."""
    if Role.COMMITTEE in access.roles:
        return True
    return ballot.closed_at is not None and bool(access.roles & WATCHERS)


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    """Whether a ballot's record lets the caller read the file: None if no ballot holds it."""
    compound_id = access.compound_id
    attached = False
    for proxy in session.execute(select(ProxyAuthorization).where(
            ProxyAuthorization.compound_id == compound_id,
            ProxyAuthorization.document_file_id == file_id)).scalars():
        attached = True
        if proxy_document_readable(proxy, access=access):
            return True
    for ballot in session.execute(
            select(Ballot).join(PaperEntry, PaperEntry.ballot_id == Ballot.id)
            .where(PaperEntry.compound_id == compound_id, PaperEntry.scan_file_id == file_id)).scalars():
        attached = True
        if paper_scan_readable(ballot, access=access):
            return True
    # Matter documents are a JSON list: match the id as text first, then exactly.
    needle = f"%{file_id}%"
    for matter, ballot in session.execute(
            select(BallotMatter, Ballot).join(Ballot, Ballot.id == BallotMatter.ballot_id)
            .where(BallotMatter.compound_id == compound_id,
                   BallotMatter.document_file_ids.like(needle))).all():
        if file_id not in json.loads(matter.document_file_ids):
            continue
        attached = True
        if ballot_visible(session, ballot=ballot, access=access):
            return True
    return False if attached else None
