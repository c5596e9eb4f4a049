"""Issue 11, findings 2, 3, 6 and two of 10: each reproduced as it was found, now refused.

2. /files/{id} decided by purpose only: any member read a draft ballot's document, minutes of an
   item not yet visible to owners, an unpublished audit report, another owner's upload.
3. Observers and reviewers read a paper ballot's scan while the ballot was open, and every
   proxy authorization and signed delivery receipt.
6. A reviewer could appoint the property company's clerk (or any staff account) an observer.
10. Right-to-left override characters were kept in file names; uploads had no per-owner cap.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.auth.models import Role, UserAccount
from app.clock import FrozenClock
from app.config import get_settings
from app.files.service import safe_name
from tests.factories import make_staff
from tests.security.file_world import (
    ADMIN,
    CLERK,
    COMMITTEE,
    OBSERVER,
    OTHER_OWNER,
    OWNER,
    REVIEWER,
    FileWorld,
    build_file_world,
)


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox) -> FileWorld:  # type: ignore[no-untyped-def]
    return build_file_world(db, client, frozen_clock, outbox)


def _refused(w: FileWorld, file_id: int, who: str) -> None:
    r = w.client.get(w.url(f"/files/{file_id}"), headers=w.h(who))
    assert r.status_code == 404 and r.json()["error"] == "file_not_found", (who, r.status_code, r.text)


def _allowed(w: FileWorld, file_id: int, who: str) -> None:
    r = w.client.get(w.url(f"/files/{file_id}"), headers=w.h(who))
    assert r.status_code == 200, (who, r.status_code, r.text)


# --- finding 2 --------------------------------------------------------------------------------


def test_a_draft_ballots_document_is_the_committees(world: FileWorld) -> None:
    world.advance("draft")
    doc = world.files[("document", "ballot_matter")]
    for who in (OWNER, OTHER_OWNER, CLERK, REVIEWER, OBSERVER):
        _refused(world, doc, who)
    _allowed(world, doc, COMMITTEE)
    world.advance("noticed")
    for who in (OWNER, OTHER_OWNER, CLERK, REVIEWER, OBSERVER):
        _allowed(world, doc, who)


def test_minutes_and_proposal_of_an_item_before_review_are_not_the_owners(world: FileWorld) -> None:
    world.advance("draft")
    minutes = world.files[("minutes", "agenda_step")]
    proposal = world.files[("document", "agenda_version")]
    for file_id in (minutes, proposal):
        for who in (OWNER, OTHER_OWNER):
            _refused(world, file_id, who)
        _allowed(world, file_id, REVIEWER)
    world.advance("noticed")  # the review approved it: the owners' timeline shows it
    for file_id in (minutes, proposal):
        _allowed(world, file_id, OTHER_OWNER)


def test_an_audit_report_is_the_owners_once_its_quarter_is_published(world: FileWorld) -> None:
    world.advance("closed")
    report = world.files[("audit_report", "ledger_period")]
    voucher = world.files[("voucher", "ledger_entry")]
    for file_id in (report, voucher):
        _refused(world, file_id, OWNER)
        _allowed(world, file_id, CLERK)
    world.advance("published")
    for file_id in (report, voucher):
        _allowed(world, file_id, OWNER)


def test_another_owners_upload_is_theirs_alone(world: FileWorld) -> None:
    world.advance("draft")
    mine = world.files[("attachment", "unattached")]
    _allowed(world, mine, OWNER)
    for who in (OTHER_OWNER, COMMITTEE, CLERK, OBSERVER, ADMIN):
        _refused(world, mine, who)


# --- finding 3 --------------------------------------------------------------------------------


def test_paper_scans_stay_with_the_committee_until_the_close(world: FileWorld) -> None:
    world.advance("open")
    scan = world.files[("paper_ballot", "paper_entry")]
    for who in (OBSERVER, REVIEWER, ADMIN, CLERK, OWNER):
        _refused(world, scan, who)
    _allowed(world, scan, COMMITTEE)
    world.advance("closed")  # DOMAIN §6: the overseers check the tally inputs after the close
    for who in (OBSERVER, REVIEWER, ADMIN):
        _allowed(world, scan, who)
    for who in (CLERK, OWNER):
        _refused(world, scan, who)


def test_authorizations_and_receipts_are_not_for_overseers(world: FileWorld) -> None:
    world.advance("published")
    authorization = world.files[("proxy_authorization", "proxy")]
    receipt = world.files[("delivery_evidence", "delivery")]
    for file_id in (authorization, receipt):
        for who in (OBSERVER, REVIEWER, CLERK, OTHER_OWNER):
            _refused(world, file_id, who)
        _allowed(world, file_id, COMMITTEE)
    _allowed(world, authorization, OWNER)  # the owner who filed it


# --- finding 6 --------------------------------------------------------------------------------


def test_no_staff_account_is_made_an_observer(world: FileWorld, db: Session) -> None:
    world.advance("draft")
    appoint = {"organization": "区人大代表"}
    for username in ("fw_wg", "fw_wy", "fw_sh", "fw_admin"):  # clerk, committee, reviewer, platform
        for path in ("/procedures/observers", f"/procedures/items/{world.ids['item']}/observers"):
            r = world.client.post(world.url(path), headers=world.h(REVIEWER),
                                  json={**appoint, "username": username})
            assert r.status_code == 409, (username, path, r.text)
            assert r.json()["error"] == "observer_holds_staff_role"
    # A deputy with no role in the compound is appointed; then no staff role is granted to them.
    make_staff(db, username="fw_deputy")
    db.commit()
    made = world.client.post(world.url("/procedures/observers"), headers=world.h(REVIEWER),
                             json={**appoint, "username": "fw_deputy"})
    assert made.status_code == 201, made.text
    deputy = db.execute(select(UserAccount.id).where(UserAccount.username == "fw_deputy")).scalar_one()
    db.rollback()
    for role in (Role.CLERK, Role.COMMITTEE, Role.REVIEWER):
        r = world.client.post(world.url("/grants"), headers=world.h(ADMIN),
                              json={"user_id": deputy, "role": role.value})
        assert r.status_code == 409 and r.json()["error"] == "staff_role_for_observer", r.text


# --- finding 10: file names and the upload cap ------------------------------------------------


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                  "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u200b",
                                  "\u200d", "\ufeff", "\u061c", "\u00ad"])
def test_invisible_format_characters_are_dropped_from_names(char: str) -> None:
    assert safe_name(f"发票{char}fdp.exe") == "发票fdp.exe"


def test_controls_and_separators_become_underscores() -> None:
    assert safe_name("a\x00b\x1fc\x7fd\u0085e\u2028f\u2029g.pdf") == "a_b_c_d_e_f_g.pdf"
    assert safe_name('../../etc/"pass"wd') == "_pass_wd"
    assert safe_name("\u202e") == "file"


def test_a_right_to_left_override_never_reaches_a_stored_name(world: FileWorld) -> None:
    world.advance("draft")
    name = "付款凭证\u202egpj.exe"  # shows as 付款凭证exe.jpg
    r = world.client.post(world.url("/files"), headers=world.h(OWNER), data={"purpose": "attachment"},
                          files={"file": (name, io.BytesIO(b"%PDF-1.4\n"), "application/pdf")})
    assert r.status_code == 201, r.text
    assert r.json()["file_name"] == "付款凭证gpj.exe"
    got = world.client.get(world.url(f"/files/{r.json()['id']}"), headers=world.h(OWNER))
    assert "%E2%80%AE" not in got.headers["content-disposition"]


def test_an_owner_has_a_daily_upload_cap(world: FileWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    world.advance("draft")  # the owner uploaded one file of each purpose already
    settings = get_settings()
    used = len([k for k in world.files if k[1] == "unattached"])
    monkeypatch.setattr(settings, "owner_uploads_per_day", used + 2)

    def upload(who: str, size: int = 16) -> tuple[int, dict]:
        data = b"%PDF-1.4\n" + b"0" * size
        r = world.client.post(world.url("/files"), headers=world.h(who), data={"purpose": "attachment"},
                              files={"file": ("说明.pdf", io.BytesIO(data), "application/pdf")})
        return r.status_code, r.json()

    assert upload(OWNER)[0] == 201
    assert upload(OWNER)[0] == 201
    status, body = upload(OWNER)
    assert status == 429 and body["error"] == "upload_quota_files", body
    assert "24小时内最多上传" in body["detail"]
    # Nothing was stored for the refused upload; staff keep their own, higher cap.
    assert upload(COMMITTEE)[0] == 201
    # A day later the owner may upload again.
    world.clock.current += timedelta(hours=24, minutes=1)
    assert upload(OWNER)[0] == 201
    # The byte cap: the files of the last 24 hours and this one together.
    monkeypatch.setattr(settings, "owner_upload_bytes_per_day", 1000)
    status, body = upload(OWNER, size=2000)
    assert status == 413 and body["error"] == "upload_quota_bytes", body
    assert "合计不能超过" in body["detail"]
