"""Owners see published periods only; other compounds' people see nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import GRANTABLE_ROLES
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer
from tests.ledger.helpers import Q1, Q2, after_quarter, build_ledger_world


def test_owner_never_sees_unpublished_entries(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender
) -> None:
    lw = build_ledger_world(db, client)
    entry = lw.booked()
    voucher = entry["vouchers"][0]["url"]
    after_quarter(frozen_clock, lw)
    owner = lw.owner(outbox)

    def hidden() -> None:
        assert client.get(lw.url("/ledger/periods"), headers=owner).json() == []
        r = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=owner)
        assert r.status_code == 404
        assert client.get(lw.url(f"/ledger/entries/{entry['id']}"), headers=owner).status_code == 404
        assert client.get(voucher, headers=owner).status_code == 404
        for suffix in ("statement.pdf", "statement.xlsx"):
            assert client.get(lw.url(f"/ledger/periods/{Q1}/{suffix}"), headers=owner).status_code == 404
        r = client.get(lw.url("/ledger/entries"), headers=owner)
        assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role"

    hidden()
    lw.close(Q1)
    hidden()  # closed is not published
    lw.publish(Q1)
    # Recorded in the current period and still unpublished: never shown.
    current = lw.booked(entry_date="2026-04-02", amount="77.00")
    periods = client.get(lw.url("/ledger/periods"), headers=owner).json()
    assert [p["start_date"] for p in periods] == [Q1]
    detail = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=owner).json()
    assert [e["id"] for e in detail["entries"]] == [entry["id"]]
    assert client.get(voucher, headers=owner).status_code == 200
    assert client.get(lw.url(f"/ledger/entries/{entry['id']}"), headers=owner).status_code == 200
    assert client.get(lw.url(f"/ledger/periods/{Q2}"), headers=owner).status_code == 404
    assert client.get(lw.url(f"/ledger/entries/{current['id']}"), headers=owner).status_code == 404
    assert client.get(lw.url(f"/ledger/periods/{Q1}/statement.pdf"), headers=owner).status_code == 200


def test_another_compounds_people_are_refused(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender
) -> None:
    lw = build_ledger_world(db, client)
    entry = lw.booked()
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    lw.publish(Q1)
    other = make_compound(db, community="乙社区")
    add_roster(db, other, [UnitSpec("1栋", "101", 9000, ["外人"])], phones={"外人": "13911112222"})
    make_staff(db, username="outsider", roles={other.id: list(GRANTABLE_ROLES)})
    db.commit()
    for headers in (bearer(client, "outsider"), owner_bearer(client, outbox, "13911112222")):
        for path in ("/ledger/status", "/ledger/periods", f"/ledger/periods/{Q1}",
                     f"/ledger/entries/{entry['id']}", entry["vouchers"][0]["url"]):
            url = path if path.startswith("/api") else lw.url(path)
            r = client.get(url, headers=headers)
            assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role", (path, r.text)
        r = client.post(lw.url(f"/ledger/entries/{entry['id']}/reverse"), headers=headers,
                        json={"reason": "x"})
        assert r.status_code == 403
