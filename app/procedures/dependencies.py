"""Access to one agenda item: the compound's roles, or an observer appointed to that item only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path

from app.auth.models import Role
from app.auth.roles import (
    ADMINS,
    MANAGERS,
    OBSERVER_APPOINTERS,
    OBSERVERS,
    OWNERS,
    PROPOSERS,
    STAFF,
    WATCHERS,
)
from app.deps import CompoundAccess, CurrentPrincipal, SessionDep, compound_access
from app.errors import Forbidden
from app.procedures import agenda


def item_access(*allowed: Role) -> Callable[..., CompoundAccess]:
    """compound_access(*allowed), also letting through an observer appointed to this item."""
    base = compound_access(*allowed)

    def dependency(
        principal: CurrentPrincipal, session: SessionDep,
        compound_id: Annotated[int, Path(ge=1)], item_id: Annotated[int, Path(ge=1)],
    ) -> CompoundAccess:
        try:
            return base(principal, session, compound_id)
        except Forbidden:
            # An appointment is a staff standing: it needs a password session, like the others.
            if Role.OBSERVER not in allowed or not principal.password_verified or \
                    agenda.active_item_observer(
                        session, compound_id=compound_id, item_id=item_id, user_id=principal.user_id
                    ) is None:
                raise
            return CompoundAccess(principal=principal, compound_id=compound_id, role=Role.OBSERVER,
                                  roles=frozenset({Role.OBSERVER}))

    dependency.__name__ = base.__name__ + "_or_item_observer"
    dependency.allowed_roles = frozenset(allowed)
    return dependency


def caller_of(access: CompoundAccess) -> agenda.Caller:
    return agenda.Caller.of(access.user_id, access.roles)


# Settings and templates: the committee records what the compound's rules adopted.
Member = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
Staff = Annotated[CompoundAccess, Depends(compound_access(*STAFF))]
SettingsKeeper = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
# Acting on items: each step's own roles are checked by the service.
Actor = Annotated[
    CompoundAccess,
    Depends(compound_access(*PROPOSERS, *ADMINS)),
]
BallotKeeper = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
Appointer = Annotated[CompoundAccess, Depends(compound_access(*OBSERVER_APPOINTERS))]
ItemAppointer = Annotated[CompoundAccess, Depends(item_access(*OBSERVER_APPOINTERS))]
ItemActor = Annotated[
    CompoundAccess,
    Depends(item_access(*PROPOSERS, *ADMINS)),
]
ItemBallotKeeper = Annotated[CompoundAccess, Depends(item_access(*MANAGERS))]
ItemReader = Annotated[CompoundAccess, Depends(item_access(*STAFF))]
# Oversight of the item's ballot and audit trail: the same people as /ballots/{b}/progress,
# /ballots/{b}/tally-inputs and /audit/* (not the property company: the tally inputs carry
# each unit's choices).
ItemWatcher = Annotated[
    CompoundAccess,
    Depends(item_access(*WATCHERS)),
]
ItemMember = Annotated[CompoundAccess, Depends(item_access(*STAFF, *OWNERS))]
ItemObserverOnly = Annotated[CompoundAccess, Depends(item_access(*OBSERVERS))]
