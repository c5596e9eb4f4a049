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
    r = client.get(f"/api/v1/compounds/{cid}/files/{a['id']}", headers=clerk)
    assert r.status_code == 200 and r.content == PNG


def test_an_unattached_file_is_its_uploaders_alone(
    client: TestClient, db: Session, outbox: MemorySender
) -> None:
    """Until a file is attached to something, nobody but its uploader reads it (app/policy.py):
    not the committee, not an owner, whatever its purpose."""
    cid, clerk, committee, owner = _setup(db, client, outbox)
    for purpose in ("voucher", "attachment", "document"):
        file_id = _upload(client, cid, clerk, purpose).json()["id"]
        assert client.get(f"/api/v1/compounds/{cid}/files/{file_id}", headers=clerk).status_code == 200
        for other in (committee, owner):
            r = client.get(f"/api/v1/compounds/{cid}/files/{file_id}", headers=other)
            assert r.status_code == 404 and r.json()["error"] == "file_not_found", purpose
