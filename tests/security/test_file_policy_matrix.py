"""Every file purpose × every principal × every lifecycle state, against a hand-written table.

A file is readable exactly when an object it is attached to is readable by the caller in that
object's state (app/policy.py). EXPECTED below is written from the rules (DOMAIN.md §3–§8, the
README "Security model"), not derived from the code; the test walks one compound through the
five states (tests/security/file_world.py) and downloads every file as every principal at each.

It fails when a purpose (app.files.service.PURPOSES) or a ballot status
(app.voting.service.STATUS_LABELS) appears that the table does not place.
"""

from __future__ import annotations

from typing import get_args, get_type_hints

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from app.files.service import PURPOSES
from app.notices.service import NoticeView
from app.voting.service import STATUS_LABELS
from tests.security.file_world import (
    ADMIN,
    CLERK,
    COMMITTEE,
    OBSERVER,
    OTHER_COMPOUND,
    OTHER_OWNER,
    OWNER,
    PRINCIPALS,
    PROXY,
    REVIEWER,
    STATES,
    build_file_world,
)

MANAGERS = frozenset({COMMITTEE, ADMIN})
WATCHERS = MANAGERS | {REVIEWER, OBSERVER}  # DOMAIN §6, §8: the overseers
STAFF = WATCHERS | {CLERK}
MEMBERS = STAFF | {OWNER, OTHER_OWNER}
# The host does not hold the file yet in this state (a proxy is filed once the ballot is
# noticed, paper is entered once it is open, ...): the "unattached" row covers such a file.
ABSENT = None

# Each ballot status is one of the five states of the table (a new status fails the test).
BALLOT_STATES = {"draft": "draft", "noticed": "noticed", "open": "open", "ended": "open",
                 "closed": "closed", "tallied": "closed", "published": "published",
                 # Withdrawn or moved (app/voting/lifecycle.py): the file rules read only whether
                 # the ballot was noticed and whether it closed, and none of these ever closes.
                 "deleted": "draft", "postponed": "noticed", "lapsed": "noticed",
                 "cancelled": "open"}
# A notice is a draft, or published (every later state); an agenda item is before review
# (draft) or public; a ledger quarter is open (draft to open), closed, or published.
NOTICE_STATES = {"draft": "draft", "on_display": "published", "display_ended": "published",
                 "superseded": "published"}


def _row(draft: frozenset[str] | None, noticed: frozenset[str] | None, open_: frozenset[str] | None,
         closed: frozenset[str] | None, published: frozenset[str] | None) -> dict[str, frozenset[str] | None]:
    return dict(zip(STATES, (draft, noticed, open_, closed, published), strict=True))


def _same(readers: frozenset[str]) -> dict[str, frozenset[str] | None]:
    return _row(readers, readers, readers, readers, readers)


# (purpose, the object holding the file) -> state -> who may download it (None: not yet held).
EXPECTED: dict[tuple[str, str], dict[str, frozenset[str] | None]] = {
    # A ballot's matter document: the committee's draft; from the notice on, every member.
    ("document", "ballot_matter"): _row(MANAGERS, MEMBERS, MEMBERS, MEMBERS, MEMBERS),
    # A procedure's proposal and minutes: the staff record from the start (the property company
    # and the reviewers take part); owners from the review's approval (public timeline).
    ("document", "agenda_version"): _row(STAFF, MEMBERS, MEMBERS, MEMBERS, MEMBERS),
    ("minutes", "agenda_step"): _row(STAFF, MEMBERS, MEMBERS, MEMBERS, MEMBERS),
    # A notice's attachment: the editors' draft; published, its audience (the whole compound).
    ("attachment", "notice"): _row(MANAGERS, MEMBERS, MEMBERS, MEMBERS, MEMBERS),
    # Names and ID numbers: the committee that accepts it (and the platform), and the filer;
    # never the overseers, the property company or the proxy (DOMAIN §6 names no such record).
    ("proxy_authorization", "proxy"): _row(ABSENT, MANAGERS | {OWNER}, MANAGERS | {OWNER},
                                            MANAGERS | {OWNER}, MANAGERS | {OWNER}),
    # The scan shows the choices: only the committee, who enter and confirm it, while the
    # ballot runs (not even the platform, which does not see paper choices before the close);
    # after the close the overseers check the tally inputs (DOMAIN §6).
    ("paper_ballot", "paper_entry"): _row(ABSENT, ABSENT, frozenset({COMMITTEE}), WATCHERS,
                                          WATCHERS),
    # The delivery record (board photos, signed receipts): the committee and the platform.
    ("board_photo", "posting"): _row(ABSENT, MANAGERS, MANAGERS, MANAGERS, MANAGERS),
    ("delivery_evidence", "delivery"): _row(ABSENT, MANAGERS, MANAGERS, MANAGERS, MANAGERS),
    # The ledger: staff always; owners the approved entries of a published quarter.
    ("voucher", "ledger_entry"): _row(STAFF, STAFF, STAFF, STAFF, MEMBERS),
    ("voucher", "ledger_import"): _same(STAFF),  # an imported file's rows are staff drafts
    ("audit_report", "ledger_period"): _row(ABSENT, ABSENT, ABSENT, STAFF, MEMBERS),
    # Attached to nothing: the uploader's alone (here the owner; the other owner is refused).
    **{(purpose, "unattached"): _same(frozenset({OWNER})) for purpose in PURPOSES},
}


def test_the_table_places_every_purpose_state_and_principal() -> None:
    """A new purpose, ballot or notice status, or state must be given its row here first."""
    assert {purpose for purpose, host in EXPECTED if host != "unattached"} == set(PURPOSES)
    assert {purpose for purpose, host in EXPECTED if host == "unattached"} == set(PURPOSES)
    assert set(BALLOT_STATES) == set(STATUS_LABELS)
    assert set(BALLOT_STATES.values()) == set(STATES)
    notice_statuses = get_args(get_type_hints(NoticeView.status.fget)["return"])  # type: ignore[arg-type]
    assert set(NOTICE_STATES) == set(notice_statuses)
    assert set(NOTICE_STATES.values()) <= set(STATES)
    for key, row in EXPECTED.items():
        assert tuple(row) == STATES, key
        for readers in row.values():
            assert readers is None or readers <= set(PRINCIPALS), key
            # Another compound's people and a proxy (through /files) read none of the files.
            assert readers is None or not readers & {OTHER_COMPOUND, PROXY}, key


def test_file_policy_matrix(db: Session, client: TestClient, frozen_clock: FrozenClock,
                            outbox) -> None:  # type: ignore[no-untyped-def]
    w = build_file_world(db, client, frozen_clock, outbox)
    wrong: list[str] = []
    cells = 0
    for state in STATES:
        w.advance(state)
        for key, row in EXPECTED.items():
            readers = row[state]
            file_id = w.files.get(key)
            if readers is ABSENT:
                assert file_id is None, f"{key} is held in state {state}: give it a row"
                continue
            assert file_id is not None, f"{key} is not held in state {state}"
            for who in PRINCIPALS:
                status = w.get_file(file_id, who)
                cells += 1
                if status not in (200, 401, 403, 404):  # 401: the proxy before it has an account
                    wrong.append(f"{state} {key} {who}: {status}")
                elif (status == 200) != (who in readers):
                    wrong.append(f"{state} {key} {who}: {'allowed' if status == 200 else 'refused'}"
                                 f", expected {'allowed' if who in readers else 'refused'}")
    assert wrong == [], "\n".join(wrong)
    assert cells >= len(PURPOSES) * len(PRINCIPALS) * len(STATES)
    print(f"\nfile policy: {cells} cells")
