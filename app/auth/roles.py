"""The role groups, declared once.

Every route dependency (`compound_access(*GROUP)`) and every policy check uses these groups, and
`/auth/me` serves them to the front end as capabilities per compound, so the screens never mirror
who may do what. Changing who may do something is a change here (and in its test).
"""

from __future__ import annotations

from collections.abc import Collection

from app.auth.models import Role

# When a caller holds several roles a route allows, they act (and are audited) in the first of
# these: a grant in the compound before the platform role, owning last.
ROLE_PRECEDENCE: tuple[Role, ...] = (
    Role.COMMITTEE, Role.REVIEWER, Role.OBSERVER, Role.CLERK, Role.GRID_WORKER, Role.SUPERVISOR,
    Role.PLATFORM_ADMIN, Role.OWNER,
)

OWNERS = frozenset({Role.OWNER})
# Everyone who works on a compound rather than owning in it.
STAFF = frozenset({Role.COMMITTEE, Role.CLERK, Role.REVIEWER, Role.OBSERVER, Role.PLATFORM_ADMIN})
# Those who run the compound's business: ballots, notices, settings (the platform acting for it).
MANAGERS = frozenset({Role.COMMITTEE, Role.PLATFORM_ADMIN})
# DOMAIN §6 and §8: the overseers, who check the tally inputs and the audit trail.
WATCHERS = MANAGERS | {Role.REVIEWER, Role.OBSERVER}
# Who keeps the roster (the property company helps type it in).
ROSTER_KEEPERS = MANAGERS | {Role.CLERK}
# The committee members themselves (e.g. typing in and confirming paper ballots).
COMMITTEE = frozenset({Role.COMMITTEE})
LEDGER_RECORDERS = COMMITTEE | {Role.CLERK}
LEDGER_APPROVERS = COMMITTEE
# Who may export the whole roster in clear (names, phones): the owners' committee only (PIPL).
ROSTER_EXPORTERS = COMMITTEE
REVIEWERS = frozenset({Role.REVIEWER})
OBSERVERS = frozenset({Role.OBSERVER})
# Who may put a procedure item forward.
PROPOSERS = frozenset({Role.COMMITTEE, Role.CLERK, Role.REVIEWER})
OBSERVER_APPOINTERS = frozenset({Role.PLATFORM_ADMIN, Role.REVIEWER})
ADMINS = frozenset({Role.PLATFORM_ADMIN})
# Observers (两代表一委员, DOMAIN §6) watch these: one account is never both in a compound.
OBSERVED = frozenset({Role.COMMITTEE, Role.REVIEWER, Role.CLERK})
# Who may read a compound's role grants: the admin who grants them, the committee, the reviewer.
GRANT_READERS = ADMINS | {Role.COMMITTEE, Role.REVIEWER}

# 三单一访 work orders (seed 001 §4.7.1): owners report, and a grid worker (网格员) for them;
# the grid (网格派单) or the committee, or the platform for the community, dispatches; the
# property company accepts and handles; the party branch (the reviewer) follows up.
GRID_WORKERS = frozenset({Role.GRID_WORKER})
WORK_ORDER_REPORTERS = OWNERS | GRID_WORKERS
WORK_ORDER_DISPATCHERS = MANAGERS | GRID_WORKERS
WORK_ORDER_HANDLERS = frozenset({Role.CLERK})
WORK_ORDER_VISITORS = REVIEWERS
WORK_ORDER_STAFF = WORK_ORDER_DISPATCHERS | WORK_ORDER_HANDLERS | WORK_ORDER_VISITORS
WORK_ORDER_READERS = STAFF | GRID_WORKERS | OWNERS
# Quarterly reports and the annual appraisal (seed 002): the property company files, the party
# organization (reviewer) acknowledges and appraises, the committee files its account and scores.
COMPANY = frozenset({Role.CLERK})
ACCOUNT_FILERS = COMMITTEE | COMPANY
APPRAISERS = COMMITTEE | REVIEWERS
# 属地监管 (seeds 002, 004): the street's or community's supervisor reads the supervision screen
# across the compounds granted to them (the platform administrator across all), and has no other
# power in those compounds (not STAFF: no compound page, no roster, no ballots).
SUPERVISORS = frozenset({Role.SUPERVISOR})
SUPERVISION_READERS = SUPERVISORS | ADMINS

# The capability names /auth/me serves (the front end shows or hides by these).
CAPABILITIES: dict[str, frozenset[Role]] = {
    "vote": OWNERS,
    "staff": STAFF,
    "manage": MANAGERS,
    "watch": WATCHERS,
    "roster": ROSTER_KEEPERS,
    "ledger_record": LEDGER_RECORDERS,
    "ledger_approve": LEDGER_APPROVERS,
    "review": REVIEWERS,
    "propose": PROPOSERS,
    "appoint_observers": OBSERVER_APPOINTERS,
    "admin": ADMINS,
    "roster_export": ROSTER_EXPORTERS,
    "work_orders": WORK_ORDER_STAFF,  # the loop's staff list (each order states its next step)
    "work_order_report": WORK_ORDER_REPORTERS,
    "company_report": COMPANY,
    "appraise": APPRAISERS,
    "committee": COMMITTEE,
    "supervise": SUPERVISION_READERS,
}


def capabilities(roles: Collection[Role]) -> list[str]:
    """The capability names a caller holding `roles` in one compound has, in declaration order."""
    held = set(roles)
    return [name for name, group in CAPABILITIES.items() if held & group]


def is_manager(roles: Collection[Role]) -> bool:
    return bool(set(roles) & MANAGERS)


def is_staff(roles: Collection[Role]) -> bool:
    return bool(set(roles) & STAFF)
