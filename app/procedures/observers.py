"""Observers (compound-wide role grants or per-item appointments) and their observations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.audit.service import Actor
from app.auth import service as auth_service
from app.auth.models import Role
from app.clock import now
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.procedures.agenda import (
    Caller,
    active_item_observer,
    audit_item,
    current_index,
    get_item,
    organization_of,
    steps_of,
)
from app.procedures.models import (
    AgendaItem,
    AgendaObservation,
    AgendaObserver,
)


def _staff_account(session: Session, username: str) -> auth_service.UserAccount:
    account = auth_service.account_by_username(session, username=username)
    if account is None or not account.is_active:
        raise NotFound("未找到该工作人员账号", code="user_not_found")
    return account


def appoint_observer(
    session: Session, *, compound_id: int, username: str, organization: str, item_id: int | None,
    actor: Actor,
) -> dict[str, Any]:
    """Appoint an observer to the whole compound (a role grant) or to one agenda item."""
    account = _staff_account(session, username)
    organization = organization.strip()
    if not organization:
        raise Invalid("请填写观察员的身份（如：区人大代表）", code="observer_org_missing")
    if item_id is None:
        grant = auth_service.grant_role(session, compound_id=compound_id, user_id=account.id or 0,
                                        role=Role.OBSERVER, organization=organization, actor=actor)
        return {"scope": "compound", "id": grant.id, "user_id": account.id,
                "display_name": account.display_name, "organization": organization, "item_id": None}
    item = get_item(session, compound_id=compound_id, item_id=item_id)
    if active_item_observer(session, compound_id=compound_id, item_id=item_id, user_id=account.id or 0):
        raise Conflict("该账号已是本议题的观察员", code="observer_already_appointed")
    auth_service.check_observer_independent(session, compound_id=compound_id, account=account,
                                            role=Role.OBSERVER)
    row = AgendaObserver(compound_id=compound_id, item_id=item_id, user_id=account.id or 0,
                         organization=organization, appointed_by=actor.user_id, appointed_role=actor.role)
    session.add(row)
    session.flush()
    audit_item(session, item, actor, "procedure.observer_appointed",
           {"appointment_id": row.id, "user_id": account.id, "organization": organization})
    return {"scope": "item", "id": row.id, "user_id": account.id, "display_name": account.display_name,
            "organization": organization, "item_id": item_id}


def revoke_item_observer(session: Session, *, compound_id: int, appointment_id: int, actor: Actor) -> AgendaObserver:
    row = session.get(AgendaObserver, appointment_id)
    if row is None or row.compound_id != compound_id:
        raise NotFound("观察员指派记录不存在", code="observer_not_found")
    if row.revoked_at is not None:
        raise Conflict("该指派已撤销", code="observer_already_revoked")
    row.revoked_at, row.revoked_by = now(), actor.user_id
    session.add(row)
    item = get_item(session, compound_id=compound_id, item_id=row.item_id)
    audit_item(session, item, actor, "procedure.observer_revoked", {"appointment_id": row.id, "user_id": row.user_id})
    return row


def revoke_compound_observer(
    session: Session, *, compound_id: int, grant_id: int, actor: Actor
) -> auth_service.RoleGrant:
    grant = auth_service.find_grant(session, compound_id=compound_id, grant_id=grant_id)
    if grant is None or Role(grant.role) != Role.OBSERVER:
        raise NotFound("观察员授权不存在", code="observer_not_found")
    return auth_service.revoke_role(session, compound_id=compound_id, grant_id=grant_id, actor=actor)


def list_observers(session: Session, *, compound_id: int, item_id: int | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if item_id is None:
        for grant, user in auth_service.list_grants(session, compound_id=compound_id):
            if Role(grant.role) == Role.OBSERVER:
                out.append({"scope": "compound", "id": grant.id, "user_id": user.id,
                            "display_name": user.display_name, "organization": grant.organization,
                            "item_id": None, "appointed_at": grant.granted_at})
    stmt = select(AgendaObserver).where(AgendaObserver.compound_id == compound_id,
                                        AgendaObserver.revoked_at.is_(None))
    if item_id is not None:
        stmt = stmt.where(AgendaObserver.item_id == item_id)
    rows = list(session.execute(stmt.order_by(AgendaObserver.id)).scalars())
    names = auth_service.display_names(session, [row.user_id for row in rows])
    for row in rows:
        out.append({"scope": "item", "id": row.id, "user_id": row.user_id,
                    "display_name": names.get(row.user_id, ""), "organization": row.organization,
                    "item_id": row.item_id, "appointed_at": row.appointed_at})
    return out


def record_observation(session: Session, *, item: AgendaItem, text: str, caller: Caller) -> AgendaObservation:
    """An observer's observation (观察意见), kept in the item's record and the audit trail."""
    if Role.OBSERVER not in caller.roles:
        raise Forbidden("只有观察员可以记录观察意见", code="observer_only")
    text = text.strip()
    if not text:
        raise Invalid("请填写观察意见", code="observation_empty")
    actor = Actor(user_id=caller.user_id, role=Role.OBSERVER.value)
    org = organization_of(session, compound_id=item.compound_id, user_id=caller.user_id,
                          role=Role.OBSERVER.value, item_id=item.id)
    index = current_index(item)
    obs = AgendaObservation(compound_id=item.compound_id, item_id=item.id or 0, text=text,
                            step_index=index if index is not None else len(steps_of(item)),
                            observer_user_id=caller.user_id, observer_org=org, at=now())
    session.add(obs)
    session.flush()
    obs.audit_seq, obs.audit_hash = audit_item(session, item, actor, "procedure.observation_recorded",
                                           {"observation_id": obs.id, "text": text, "organization": org,
                                            "step_index": obs.step_index})
    session.add(obs)
    return obs
