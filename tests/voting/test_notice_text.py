"""What owners read on the generated notices: the meeting notice carries every matter's text and
documents (web and print), the print has its issuing block and a QR code for the public address,
and times read one way everywhere (a midnight end is 24:00 of the day before)."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import qrcode
from fastapi.testclient import TestClient
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from sqlmodel import Session

from app.audit.service import Actor
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import get_settings
from app.files import service as files_service
from app.notices import pdf
from tests.voting.helpers import ballot_body, build_world, open_ballot, owner

START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
PLAN = "物业费调整方案.pdf"
BUDGET = "测算说明.csv"
FEE_TEXT = ("住宅物业费由每月每平方米2.20元调整为2.50元，自2026年7月1日起执行。\n"
            "调整理由：人工成本上涨，电梯维保合同续签。")


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")


def _text_of(content: bytes, tmp_path: Path, name: str = "notice.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


def _qr_modules(png: bytes, count: int) -> list[list[bool]]:
    """The dark/light grid of a printed QR image read as `count` × `count` square modules."""
    image = Image.open(io.BytesIO(png)).convert("L")
    side = image.size[0]
    cell = side / count
    return [[image.getpixel((int((x + 0.5) * cell), int((y + 0.5) * cell))) < 128  # type: ignore[operator]
             for x in range(count)] for y in range(count)]


def _encodes(png: bytes, url: str) -> bool:
    """Whether a printed QR image holds exactly `url`: its modules equal those of `url` encoded
    with the same settings (no QR decoder is installed; the encoder is deterministic)."""
    expected = _expected_modules(url)
    return _qr_modules(png, len(expected)) == expected


def _expected_modules(url: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=2)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _printed_images(content: bytes, tmp_path: Path) -> list[bytes]:
    path = tmp_path / "images.pdf"
    path.write_bytes(content)
    out = tmp_path / "img"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdfimages", "-png", str(path), str(out / "i")], check=True)
    return [p.read_bytes() for p in sorted(out.glob("i-*.png"))]


def test_the_meeting_notice_carries_each_matter_and_its_documents(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "public_base_url", "https://gongjue.example.cn/")
    world = build_world(db, client)
    actor = Actor(user_id=None, role="committee")
    plan = files_service.store_file(db, compound_id=world.cid, data=b"%PDF-1.4 plan", file_name=PLAN,
                                    content_type="application/pdf", purpose="attachment", actor=actor)
    budget = files_service.store_file(
        db, compound_id=world.cid, data="项目,金额\n电梯维保,120000\n".encode(), file_name=BUDGET,
        content_type="text/csv",
        purpose="attachment", actor=actor)
    db.commit()
    body = ballot_body(START, matters=[
        {"title": "调整物业服务收费标准", "category": "9", "description": FEE_TEXT,
         "document_file_ids": [plan.id, budget.id]},
        {"title": "利用共有部分设置广告位", "category": "8", "description": "电梯轿厢内设置广告屏。"},
    ])
    r = client.post(world.url("/ballots"), json=body, headers=world.committee)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee)
    assert r.status_code == 200, r.text
    notice_id = r.json()["notice_id"]

    notice = client.get(world.url(f"/notices/{notice_id}"), headers=world.observer).json()
    text = notice["body"]
    # The full text of every matter, its documents by name and attachment number.
    assert "住宅物业费由每月每平方米2.20元调整为2.50元" in text and "调整理由：人工成本上涨" in text
    assert "电梯轿厢内设置广告屏。" in text
    assert f"相关文件：《{PLAN}》（附件1）、《{BUDGET}》（附件2）" in text
    assert "方案全文见附件" not in text
    # The web view links them: the documents are the notice's attachments, in that order.
    assert [a["file_name"] for a in notice["attachments"]] == [PLAN, BUDGET]
    # Times: the start at midnight reads 00:00, the end at midnight 24:00 of the day before.
    assert "投票时间：2026年3月17日 00:00 至 2026年3月23日 24:00" in text
    assert "3月24日 00:00" not in text

    printed = client.get(world.url(f"/notices/{notice_id}/pdf"), headers=world.observer)
    assert printed.status_code == 200
    flat = _text_of(printed.content, tmp_path)
    for needle in ("住宅物业费由每月每平方米2.20元调整为2.50元", "电梯轿厢内设置广告屏", PLAN, BUDGET,
                   "2026年3月17日00:00至2026年3月23日24:00"):
        assert needle in flat, needle
    # The issuing block: the committee of the compound and the day of publication.
    compound = world.compound.name
    assert f"{compound}业主委员会{pdf.cn_date(frozen_clock.current)}" in flat
    # The QR code holds the public address of this notice's page (deep-linked after login).
    url = f"https://gongjue.example.cn/c/{world.cid}/notices/{notice_id}"
    assert url in flat
    images = _printed_images(printed.content, tmp_path)
    assert any(_encodes(img, url) for img in images)
    assert not any(_encodes(img, url.replace("notices", "ballots")) for img in images)


def test_the_result_notice_reads_in_plain_words_with_verification_last(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock, tmp_path: Path,
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock, ballot_body(START, matters=[
        {"title": "调整物业服务收费标准", "category": "9"}]))
    bid, matter = ballot["id"], ballot["matters"][0]["id"]
    for name, choice in zip("ABCDEFH", ["agree"] * 5 + ["oppose", "abstain"], strict=True):
        headers = owner(client, outbox, world, name)
        subject = client.get(world.url(f"/ballots/{bid}"), headers=headers).json()["my_subjects"][0]["subject_id"]
        r = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers,
                        json={"subject_id": subject, "choices": {str(matter): choice}})
        assert r.status_code == 201, r.text
    world.travel(client, frozen_clock, days=7)
    closed = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert closed.status_code == 200, closed.text
    world.travel(client, frozen_clock, days=5)
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text
    notice_id = published.json()["result_notice_id"]
    notice = client.get(world.url(f"/notices/{notice_id}"), headers=world.observer).json()
    results = client.get(world.url(f"/ballots/{bid}/results"), headers=world.observer).json()
    r = results["matters"][0]["result"]

    body = notice["body"]
    assert "投票已于2026年3月23日 24:00结束" in body
    # One sentence per matter, percentages to two decimals, the bound named, the verdict last.
    sentence = (f"1. 调整物业服务收费标准：参与表决的专有部分面积占总面积的 "
                f"{r['participation_area_ratio']['percent']}，人数占总人数的 "
                f"{r['participation_headcount_ratio']['percent']}，均达到三分之二；"
                f"同意的专有部分面积占参与表决专有部分面积的 {r['approval_area_ratio']['percent']}，"
                f"人数占参与表决人数的 {r['approval_headcount_ratio']['percent']}，均过半数，通过。")
    assert sentence in body
    # The results API sends the same sentence for the result screen.
    assert sentence.endswith(results["matters"][0]["summary"].split("：", 1)[-1])
    assert results["matters"][0]["summary"] in sentence
    assert not re.search(r"\d+/\d+", body) and "python" not in body and "--file" not in body
    assert r["approval_area_ratio"]["fraction"] not in body  # exact figures stay in the record

    sections = notice["structured"]["sections"]
    assert [s["heading"] for s in sections][-1] == "核验信息"
    printed = client.get(world.url(f"/notices/{notice_id}/pdf"), headers=world.observer)
    flat = _text_of(printed.content, tmp_path)
    head = results["closing_audit"]["hash"]
    # The verification material comes after the results and the legal notes, explained.
    assert flat.index("第二百八十条") < flat.index("核验信息") < flat.index(head)
    assert "共决核验工具" in flat and "指纹" in flat and "python" not in flat
    assert not re.search(r"\d{3,}/\d{3,}", flat)
    (tmp_path / "result.pdf").write_bytes(printed.content)
