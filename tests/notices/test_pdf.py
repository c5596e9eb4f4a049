"""The board print: embedded Chinese font, text that comes back out, correction marks, QR url."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session

from app import pdf_pages
from app.clock import FrozenClock
from app.config import get_settings
from app.notices import pdf, printing, service
from app.notices.models import NoticeKind
from tests.notices.conftest import Site, store

TITLE = "关于召开2026年第一次业主大会会议的公告"
LONG_LINE = "根据《中华人民共和国民法典》第二百七十八条和《物业管理条例》的规定，" * 6
BODY = f"各位业主：\n　　{LONG_LINE}\n\n特此公告。<请勿撕毁> & 谢谢配合"
MATTERS = {"sections": [
    {"type": "table", "heading": "表决事项", "columns": ["序号", "事项", "表决规则"],
     "rows": [[1, "续聘物业服务企业", "双过半"], [2, "使用维修资金更换二号楼电梯", "双过半"]]},
    {"type": "list", "heading": "投票方式", "items": ["线上投票", "书面表决票"]},
]}


def _text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _fonts_of(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def _write(tmp_path: Path, content: bytes, name: str = "notice.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_print_embeds_the_font_and_its_text_comes_back(
    db: Session, site: Site, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    attachment = store(db, site, name="会议议程.png", purpose="attachment")
    notice = service.publish_notice(
        db, compound_id=site.id, kind=NoticeKind.MEETING, title=TITLE, body=BODY,
        structured=MATTERS, attachments=[attachment.id or 0], actor=site.actor,
    )
    printed = printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id)
    path = _write(tmp_path, printed.content)

    fonts = _fonts_of(path)
    wqy = [f for f in fonts if "WenQuanYi" in f[0]]
    assert wqy, fonts
    # Columns: name type encoding emb sub uni id gen; every font in the file is embedded.
    assert all(f[-5] == "yes" for f in fonts), fonts

    text = _text_of(path)
    flat = re.sub(r"\s+", "", text)
    assert TITLE in flat
    assert re.sub(r"\s+", "", LONG_LINE) in flat  # wrapped over lines, nothing lost
    assert "<请勿撕毁>&谢谢配合" in flat  # markup characters are printed, not interpreted
    assert site.compound.name in flat
    assert "会议通知/表决公告" in flat
    # The issuing block: the committee and the date, right under the seal's room.
    assert f"{site.compound.name}业主委员会2026年3月2日" in flat
    assert "公示期：15日（自发布次日起算，至2026年3月17日止）" in flat
    assert "使用维修资金更换二号楼电梯" in flat and "表决事项" in flat and "书面表决票" in flat
    assert "会议议程.png" in flat
    assert pdf.notice_url(site.id, notice.id) in flat
    assert "已于" not in flat
    # The long line is wrapped: it spans several printed lines.
    assert sum(1 for line in text.splitlines() if "民法典" in line) >= 3
    # The QR code is an image in the file.
    images = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True,
                            text=True).stdout.splitlines()[2:]
    assert len(images) == 1


def test_superseded_notice_prints_the_correction_mark(
    db: Session, site: Site, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    original = service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL,
                                      title="停水通知", body="3月5日停水。", actor=site.actor)
    frozen_clock.advance(days=2)
    correction = service.supersede(db, compound_id=site.id, notice_id=original.id,
                                   title="停水通知（更正）", body="停水改为3月6日。",
                                   actor=site.actor)
    old_text = re.sub(r"\s+", "", _text_of(_write(
        tmp_path, printing.notice_pdf(db, compound_id=site.id, notice_id=original.id).content,
        "old.pdf")))
    assert f"本公告已于2026年3月4日更正，以更正公告《停水通知（更正）》（公告编号{correction.id}）为准" in old_text
    new_text = re.sub(r"\s+", "", _text_of(_write(
        tmp_path, printing.notice_pdf(db, compound_id=site.id, notice_id=correction.id).content,
        "new.pdf")))
    assert f"本公告更正2026年3月2日发布的《停水通知》，公告编号{original.id}" in new_text


def test_qr_url_is_built_from_the_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "public_base_url", "https://gongjue.example.cn/")
    assert pdf.notice_url(5, 12) == "https://gongjue.example.cn/c/5/notices/12"
    monkeypatch.setattr(get_settings(), "public_base_url", "http://127.0.0.1:8000")
    assert pdf.notice_url(1, 2) == "http://127.0.0.1:8000/c/1/notices/2"
    assert pdf.qr_png("https://gongjue.example.cn/c/5/notices/12").startswith(b"\x89PNG")


def test_a_missing_font_is_a_clear_error(
    db: Session, site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    notice = service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL,
                                    title="通知", body="正文", actor=site.actor)
    monkeypatch.setattr(pdf_pages, "FONT_PATH", tmp_path / "missing.ttc")
    with pytest.raises(pdf.PdfFontMissing) as missing:
        printing.notice_pdf(db, compound_id=site.id, notice_id=notice.id)
    assert missing.value.code == "pdf_font_missing"
    assert "fonts-wqy-microhei" in missing.value.message


def test_dates_print_in_shanghai_time() -> None:
    from datetime import UTC, date, datetime

    assert pdf.cn_date(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == "2026年3月2日"
    assert pdf.cn_date(date(2026, 12, 9)) == "2026年12月9日"
