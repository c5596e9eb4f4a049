"""The statement PDF shares the notices' page scaffolding, long-cell splitting included (issue 12)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from tests.ledger.helpers import Q1, after_quarter, build_ledger_world


def test_an_entry_longer_than_a_page_continues_on_the_next_one(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    lw = build_ledger_world(db, client)
    description = "地面停车费明细" * 142 + "末尾标记"  # 1,000 characters in the narrow 摘要 column
    lw.booked(amount="100.00", counterparty="阳光物业服务有限公司", description=description)
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    r = client.get(lw.url(f"/ledger/periods/{Q1}/statement.pdf"), headers=lw.observer)
    assert r.status_code == 200, r.text  # before: a LayoutError, answered with 500
    path = tmp_path / "statement.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "末尾标记" in text.replace("\n", "")
    pages = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages"))) >= 2
