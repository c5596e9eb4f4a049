"""The hand-written access table (who may call which route) and a compound with a row of every kind.

EXPECTED below is written from the product's rules (DOMAIN.md, README), route by route, and is
deliberately NOT derived from the routes' own dependencies: tests/security/test_access_matrix.py
compares it with what the running app does. Where the rules leave room, the reading taken is
stated next to the entry.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app import demo
from app.audit.models import AuditEvent
from app.auth.models import GRANTABLE_ROLES, Role, UserAccount
from app.clock import FrozenClock
from app.roster import importer
from tests.factories import bearer, make_compound, make_staff, owner_bearer

# --- principals ---------------------------------------------------------------------------------

ADMIN = "admin"  # platform admin (街道), no grant anywhere: is_platform_admin
COMMITTEE = "committee"
REVIEWER = "reviewer"
OBSERVER = "observer"
CLERK = "clerk"
OWNER = "owner"  # a roster phone: OWNER is derived, never granted
SUPERVISOR = "supervisor"  # 街道/社区监管, granted over this compound only (属地监管, 红黑榜)
OUTSIDER = "outsider"  # staff holding every grantable role, in ANOTHER compound
ANONYMOUS = "anonymous"  # no token
PRINCIPALS = (ADMIN, COMMITTEE, REVIEWER, OBSERVER, CLERK, OWNER, SUPERVISOR, OUTSIDER, ANONYMOUS)

ROLE_OF = {ADMIN: Role.PLATFORM_ADMIN, COMMITTEE: Role.COMMITTEE, REVIEWER: Role.REVIEWER,
           OBSERVER: Role.OBSERVER, CLERK: Role.CLERK, OWNER: Role.OWNER, SUPERVISOR: Role.SUPERVISOR}

MEMBERS = frozenset({ADMIN, COMMITTEE, REVIEWER, OBSERVER, CLERK, OWNER})
STAFF = MEMBERS - {OWNER}
MANAGERS = frozenset({ADMIN, COMMITTEE})  # 业委会 runs the compound's business; 街道 may act for it
WATCHERS = frozenset({ADMIN, COMMITTEE, REVIEWER, OBSERVER})  # oversight: DOMAIN §5, §6, §8
RECORDERS = frozenset({COMMITTEE, CLERK})  # ledger entries: README 公共收益
ITEM_ACTORS = frozenset({ADMIN, COMMITTEE, REVIEWER, CLERK})  # step roles checked per step
APPOINTERS = frozenset({ADMIN, REVIEWER})  # README: the platform admin or a reviewer appoints
LOGGED_IN = frozenset(PRINCIPALS) - {ANONYMOUS}
PUBLIC = frozenset(PRINCIPALS)
NOBODY: frozenset[str] = frozenset()

C = "/api/v1/compounds/{compound_id}"
B = C + "/ballots/{ballot_id}"
LG = C + "/ledger"
PR = C + "/procedures"
IT = PR + "/items/{item_id}"
SV = C + "/surveys"
WO = C + "/work-orders"
QR = C + "/quarterly-reports"
AP = C + "/appraisals"
CR = C + "/credit"

# (method, path template) -> principals allowed IN THEIR OWN COMPOUND. In another compound every
# one of them is refused except the platform admin (platform-wide by definition).
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    # --- sessions and accounts (not compound-scoped) ---
    ("POST", "/api/v1/auth/otp/request"): PUBLIC,
    ("POST", "/api/v1/auth/otp/verify"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,  # the refresh token is the credential
    ("POST", "/api/v1/auth/logout"): LOGGED_IN,
    ("GET", "/api/v1/auth/me"): LOGGED_IN,
    ("GET", "/api/v1/me/messages"): LOGGED_IN,  # 我的消息: only what was sent to one's phone
    ("PUT", "/api/v1/me/messages/opt-out"): LOGGED_IN,
    ("GET", "/api/v1/accounts"): frozenset({ADMIN}),  # staff accounts: the platform's
    ("POST", "/api/v1/accounts"): frozenset({ADMIN}),
    # Disabling, re-enabling and resetting staff accounts: the platform's, like creating them.
    ("POST", "/api/v1/accounts/{user_id}/disable"): frozenset({ADMIN}),
    ("POST", "/api/v1/accounts/{user_id}/enable"): frozenset({ADMIN}),
    ("POST", "/api/v1/accounts/{user_id}/password-reset"): frozenset({ADMIN}),
    ("POST", "/api/v1/auth/password"): LOGGED_IN,  # one's own password (owners have none: 422)
    ("GET", "/api/v1/compounds"): LOGGED_IN,  # only the caller's own compounds (checked apart)
    ("POST", "/api/v1/compounds"): frozenset({ADMIN}),
    ("GET", "/api/v1/audit/public-key"): PUBLIC,  # anyone verifies checkpoints (DOMAIN §8)
    # Everyone signed in may open the queue; it lists only compounds where the caller is a
    # reviewer (content checked in test_reviewer_sees_only_their_compounds).
    ("GET", "/api/v1/reviewer/queue"): LOGGED_IN,
    # 属地监管 (seeds 002, 004; README 属地监管): the platform administrator (every compound) and
    # a supervisor (街道/社区监管, the compounds granted to them; tests/supervision): SUPERVISOR
    # (granted this compound) and OUTSIDER, who holds every grantable role in another compound,
    # supervisor included; the staff and owners of a compound are refused.
    ("GET", "/api/v1/supervision"): frozenset({ADMIN, SUPERVISOR, OUTSIDER}),
    # 红黑榜 (seeds 002, 003, 004; README 信用评价与红黑榜): supervisors compute and publish the
    # list of a district over the compounds granted to them (OUTSIDER over its own compound, so
    # the overview, the computation and publishing get past authorization; the district and the
    # digest are checked by the service). A published list is read by whoever supervises every
    # compound it names (the object check: OUTSIDER is refused this compound's list, 403
    # credit_list_forbidden) and by the platform administrator.
    ("GET", "/api/v1/credit/lists"): frozenset({ADMIN, SUPERVISOR, OUTSIDER}),
    ("GET", "/api/v1/credit/preview"): frozenset({ADMIN, SUPERVISOR, OUTSIDER}),
    ("POST", "/api/v1/credit/lists"): frozenset({ADMIN, SUPERVISOR, OUTSIDER}),
    ("GET", "/api/v1/credit/lists/{list_id}"): frozenset({ADMIN, SUPERVISOR}),
    # --- role grants: "platform admin: creates compounds, grants roles" (app/auth/models.py) ---
    # Reading: the list of who holds which role is for the committee, reviewers (who appoint
    # observers) and the platform; not for clerks, observers or owners.
    ("GET", C + "/grants"): frozenset({ADMIN, COMMITTEE, REVIEWER}),
    ("POST", C + "/grants"): frozenset({ADMIN}),
    ("DELETE", C + "/grants/{grant_id}"): frozenset({ADMIN}),
    # --- compound and roster (DOMAIN §1): the committee keeps the roster ---
    ("GET", C): MEMBERS,
    ("GET", C + "/roster/summary"): STAFF,  # totals only, no personal data
    ("GET", C + "/roster/settings"): STAFF,  # whether parking carries area, with the totals
    ("PUT", C + "/roster/settings"): MANAGERS,
    # Reading: units and subjects carry masked names/phones and ID last-4: the committee, the
    # platform and the property company (which serves those units) only; never reviewers,
    # observers or owners (PIPL minimisation).
    ("GET", C + "/units"): frozenset({ADMIN, COMMITTEE, CLERK}),
    ("GET", C + "/subjects"): frozenset({ADMIN, COMMITTEE, CLERK}),
    ("PUT", C + "/subjects/{subject_id}/representative"): MANAGERS,
    ("POST", C + "/roster/imports"): MANAGERS,
    ("GET", C + "/roster/imports"): MANAGERS,
    ("GET", C + "/roster/imports/{import_id}"): MANAGERS,  # the diff holds full personal data
    ("POST", C + "/roster/imports/{import_id}/apply"): MANAGERS,
    ("GET", C + "/roster/template"): MANAGERS,
    # The full roster in clear (names, phones; ID numbers never): the committee only (PIPL).
    ("GET", C + "/roster/export"): frozenset({COMMITTEE}),
    # What the latest file lacked, and removing it (typed count, reason): like imports.
    ("GET", C + "/roster/removals"): MANAGERS,
    ("POST", C + "/roster/removals"): MANAGERS,
    # One unit (masked owners) is read like the unit list; corrected like the roster is imported.
    ("GET", C + "/units/{unit_id}"): frozenset({ADMIN, COMMITTEE, CLERK}),
    ("PATCH", C + "/units/{unit_id}"): MANAGERS,
    ("PATCH", C + "/owners/{owner_id}"): MANAGERS,
    # --- audit trail (DOMAIN §6, §8): the overseers; reading: "anyone with access" is the
    # committee, reviewers, observers and the platform, not the audited property company ---
    ("GET", C + "/audit/events"): WATCHERS,
    ("GET", C + "/audit/vocabulary"): WATCHERS,
    ("GET", C + "/audit/verify"): WATCHERS,
    ("GET", C + "/audit/checkpoints"): WATCHERS,
    ("POST", C + "/audit/checkpoints"): MANAGERS,
    ("GET", C + "/audit/export"): WATCHERS,
    # --- files: observers never write; who reads a file is app/policy.py's: the object it is
    # attached to decides (tests/security/test_file_policy_matrix.py) ---
    ("POST", C + "/files"): MEMBERS - {OBSERVER},
    ("GET", C + "/files/{file_id}"): MEMBERS,
    # --- notices (DOMAIN §4): the committee drafts, publishes and records delivery ---
    ("POST", C + "/notices"): MANAGERS,
    ("GET", C + "/notices"): MEMBERS,
    ("GET", C + "/notices/{notice_id}"): MEMBERS,
    ("PATCH", C + "/notices/{notice_id}"): MANAGERS,
    ("POST", C + "/notices/{notice_id}/publish"): MANAGERS,
    ("POST", C + "/notices/{notice_id}/corrections"): MANAGERS,
    ("POST", C + "/notices/{notice_id}/postings"): MANAGERS,
    ("POST", C + "/notices/{notice_id}/deliveries"): MANAGERS,
    ("GET", C + "/notices/{notice_id}/delivery"): MANAGERS,  # who was not reached: to remind
    ("GET", C + "/notices/{notice_id}/pdf"): MEMBERS,
    # --- ballots (DOMAIN §2-§3) ---
    ("GET", C + "/voting/settings"): MEMBERS,  # the compound's rules are public to its members
    ("PUT", C + "/voting/settings"): MANAGERS,
    ("POST", C + "/ballots"): MANAGERS,
    ("GET", C + "/ballots"): MEMBERS,
    ("GET", B): MEMBERS,
    ("PUT", B): MANAGERS,
    ("POST", B + "/notice"): MANAGERS,
    ("POST", B + "/open"): MANAGERS,
    ("DELETE", B): MANAGERS,
    ("POST", B + "/cancel"): MANAGERS,
    ("POST", B + "/postpone"): MANAGERS,
    ("POST", B + "/votes"): frozenset({OWNER}),  # and accepted proxies (not a principal here)
    ("GET", B + "/my-votes"): frozenset({OWNER}),  # 查票: one's own votes
    # README: progress is for the committee, reviewers and observers; the non-voters list is
    # the committee's reminder list.
    ("GET", B + "/progress"): WATCHERS,
    # DOMAIN §3: participation (never choices) is visible to every member while a ballot runs.
    ("GET", B + "/turnout"): MEMBERS,
    ("GET", B + "/non-voters"): MANAGERS,
    ("POST", B + "/proxies"): frozenset({OWNER, COMMITTEE, ADMIN}),  # owner, or on their behalf
    ("GET", B + "/proxies"): WATCHERS,
    ("POST", B + "/proxies/{proxy_id}/accept"): MANAGERS,
    ("POST", B + "/proxies/{proxy_id}/reject"): MANAGERS,
    # DOMAIN §3: paper ballots are typed in by one committee member and confirmed by another.
    ("POST", B + "/paper"): frozenset({COMMITTEE}),
    ("GET", B + "/paper"): WATCHERS,
    ("POST", B + "/paper/{entry_id}/confirm"): frozenset({COMMITTEE}),
    # Issue 14: the standing of a subject before a paper entry is the entering members' own;
    # the printed ballots and the door-to-door worklist are the committee's (as non-voters).
    ("GET", B + "/paper-lookup"): frozenset({COMMITTEE}),
    ("GET", B + "/paper-ballots"): MANAGERS,
    ("GET", B + "/non-voters/worklist"): MANAGERS,
    ("POST", B + "/paper/{entry_id}/reject"): MANAGERS,  # reading: a refusal on the record
    ("GET", B + "/conflicts"): WATCHERS,
    ("POST", B + "/conflicts/{conflict_id}/resolve"): MANAGERS,
    ("POST", B + "/close"): MANAGERS,
    ("GET", B + "/results"): MEMBERS,
    ("POST", B + "/objections"): frozenset({OWNER}),
    # Reading: every member may open the list; owners (and clerks) get only their own.
    ("GET", B + "/objections"): MEMBERS,
    ("POST", B + "/objections/{objection_id}/answer"): MANAGERS,
    ("POST", B + "/publish"): MANAGERS,
    # The committee's SMS view of a ballot: delivery counts, the reminder preview and sending.
    ("GET", B + "/messages"): MANAGERS,
    ("GET", B + "/reminder"): MANAGERS,
    ("POST", B + "/reminder"): MANAGERS,
    ("GET", B + "/receipts"): MEMBERS,
    ("GET", B + "/receipts/check"): MEMBERS,
    ("GET", B + "/unit-record"): MEMBERS,  # DOMAIN §3: to logged-in owners if the rules say so
    ("GET", B + "/tally-inputs"): WATCHERS,  # README: observers and the committee recount
    # --- public-revenue ledger (DOMAIN §7, README 公共收益) ---
    ("GET", LG + "/settings"): MEMBERS,
    ("PUT", LG + "/settings"): frozenset({COMMITTEE}),
    ("GET", LG + "/status"): MEMBERS,  # owners are warned of unpublished quarters
    ("GET", LG + "/decisions"): STAFF,
    ("POST", LG + "/entries"): RECORDERS,
    ("GET", LG + "/entries"): STAFF,  # pending and rejected entries: staff only
    ("GET", LG + "/entries/{entry_id}"): MEMBERS,  # owners: approved entries of published periods
    ("POST", LG + "/entries/{entry_id}/approve"): frozenset({COMMITTEE}),
    ("POST", LG + "/entries/{entry_id}/reject"): RECORDERS,  # the recorder withdraws
    ("POST", LG + "/entries/{entry_id}/reverse"): RECORDERS,
    ("GET", LG + "/entries/{entry_id}/files/{file_id}"): MEMBERS,
    ("GET", LG + "/periods"): MEMBERS,
    ("GET", LG + "/periods/{start_date}"): MEMBERS,
    ("POST", LG + "/periods/{start_date}/close"): frozenset({COMMITTEE}),
    ("POST", LG + "/periods/{start_date}/audit-report"): frozenset({COMMITTEE}),
    ("GET", LG + "/periods/{start_date}/audit-report"): MEMBERS,
    ("POST", LG + "/periods/{start_date}/publish"): frozenset({COMMITTEE}),
    ("GET", LG + "/periods/{start_date}/statement.xlsx"): MEMBERS,
    ("GET", LG + "/periods/{start_date}/statement.pdf"): MEMBERS,
    ("GET", LG + "/import-template"): STAFF,
    ("POST", LG + "/imports"): RECORDERS,
    ("GET", LG + "/imports"): STAFF,
    ("GET", LG + "/imports/{import_id}"): STAFF,
    ("POST", LG + "/imports/{import_id}/rows/{row_id}/accept"): frozenset({COMMITTEE}),
    ("POST", LG + "/imports/{import_id}/rows/{row_id}/discard"): frozenset({COMMITTEE}),
    # --- procedures (DOMAIN §5, README 重大事项程序) ---
    ("GET", PR + "/settings"): MEMBERS,
    ("PUT", PR + "/settings"): MANAGERS,  # dropping it altogether: the admin (service check)
    ("GET", PR + "/templates"): MEMBERS,
    ("POST", PR + "/templates"): MANAGERS,
    ("GET", PR + "/items"): MEMBERS,  # owners: only items past the gate
    ("POST", PR + "/items"): ITEM_ACTORS,  # party branch (via committee/reviewer), committee, 物业
    ("GET", IT): STAFF,  # the full record: staff and observers
    ("POST", IT + "/revisions"): ITEM_ACTORS,
    ("POST", IT + "/decisions"): ITEM_ACTORS,
    ("GET", IT + "/linkable-ballots"): MANAGERS,
    ("POST", IT + "/ballot-link"): MANAGERS,
    ("POST", IT + "/resolution"): MANAGERS,
    ("POST", IT + "/publications"): MANAGERS,
    # DOMAIN §6: observers "can record observations": their one write (and nobody else's).
    ("POST", IT + "/observations"): frozenset({OBSERVER}),
    ("GET", IT + "/timeline"): MEMBERS,  # owners: once past the gate
    # README: "Observers read ... participation ..., tally inputs ..., the item's audit events
    # ... and the whole chain's export" — the same oversight set as the ballot and audit routes;
    # the property company is not an overseer (it would otherwise get the per-unit choices and
    # the audit export here that /ballots/{b}/tally-inputs and /audit/export refuse it).
    ("GET", IT + "/ballot/progress"): WATCHERS,
    ("GET", IT + "/ballot/tally-inputs"): WATCHERS,
    ("GET", IT + "/audit"): WATCHERS,
    ("GET", IT + "/audit/export"): WATCHERS,
    ("GET", PR + "/observers"): STAFF,
    ("POST", PR + "/observers"): APPOINTERS,
    ("POST", PR + "/observers/{grant_id}/revoke"): APPOINTERS,
    ("GET", IT + "/observers"): STAFF,
    ("POST", IT + "/observers"): APPOINTERS,
    ("POST", IT + "/observers/{appointment_id}/revoke"): APPOINTERS,
    # --- surveys (满意度调查, seed 002): the committee (and the platform acting for it) runs
    # them; owners answer for their own flats; everyone reads published aggregates (the
    # property company only once published: the service check, README 满意度调查).
    ("GET", SV): MEMBERS,
    ("GET", SV + "/templates"): MANAGERS,
    ("POST", SV): MANAGERS,
    ("GET", SV + "/{survey_id}"): MEMBERS,
    ("POST", SV + "/{survey_id}/open"): MANAGERS,
    ("POST", SV + "/{survey_id}/close"): MANAGERS,
    ("POST", SV + "/{survey_id}/publish"): MANAGERS,
    ("GET", SV + "/{survey_id}/my-answers"): frozenset({OWNER}),
    ("POST", SV + "/{survey_id}/answers"): frozenset({OWNER}),
    ("GET", SV + "/{survey_id}/results"): MEMBERS,
    # --- 三单一访 work orders (seed 001 §4.7.1, README 三单一访): owners report (grid workers for
    # them: not a principal here, tests/workorders); the committee or the platform dispatches
    # (网格派单), the property company accepts and records the work, the owner it is for rates,
    # the party branch (reviewer) visits. Everyone reads the anonymous stats; the orders
    # themselves: the staff of the loop, and an owner their own (the object check). Observers
    # (两代表一委员) take no part in the loop.
    ("GET", WO + "/categories"): MEMBERS,
    ("GET", WO + "/stats"): MEMBERS,
    ("GET", WO): MEMBERS - {OBSERVER},
    ("POST", WO): frozenset({OWNER}),
    ("GET", WO + "/{work_order_id}"): MEMBERS - {OBSERVER},
    ("POST", WO + "/{work_order_id}/dispatch"): MANAGERS,
    ("POST", WO + "/{work_order_id}/accept"): frozenset({CLERK}),
    ("POST", WO + "/{work_order_id}/done"): frozenset({CLERK}),
    ("POST", WO + "/{work_order_id}/rating"): frozenset({OWNER}),
    ("POST", WO + "/{work_order_id}/visit"): frozenset({REVIEWER}),
    # --- quarterly reports and the annual appraisal (述职评议, seed 002 三(二)3): the property
    # company (clerk) reports to the community party organization (reviewer), which acknowledges;
    # the committee and the company file accounts; the party organization and the committee
    # (for itself and the owner representatives) score; the party organization sets the
    # rectification items and publishes; the company reports them done, the committee confirms.
    # Reports are staff's; owners read published appraisals (the service check).
    ("GET", QR): STAFF,
    ("POST", QR): frozenset({CLERK}),
    ("POST", QR + "/{report_id}/acknowledge"): frozenset({REVIEWER}),
    ("GET", AP): MEMBERS,
    ("GET", AP + "/{year}"): MEMBERS,
    ("POST", AP + "/{year}/accounts"): frozenset({COMMITTEE, CLERK}),
    ("POST", AP + "/{year}/scores"): frozenset({COMMITTEE, REVIEWER}),
    ("POST", AP + "/{year}/rectifications"): frozenset({REVIEWER}),
    ("POST", AP + "/{year}/publish"): frozenset({REVIEWER}),
    ("POST", C + "/rectifications/{rectification_id}/done"): frozenset({CLERK}),
    ("POST", C + "/rectifications/{rectification_id}/confirm"): frozenset({COMMITTEE}),
    # --- the company serving the compound, its credit and the dismissal prompt (README 信用评价与
    # 红黑榜): every member reads the company, the latest list's place and the score's basis (no
    # personal data); the committee (the platform acting for it) records the company; the
    # supervisor records 负面清单 findings (the committee reads them: they are against its
    # company); the prompt is the committee's: shown to the managers, acted on by committee
    # members only (proposing an item is a committee member's act in the procedure).
    ("GET", CR): MEMBERS,
    ("POST", CR + "/company"): MANAGERS,
    ("GET", CR + "/findings"): frozenset({ADMIN, COMMITTEE, SUPERVISOR}),
    ("POST", CR + "/findings"): frozenset({ADMIN, SUPERVISOR}),
    ("POST", CR + "/findings/{finding_id}/withdraw"): frozenset({ADMIN, SUPERVISOR}),
    ("GET", CR + "/dismissal-prompt"): MANAGERS,
    ("POST", CR + "/dismissal-prompt/shown"): MANAGERS,
    ("POST", CR + "/dismissal-prompt/dismiss"): frozenset({COMMITTEE}),
    ("POST", CR + "/dismissal-prompt/proposal"): frozenset({COMMITTEE}),
}

# OUTSIDER holds every grantable role in its own compound, the grid worker (网格员) included, who
# reports work orders for owners (tests/workorders): no other principal is a grid worker.
GRID_WORKER_ROUTES = frozenset({("POST", WO)})

# 403 codes that mean "you may not" (authorization), as opposed to a refusal of the request's
# content or the object's state. A 403 with a code in neither set fails the matrix: classify it.
AUTHZ_CODES = frozenset({
    "forbidden", "forbidden_compound_role", "platform_admin_only", "csrf_failed", "observer_only",
    "procedure_step_role", "procedure_disable_admin_only", "notice_drafts_forbidden",
    "file_private", "ledger_reject_forbidden", "appraisal_score_forbidden", "not_a_voter_for_subject", "not_representative",
    "password_change_required", "credit_list_forbidden", "credit_district_forbidden",
})
STATE_CODES = frozenset({
    "results_not_ready", "receipts_not_public", "unit_record_not_published", "paper_same_person",
})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


_ROUTES: list[tuple[str, str]] = []


def app_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every API route the app serves, from its OpenAPI route table (built
    once per process: the table does not change between app instances)."""
    if not _ROUTES:
        spec = client.app.openapi()  # type: ignore[attr-defined]
        _ROUTES.extend(sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops
                              if p.startswith("/api/")))
    return list(_ROUTES)


def allowed_in(route: tuple[str, str], principal: str, *, own: bool) -> bool:
    """The expectation for one cell: `own` = the compound in the path is the principal's own."""
    allowed = EXPECTED[route]
    if principal == ANONYMOUS:
        return ANONYMOUS in allowed
    if "{compound_id}" not in route[1]:
        return principal in allowed
    if principal == ADMIN:
        return ADMIN in allowed  # platform-wide: the same in every compound
    if not own:
        return False
    if principal == OUTSIDER:  # in their own compound: the union of the five granted roles,
        # and the grid worker's one route of its own (reporting a work order for an owner).
        return (bool(allowed & {COMMITTEE, REVIEWER, OBSERVER, CLERK, SUPERVISOR})
                or route in GRID_WORKER_ROUTES)
    return principal in allowed


def verdict(r: Response) -> str:
    """'allowed' = got past authorization; 'refused' = 401, or 403 with an authorization code."""
    if r.status_code >= 500:
        return "error"
    if r.status_code == 401:
        return "refused"
    if r.status_code == 403:
        try:
            code = r.json().get("error")
        except ValueError:
            return "error"
        if code in AUTHZ_CODES:
            return "refused"
        if code in STATE_CODES:
            return "allowed"
        return f"unclassified 403 {code!r}"
    return "allowed"


# --- a compound with a row of every kind ---------------------------------------------------------

# A valid 统一社会信用代码 per world (GB 32100-2015 check character).
COMPANY_CODES = {"a": "91110105MA01ABCD26", "b": "91110105MA01WXY3TR"}

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, as frozen_clock sets it
BALLOT_START = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 17 March 00:00 in Shanghai
Q1 = "2026-01-01"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NAMES = {
    "a": ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽娟", "周敏", "吴涛"),
    "b": ("孙红梅", "马文博", "朱海燕", "胡晓东", "郭淑珍", "林子涵", "高浩然", "罗欣怡", "梁雨桐",
          "宋梓轩"),
}
ROOMS = (("1栋", "101"), ("1栋", "102"), ("1栋", "201"), ("1栋", "202"), ("2栋", "101"),
         ("2栋", "102"), ("2栋", "201"), ("2栋", "202"), ("2栋", "301"))


@dataclass
class Person:
    name: str
    id_number: str
    phone: str


@dataclass
class CompoundWorld:
    """One compound, its staff and owners, and the id of one real row of every kind."""

    tag: str
    client: TestClient
    clock: FrozenClock
    outbox: Any
    cid: int = 0
    people: list[Person] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)
    _headers: dict[tuple[str, datetime], dict[str, str]] = field(default_factory=dict)

    # staff usernames of this compound
    def user(self, who: str) -> str:
        return "admin" if who == ADMIN else f"{self.tag}_{who}"

    @property
    def owner_phone(self) -> str:
        return self.people[0].phone

    def h(self, who: str) -> dict[str, str]:
        """Bearer headers for 'wy', 'wy2', 'sh', 'gc', 'wg', 'all', 'admin' or 'owner<n>'."""
        key = (who, self.clock.current)
        if key not in self._headers:
            if who.startswith("owner"):
                phone = self.people[int(who[5:] or 0)].phone
                self._headers[key] = owner_bearer(self.client, self.outbox, phone)
            else:
                self._headers[key] = bearer(self.client, self.user(who))
        return self._headers[key]

    def url(self, path: str = "") -> str:
        return f"/api/v1/compounds/{self.cid}{path}"

    def ok(self, method: str, path: str, who: str, json: Any = None, status: int = 200,
           **kw: Any) -> Any:
        r = self.client.request(method, self.url(path), headers=self.h(who), json=json, **kw)
        assert r.status_code == status, (method, path, who, r.status_code, r.text[:300])
        return r.json()

    def upload(self, who: str, purpose: str, name: str = "文件.pdf",
               data: bytes | None = None) -> int:
        data = data or b"%PDF-1.4\n% " + name.encode() + b"\n"
        ctype = "image/png" if data.startswith(b"\x89PNG") else "application/pdf"
        r = self.client.post(self.url("/files"), headers=self.h(who), data={"purpose": purpose},
                             files={"file": (name, io.BytesIO(data), ctype)})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def param(self, name: str, path: str) -> str:
        """The id of this compound's real row for the path parameter `name` of `path`."""
        ids = self.ids
        if name == "compound_id":
            return str(self.cid)
        if name == "grant_id":
            return str(ids["observer_grant" if "/observers/" in path else "grant"])
        if name == "import_id":
            return str(ids["ledger_import" if "/ledger/" in path else "roster_import"])
        if name == "entry_id":
            return str(ids["paper" if "/paper/" in path else "entry"])
        if name == "file_id":
            return str(ids["voucher" if "/entries/" in path else "document"])
        return str(ids[name.removesuffix("_id")])

    def fill(self, path: str, foreign: Any = None,
             foreign_params: frozenset[str] = frozenset()) -> str:
        """The path with real ids of this compound; `foreign_params` taken from `foreign`."""
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            source = foreign if foreign is not None and name in foreign_params else self
            return source.param(name, path)

        return re.sub(r"\{([^}]+)\}", one, path)


def _roster_csv(tag: str, base: int) -> tuple[bytes, list[Person], list[str]]:
    """Nine flats (one co-owned) and one unsold flat, with valid ID numbers and phones."""
    people = []
    for i, name in enumerate(NAMES[tag]):
        first17 = f"110105{1960 + i:04d}{i % 9 + 1:02d}{10 + i:02d}{base % 1000:03d}"
        people.append(Person(name, first17 + importer.resident_id_check_char(first17),
                             f"139{base + i + 1:08d}"))
    units = []
    for i, (building, room) in enumerate(ROOMS):
        unit = demo._DemoUnit(building, "", room, 8000 + 500 * i)
        unit.owners = [demo._Person(p.name, p.id_number, p.phone)
                       for p in (people[i:i + 2] if i == 8 else [people[i]])]
        units.append(unit)
    units.append(demo._DemoUnit("2栋", "", "302", 5000, status="未售"))
    return demo.demo_roster_csv(units), people, [u.label for u in units]


def build_compound(db: Session, client: TestClient, clock: FrozenClock, outbox: Any, *,
                   tag: str, community: str, base: int, publish_unit_record: bool = True,
                   ) -> CompoundWorld:
    """A compound whose every route has a real row to point at, most of them in a final state
    (a published ballot, an accepted proxy, a confirmed paper ballot, a resolved conflict, an
    answered objection, an applied roster import, a published ledger quarter, revoked grants),
    so that an allowed write without a body changes nothing. Starts on 2 March 2026 (the
    frozen_clock fixture's day) and leaves the clock on 2 April 2026.
    """
    clock.current = START
    db.rollback()  # a read transaction left open would hold an old snapshot (SQLite)
    compound = make_compound(db, community=community)
    assert compound.id is not None
    w = CompoundWorld(tag=tag, client=client, clock=clock, outbox=outbox, cid=compound.id)
    for who, roles in (("wy", [Role.COMMITTEE]), ("wy2", [Role.COMMITTEE]),
                       ("sh", [Role.REVIEWER]), ("gc", [Role.OBSERVER]), ("wg", [Role.CLERK]),
                       ("sv", [Role.SUPERVISOR]), ("all", list(GRANTABLE_ROLES)), ("dep", []),
                       ("tmp", [])):
        make_staff(db, username=w.user(who), roles={compound.id: roles})
    if db.execute(select(UserAccount.id).where(UserAccount.username == "admin")).first() is None:
        make_staff(db, username="admin", platform_admin=True)
    db.commit()
    ids = w.ids

    # Roster through the real import (preview, then apply).
    content, w.people, w.labels = _roster_csv(tag, base)
    r = client.post(w.url("/roster/imports"), headers=w.h("wy"),
                    files={"file": ("名册.csv", io.BytesIO(content), "text/csv")})
    assert r.status_code == 201, r.text
    ids["roster_import"] = r.json()["id"]
    w.ok("POST", f"/roster/imports/{ids['roster_import']}/apply", "wy")
    subjects = w.ok("GET", "/subjects?limit=200", "wy")["items"]
    by_phone_index = {}
    for s in subjects:
        for i, p in enumerate(w.people):
            if any(o.get("phone_masked") == p.phone[:3] + "****" + p.phone[-4:]
                   for o in s.get("owners", [])):
                by_phone_index.setdefault(i, s["id"])
    ids["subject"] = by_phone_index[0]
    ids["unit"] = w.ok("GET", "/units?limit=1", "wy")["items"][0]["id"]

    # A grant, revoked; a public document and a published notice carrying it.
    tmp = db.execute(select(UserAccount.id).where(UserAccount.username == w.user("tmp"))
                     ).scalar_one()
    db.rollback()
    grant = w.ok("POST", "/grants", "admin", {"user_id": tmp, "role": "clerk"}, status=201)
    ids["grant"] = grant["id"]
    ids["user"] = tmp  # the staff account the account routes (/accounts/{user_id}/…) name
    w.ok("DELETE", f"/grants/{grant['id']}", "admin")
    ids["document"] = w.upload("wy", "document", "小区东门改造方案.pdf")
    notice = w.ok("POST", "/notices", "wy", {
        "kind": "general", "title": "关于东门改造的通知", "body": "详见附件。",
        "attachment_file_ids": [ids["document"]]}, status=201)
    ids["notice"] = w.ok("POST", f"/notices/{notice['id']}/publish", "wy")["id"]
    w.ok("PUT", "/voting/settings", "wy", {"publish_unit_record": publish_unit_record})

    # Ledger, first quarter: an approved entry with its voucher; an import, one row accepted
    # (and approved by the other committee member), one discarded.
    ids["voucher"] = w.upload("wg", "voucher", "停车费收据.png", PNG)
    entry = w.ok("POST", "/ledger/entries", "wg", {
        "direction": "income", "category": "停车", "entry_date": "2026-03-01",
        "amount": "1,000.00", "counterparty": "阳光物业服务有限公司", "description": "临时停车费",
        "voucher_file_ids": [ids["voucher"]]}, status=201)
    ids["entry"] = w.ok("POST", f"/ledger/entries/{entry['id']}/approve", "wy")["id"]
    csv_text = ("日期,收支,类别,金额（元）,对方,摘要\n"
                "2026-03-01,收入,广告,300.00,某某传媒有限公司,电梯广告位租金\n"
                "2026-03-01,收入,快递柜,100.00,某某快递柜公司,快递柜场地费\n")
    r = client.post(w.url("/ledger/imports"), headers=w.h("wg"),
                    files={"file": ("导入.csv", io.BytesIO(csv_text.encode()), "text/csv")})
    assert r.status_code == 201, r.text
    ids["ledger_import"] = r.json()["id"]
    rows = [row["id"] for row in r.json()["rows"]]
    ids["row"] = rows[0]
    accepted = w.ok("POST", f"/ledger/imports/{ids['ledger_import']}/rows/{rows[0]}/accept", "wy",
                    {}, status=201)
    w.ok("POST", f"/ledger/entries/{accepted['id']}/approve", "wy2")
    w.ok("POST", f"/ledger/imports/{ids['ledger_import']}/rows/{rows[1]}/discard", "wy",
         {"reason": "重复导入"})

    # Procedure: item 1 walked to its ballot; item 2 waits for the reviewer.
    w.ok("PUT", "/procedures/settings", "wy", {"template_key": "sanyi_yishen"})

    def propose(who: str, title: str, matter_type: str, category: str, body: str) -> dict:
        return w.ok("POST", "/procedures/items", who, {
            "title": title, "text": f"方案全文：{title}。", "matter_type": matter_type,
            "category": category, "proposer_body": body,
            "document_file_ids": [w.upload(who, "document", "方案.pdf")]}, status=201)

    def decide(item: dict, who: str) -> dict:
        step = item["current_step"]
        body: dict[str, Any] = {"step_key": step["key"], "action": "approve", "opinion": "同意"}
        if step["kind"] == "meeting":
            body |= {"meeting_date": "2026-03-03", "attendees": ["小区党支部", "业主委员会"],
                     "file_ids": [w.upload(who, "minutes", "会议纪要.pdf")]}
        return w.ok("POST", f"/procedures/items/{item['id']}/decisions", who, body, status=201)

    item = propose("wy", "利用小区东门空地设置快递柜并收取场地费", "common_parts", "8",
                   "committee")
    item = decide(decide(item, "wy"), "sh")
    ids["item"] = item["id"]
    waiting = propose("wg", "调整物业服务收费标准", "fee_adjustment", "9", "property_company")
    ids["waiting_item"] = decide(waiting, "wy")["id"]
    made = w.ok("POST", "/procedures/observers", "sh",
                {"username": w.user("dep"), "organization": "区人大代表"}, status=201)
    w.ok("POST", f"/procedures/observers/{made['id']}/revoke", "sh")
    ids["observer_grant"] = made["id"]
    made = w.ok("POST", f"/procedures/items/{ids['item']}/observers", "sh",
                {"username": w.user("dep"), "organization": "市政协委员"}, status=201)
    w.ok("POST", f"/procedures/items/{ids['item']}/observers/{made['id']}/revoke", "sh")
    ids["appointment"] = made["id"]

    # The ballot: linked, noticed, a proxy accepted, opened, votes online and on paper, a
    # conflict resolved, closed, an objection answered, published.
    ballot = w.ok("POST", "/ballots", "wy", {
        "title": "2026年第一次业主大会", "description": "请各位业主按时参加表决。",
        "starts_at": BALLOT_START.isoformat(),
        "ends_at": (BALLOT_START + timedelta(days=7)).isoformat(),
        "matters": [{"title": "利用小区东门空地设置快递柜并收取场地费", "category": "8"},
                    {"title": "小区绿化满意度调查", "category": "survey"}]}, status=201)
    ids["ballot"] = bid = ballot["id"]
    matters = [m["id"] for m in ballot["matters"]]
    w.ok("POST", f"/procedures/items/{ids['item']}/ballot-link", "wy",
         {"ballot_id": bid, "matter_id": matters[0]})
    w.ok("POST", f"/ballots/{bid}/notice", "wy", {})
    doc = w.upload("owner3", "proxy_authorization", "委托书.pdf")
    proxy = w.ok("POST", f"/ballots/{bid}/proxies", "owner3", {
        "subject_id": by_phone_index[3], "proxy_name": "钱多多",
        "proxy_phone": f"137{base + 88:08d}", "document_file_id": doc}, status=201)
    ids["proxy"] = w.ok("POST", f"/ballots/{bid}/proxies/{proxy['id']}/accept", "wy")["id"]

    clock.current = BALLOT_START + timedelta(hours=1)
    w.ok("POST", f"/ballots/{bid}/open", "wy")
    choices = {str(matters[0]): "agree", str(matters[1]): "agree"}
    for i in (0, 1, 2):
        w.ok("POST", f"/ballots/{bid}/votes", f"owner{i}",
             {"subject_id": by_phone_index[i], "choices": choices}, status=201)
    scan = w.upload("wy", "paper_ballot", "表决票.pdf")
    paper = w.ok("POST", f"/ballots/{bid}/paper", "wy",
                 {"subject_id": by_phone_index[4], "choices": choices, "scan_file_id": scan},
                 status=201)
    ids["paper"] = w.ok("POST", f"/ballots/{bid}/paper/{paper['id']}/confirm", "wy2")["id"]
    twice = w.ok("POST", f"/ballots/{bid}/paper", "wy",
                 {"subject_id": by_phone_index[0], "choices": choices, "scan_file_id": scan},
                 status=201)
    r = client.post(w.url(f"/ballots/{bid}/paper/{twice['id']}/confirm"), headers=w.h("wy2"))
    assert r.status_code == 409, r.text
    conflict = w.ok("GET", f"/ballots/{bid}/conflicts", "wy")[0]
    ids["conflict"] = w.ok("POST", f"/ballots/{bid}/conflicts/{conflict['id']}/resolve", "wy",
                           {"accept_incoming": False, "note": "以网上投票为准"})["id"]
    clock.current = BALLOT_START + timedelta(days=7, hours=1)
    closed = w.ok("POST", f"/ballots/{bid}/close", "wy")
    objection = w.ok("POST", f"/ballots/{bid}/objections", "owner1",
                     {"subject_id": by_phone_index[1], "text": "请核对本户表决记录。"}, status=201)
    ids["objection"] = w.ok("POST", f"/ballots/{bid}/objections/{objection['id']}/answer", "wy",
                            {"answer": "经核对，记录无误。"})["id"]
    clock.current = datetime.fromisoformat(closed["objection_ends_at"]) + timedelta(hours=1)
    w.ok("POST", f"/ballots/{bid}/publish", "wy")
    w.ok("POST", f"/procedures/items/{ids['item']}/resolution", "wy")
    item = w.ok("GET", f"/procedures/items/{ids['item']}", "wy")
    w.ok("POST", f"/procedures/items/{ids['item']}/publications", "wy", {
        "step_key": item["current_step"]["key"], "title": "关于设置快递柜的决议公开",
        "body": "业主大会已表决通过。"}, status=201)

    # After the quarter: close, attach the audit report, publish.
    clock.current = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    w.ok("POST", f"/ledger/periods/{Q1}/close", "wy")
    report = w.upload("wy", "audit_report", "审计报告.pdf")
    w.ok("POST", f"/ledger/periods/{Q1}/audit-report", "wy", {"file_id": report})
    w.ok("POST", f"/ledger/periods/{Q1}/publish", "wy")
    ids["start_date"] = Q1

    # A survey from the annual template, answered by five flats, closed and published.
    survey = w.ok("POST", "/surveys", "wy", {
        "template_key": "property_satisfaction", "year": 2026,
        "opens_at": "2026-04-02T10:00:00+08:00", "closes_at": "2026-04-09T10:00:00+08:00"},
        status=201)
    ids["survey"] = sid = survey["id"]
    w.ok("POST", f"/surveys/{sid}/open", "wy")
    answers = [{"question_id": q["id"], "value": 3} for q in survey["questions"]]
    for i in (0, 1, 2, 3, 4):
        w.ok("POST", f"/surveys/{sid}/answers", f"owner{i}",
             {"subject_id": by_phone_index[i], "answers": answers, "comment": "保洁很认真"},
             status=201)
    w.ok("POST", f"/surveys/{sid}/close", "wy")
    w.ok("POST", f"/surveys/{sid}/publish", "wy")

    # A work order round the four steps (三单一访), closed by the branch's visit.
    order = w.ok("POST", "/work-orders", "owner0", {
        "category": "repair", "text": "3栋楼道灯不亮", "location": "3栋1单元",
        "photo_file_ids": [w.upload("owner0", "attachment", "楼道灯.png", PNG)]}, status=201)
    ids["work_order"] = oid = order["id"]
    w.ok("POST", f"/work-orders/{oid}/dispatch", "wy", {})
    w.ok("POST", f"/work-orders/{oid}/accept", "wg")
    w.ok("POST", f"/work-orders/{oid}/done", "wg", {"note": "已更换灯泡"})
    w.ok("POST", f"/work-orders/{oid}/rating", "owner0", {"rating": "satisfied"})
    w.ok("POST", f"/work-orders/{oid}/visit", "sh", {"note": "已回访，业主满意"})
    # A quarterly report, and the year's appraisal filed, scored and published with one item.
    ids["report"] = w.ok("POST", "/quarterly-reports", "wg",
                         {"year": 2026, "quarter": 1, "text": "一季度履行合同情况"}, status=201)["id"]
    w.ok("POST", "/appraisals/2026/accounts", "wy", {"text": "业委会年度述职"}, status=201)
    w.ok("POST", "/appraisals/2026/accounts", "wg", {"text": "物业年度述职"}, status=201)
    sheet = dict.fromkeys(("contract", "service", "repairs", "openness", "reporting"), 85)
    for who, kind, name in (("sh", "party", "社区党委"), ("wy", "committee", "业委会"),
                            ("wy", "owner_rep", "业主代表甲")):
        w.ok("POST", "/appraisals/2026/scores", who,
             {"appraiser_kind": kind, "appraiser_name": name, "scores": sheet}, status=201)
    ids["rectification"] = w.ok("POST", "/appraisals/2026/rectifications", "sh",
                                {"text": "车库照明修复", "due_on": "2026-12-31"}, status=201)["id"]
    w.ok("POST", "/appraisals/2026/publish", "sh")
    ids["year"] = 2026
    # The company serving the compound, a 负面清单 finding, and the district's list for the first
    # quarter, published by the compound's supervisor over the compound granted to it.
    w.ok("POST", "/credit/company", "wy", {
        "name": f"阳光物业服务有限公司{tag.upper()}", "credit_code": COMPANY_CODES[tag],
        "contract_starts_on": "2025-01-01", "contract_ends_on": "2027-12-31"}, status=201)
    ids["finding"] = w.ok("POST", "/credit/findings", "sv",
                          {"found_on": "2026-03-20", "text": "擅自占用消防通道停放车辆"}, status=201)["id"]
    preview = client.get("/api/v1/credit/preview", headers=w.h("sv"),
                         params={"district": "朝阳区", "year": 2026, "quarter": 1})
    assert preview.status_code == 200, preview.text
    r = client.post("/api/v1/credit/lists", headers=w.h("sv"), json={
        "district": "朝阳区", "year": 2026, "quarter": 1, "threshold_mode": "score", "red": 90,
        "black": 60, "digest": preview.json()["digest"]})
    assert r.status_code == 201, r.text
    ids["list"] = r.json()["summary"]["id"]
    ids["matter"] = matters[0]
    ids["owner_row"] = next(o["id"] for s in subjects if s["id"] == ids["subject"]
                            for o in s["owners"])
    ids["owner"] = ids["owner_row"]
    return w


def response_text(r: Response) -> str:
    """What a person reads in a response: JSON/text as is, PDFs through pdftotext, XLSX cells."""
    ctype = r.headers.get("content-type", "")
    if r.content.startswith(b"%PDF"):
        # Small fixture files are not real PDFs: read them as bytes; real ones as text.
        done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=r.content,
                              capture_output=True, check=False)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
        return r.content.decode("latin-1")
    if "spreadsheetml" in ctype or r.content.startswith(b"PK\x03\x04"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(r.content), read_only=True)
        return "\n".join("\t".join("" if v is None else str(v) for v in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    return r.content.decode("utf-8", "replace")


def table_counts(db: Session) -> dict[str, int]:
    """Rows per table, and each compound's audit head: a fingerprint of the whole state."""
    db.rollback()
    counts = {t.name: db.execute(select(func.count()).select_from(t)).scalar_one()
              for t in SQLModel.metadata.sorted_tables}
    for cid, seq in db.execute(select(AuditEvent.compound_id, func.max(AuditEvent.seq))
                               .group_by(AuditEvent.compound_id)):
        counts[f"audit_head:{cid}"] = seq
    db.rollback()
    return counts


# One's own session and password: an observer's own account, not a write to any compound.
SESSION_ROUTES = {"/api/v1/auth/otp/request", "/api/v1/auth/otp/verify", "/api/v1/auth/login",
                  "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/password",
                  # one's own SMS opt-out: a setting of the caller's phone, open to every account
                  "/api/v1/me/messages/opt-out"}
