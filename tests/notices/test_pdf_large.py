"""Issue 11 finding 10: a table cell longer than a page prints, and a print is rendered once per
notice version (not on every request behind the one render lock)."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import get_settings
from app.notices import pdf, printing, service
from app.notices.models import NoticeKind
from tests.factories import bearer
from tests.notices.conftest import Site

LONG_CELL = "经业主委员会核实，本项维修资金使用方案" * 150  # 3,000 characters in one cell


def _text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "print.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True)
    return out.stdout


@pytest.fixture(autouse=True)
def _empty_print_cache() -> None:
    pdf.clear_cache()


def _long_table_notice(db: Session, site: Site):  # type: ignore[no-untyped-def]
    structured = {"sections": [{"type": "table", "heading": "维修项目说明",
                                "columns": ["序号", "说明", "金额"],
                                "rows": [[1, LONG_CELL, "12,000.00"], [2, "更换门禁", LONG_CELL]]}]}
    return service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL,
                                  title="维修资金使用说明", body="详见下表。", structured=structured,
                                  actor=site.actor)


def test_a_cell_longer_than_a_page_prints_over_several_pages(
    client: TestClient, db: Session, site: Site, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    notice = _long_table_notice(db, site)
    db.commit()
    r = client.get(f"/api/v1/compounds/{site.id}/notices/{notice.id}/pdf",
                   headers=bearer(client, site.committee.username or ""))
    assert r.status_code == 200, r.text[:300]
    text = _text(r.content, tmp_path)
    assert text.count("\f") >= 3  # several pages
    flat = re.sub(r"\s+", "", text)
    for ch in "经业主委员会核实":
        assert flat.count(ch) >= 300, ch  # both cells, every character, nothing cut


def test_a_column_title_taller_than_a_page_prints_once(
    db: Session, site: Site, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    structured = {"sections": [{"type": "table", "columns": [LONG_CELL, "金额"],
                                "rows": [[1, "12,000.00"], [2, "3,000.00"]]}]}
    notice = service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL,
                                    title="说明", body="详见下表。", structured=structured,
                                    actor=site.actor)
    printed = printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id or 0).content
    flat = re.sub(r"\s+", "", _text(printed, tmp_path))
    assert flat.count("核实") == 150 and "12,000.00" in flat


def test_a_print_is_rendered_once_per_notice_version(
    db: Session, site: Site, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    original = service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL,
                                      title="停水通知", body="3月5日停水。", actor=site.actor)
    first = printing.notice_pdf(db, compound_id=site.id, notice_id=original.id or 0).content
    again = printing.notice_pdf(db, compound_id=site.id, notice_id=original.id or 0).content
    assert again == first
    assert (pdf.cache_stats()["renders"], pdf.cache_stats()["hits"]) == (1, 1)
    # A correction changes what the original's print says: a new version, rendered again.
    frozen_clock.advance(days=1)
    correction = service.supersede(db, compound_id=site.id, notice_id=original.id or 0,
                                   title="停水通知（更正）", body="停水改为3月6日。", actor=site.actor)
    marked = printing.notice_pdf(db, compound_id=site.id, notice_id=original.id or 0).content
    assert marked != first
    assert f"公告编号{correction.id}）为准" in re.sub(r"\s+", "", _text(marked, tmp_path))
    assert pdf.cache_stats()["renders"] == 2


def test_concurrent_requests_for_one_print_render_it_once(
    db: Session, site: Site, frozen_clock: FrozenClock
) -> None:
    notice = _long_table_notice(db, site)
    printable = printing.printable_notice(db, compound_id=site.id, notice_id=notice.id or 0)
    printed: list[bytes] = []
    threads = [threading.Thread(target=lambda: printed.append(
        pdf.notice_pdf_bytes(printable, compound_id=site.id)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(printed) == 8 and len(set(printed)) == 1
    assert (pdf.cache_stats()["renders"], pdf.cache_stats()["hits"]) == (1, 7)


def test_a_print_is_kept_on_disk_and_served_without_rendering_by_another_process(
    db: Session, site: Site, frozen_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice = _long_table_notice(db, site)
    first = printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id or 0).content
    assert pdf.cache_stats()["renders"] == 1
    kept = list((get_settings().files_dir / str(site.id) / "kept").glob(f"{pdf.KEPT_KIND}-*"))
    assert [p.read_bytes() for p in kept] == [first]
    # A fresh process: nothing in memory, and rendering would fail loudly.
    pdf.clear_cache()

    def no_render(_notice: pdf.PrintableNotice) -> bytes:
        raise AssertionError("the kept print must be served, not rendered again")

    monkeypatch.setattr(pdf, "render_notice_pdf", no_render)
    again = printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id or 0).content
    assert again == first
    assert pdf.cache_stats()["renders"] == 0 and pdf.cache_stats()["kept_reads"] == 1
    printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id or 0)
    assert pdf.cache_stats()["hits"] == 1  # then from memory
    assert kept[0].parent.parent.name == str(site.id)  # kept among this compound's files
