"""Uploads: type and size checks, content addressing, and who may read private files."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.auth.sender import MemorySender
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 32
PHONE = "13800000055"


def _setup(db: Session, client: TestClient, outbox: MemorySender):  # type: ignore[no-untyped-def]
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["甲"])], phones={"甲": PHONE})
    make_staff(db, username="clerk1", roles={compound.id: [Role.CLERK]})
    make_staff(db, username="wyh", roles={compound.id: [Role.COMMITTEE]})
    db.commit()
    return compound.id, bearer(client, "clerk1"), bearer(client, "wyh"), owner_bearer(client, outbox, PHONE)


def _upload(client: TestClient, cid: int, headers: dict, purpose: str, data: bytes = PNG,
            ctype: str = "image/png"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/compounds/{cid}/files", headers=headers, data={"purpose": purpose},
                       files={"file": ("x.png", io.BytesIO(data), ctype)})


def test_type_and_content_must_agree(client: TestClient, db: Session, outbox: MemorySender) -> None:
    cid, clerk, _, _ = _setup(db, client, outbox)
    assert _upload(client, cid, clerk, "voucher", b"not a png").status_code == 415
    assert _upload(client, cid, clerk, "voucher", ctype="application/x-msdownload").status_code == 415
    assert _upload(client, cid, clerk, "nonsense").status_code == 422
    assert _upload(client, cid, clerk, "voucher", b"").status_code == 422


def test_same_bytes_are_stored_once_and_read_back(client: TestClient, db: Session, outbox: MemorySender) -> None:
    cid, clerk, committee, _ = _setup(db, client, outbox)
    a = _upload(client, cid, clerk, "attachment").json()
    b = _upload(client, cid, committee, "attachment").json()
    assert a["sha256"] == b["sha256"] and a["id"] != b["id"]
    r = client.get(f"/api/v1/compounds/{cid}/files/{a['id']}", headers=committee)
    assert r.status_code == 200 and r.content == PNG


def test_vouchers_are_not_for_owners_through_the_file_route(
    client: TestClient, db: Session, outbox: MemorySender
) -> None:
    cid, clerk, committee, owner = _setup(db, client, outbox)
    voucher = _upload(client, cid, clerk, "voucher").json()["id"]
    attachment = _upload(client, cid, committee, "attachment").json()["id"]
    assert client.get(f"/api/v1/compounds/{cid}/files/{voucher}", headers=owner).status_code == 403
    assert client.get(f"/api/v1/compounds/{cid}/files/{voucher}", headers=committee).status_code == 200
    assert client.get(f"/api/v1/compounds/{cid}/files/{attachment}", headers=owner).status_code == 200
