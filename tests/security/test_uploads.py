"""Oversized and malformed uploads are refused cleanly (4xx, Chinese message) and store nothing.

Covers every upload route: files (attachments, paper-ballot scans, proxy authorizations), the
roster import (XLSX/CSV) and the ledger CSV import; and formula text never becomes a formula in
the spreadsheets the app exports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.models import AuditChainHead
from app.clock import FrozenClock
from app.config import get_settings
from app.errors import REQUEST_OVERHEAD_BYTES, max_request_bytes
from app.files.models import StoredFile
from app.ledger.models import LedgerEntry, LedgerImport, LedgerImportRow
from app.roster import importer as roster_importer
from app.roster.models import RosterImport, Unit
from app.roster.template import template_csv, template_xlsx
from tests.ledger.helpers import Q1, LedgerWorld, after_quarter, build_ledger_world
from tests.voting.helpers import ballot_body, build_world, open_ballot

CJK = re.compile(r"[\u4e00-\u9fff]")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% scan\n"
SMALL_LIMIT = 256 * 1024  # max_upload_bytes in the size tests, so that no test sends 20 MB
PURPOSES = ("attachment", "paper_ballot", "proxy_authorization")
LEDGER_HEADER = "日期,收支,类别,金额（元）,对方,摘要\n"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def lw(db: Session, client: TestClient, frozen_clock: FrozenClock, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerWorld]:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")
    yield build_ledger_world(db, client)


@dataclass(frozen=True)
class Stored:
    files: int
    roster_imports: int
    ledger_imports: int
    ledger_rows: int
    units: int
    audit_seq: int
    files_on_disk: int


def stored(db: Session) -> Stored:
    """Everything an upload could have left behind."""
    db.expire_all()

    def count(model: Any) -> int:
        return int(db.execute(select(func.count()).select_from(model)).scalar_one())

    seq = db.execute(select(func.coalesce(func.sum(AuditChainHead.seq), 0))).scalar_one()
    files_dir = get_settings().files_dir
    on_disk = sum(1 for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else 0
    return Stored(count(StoredFile), count(RosterImport), count(LedgerImport),
                  count(LedgerImportRow), count(Unit), int(seq), on_disk)


def assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and CJK.search(body["detail"]), body
    return body


# --- the routes that take uploads --------------------------------------------------------------


def post_file(lw: LedgerWorld, data: bytes, *, purpose: str = "attachment",
              name: str = "scan.png", ctype: str = "image/png") -> Any:
    return lw.client.post(lw.url("/files"), headers=lw.committee, data={"purpose": purpose},
                          files={"file": (name, io.BytesIO(data), ctype)})


def post_roster(lw: LedgerWorld, data: bytes, name: str = "名册.csv") -> Any:
    return lw.client.post(lw.url("/roster/imports"), headers=lw.committee,
                          files={"file": (name, io.BytesIO(data), "application/octet-stream")})


def post_ledger(lw: LedgerWorld, data: bytes, name: str = "流水.csv") -> Any:
    return lw.client.post(lw.url("/ledger/imports"), headers=lw.clerk,
                          files={"file": (name, io.BytesIO(data), "text/csv")})


UPLOADS: dict[str, Callable[[LedgerWorld, bytes], Any]] = {
    **{f"files:{p}": (lambda lw, data, p=p: post_file(lw, PNG + data, purpose=p))  # type: ignore[misc]
       for p in PURPOSES},
    "roster": lambda lw, data: post_roster(lw, template_csv() + data),
    "ledger": lambda lw, data: post_ledger(lw, LEDGER_HEADER.encode() + data),
}
UPLOAD_PATHS = ("/files", "/roster/imports", "/ledger/imports")


# --- oversized bodies --------------------------------------------------------------------------


def _asgi_post(app: Any, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]
               ) -> tuple[int, dict[str, Any], int]:
    """POST straight into the ASGI app; return status, JSON body and the bytes it pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, b"")
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "https", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("testserver", 443), "client": ("203.0.113.9", 50000),
        "headers": [(b"host", b"testserver"),
                    (b"content-type", b"multipart/form-data; boundary=gongjue"), *headers],
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


@pytest.mark.parametrize("route", UPLOAD_PATHS)
def test_declared_oversize_body_is_refused_before_a_byte_is_read(
    lw: LedgerWorld, app: Any, db: Session, route: str
) -> None:
    before = stored(db)
    token = lw.committee["Authorization"].encode()
    endless = iter(lambda: b"x" * 65536, None)  # would never end, were it read
    status, body, pulled = _asgi_post(
        app, lw.url(route), endless,
        [(b"authorization", token), (b"content-length", str(max_request_bytes() + 1).encode())])
    assert (status, body["error"]) == (413, "payload_too_large")
    assert CJK.search(body["detail"])
    assert pulled == 0
    assert stored(db) == before


@pytest.mark.parametrize("route", UPLOAD_PATHS)
def test_streamed_oversize_body_is_cut_off_at_the_limit(
    lw: LedgerWorld, app: Any, db: Session, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", SMALL_LIMIT)
    before = stored(db)
    chunk = 64 * 1024
    head = (b"--gongjue\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n")
    chunks = iter([head, *(b"\x00" * chunk for _ in range(10_000))])  # 640 MB, were it all read
    token = lw.committee["Authorization"].encode()
    status, body, pulled = _asgi_post(app, lw.url(route), chunks, [(b"authorization", token)])
    assert (status, body["error"]) == (413, "payload_too_large")
    assert CJK.search(body["detail"])
    assert max_request_bytes() < pulled <= max_request_bytes() + chunk + len(head)
    assert stored(db) == before


@pytest.mark.parametrize("upload", sorted(UPLOADS))
def test_oversized_uploads_are_refused_and_store_nothing(
    lw: LedgerWorld, db: Session, monkeypatch: pytest.MonkeyPatch, upload: str
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", SMALL_LIMIT)
    before = stored(db)
    response = UPLOADS[upload](lw, b"\x00" * (SMALL_LIMIT + REQUEST_OVERHEAD_BYTES + 1))
    assert_refused(response, 413, "payload_too_large")
    assert stored(db) == before


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_file_over_the_upload_limit_is_refused_by_the_files_service(
    lw: LedgerWorld, db: Session, monkeypatch: pytest.MonkeyPatch, purpose: str
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", SMALL_LIMIT)
    before = stored(db)
    too_big = PNG + b"\x00" * (SMALL_LIMIT + 1 - len(PNG))
    assert_refused(post_file(lw, too_big, purpose=purpose), 413, "file_too_large")
    assert stored(db) == before
    r = post_file(lw, too_big[:SMALL_LIMIT], purpose=purpose)  # exactly at the limit: accepted
    assert r.status_code == 201, r.text
    assert r.json()["size_bytes"] == SMALL_LIMIT


def test_a_ledger_csv_over_its_own_limit_is_refused(lw: LedgerWorld, db: Session) -> None:
    from app.ledger.importer import MAX_BYTES

    before = stored(db)
    row = "2026-02-10,收入,停车,100.00,阳光物业服务有限公司,临时停车费\n"
    data = (LEDGER_HEADER + row * (MAX_BYTES // len(row.encode()) + 1)).encode()
    assert len(data) > MAX_BYTES
    assert_refused(post_ledger(lw, data), 413, "ledger_import_too_large")
    assert stored(db) == before


# --- malformed files ---------------------------------------------------------------------------


def _rewrite_xlsx(transform: Callable[[str], str]) -> bytes:
    """The roster template with its roster sheet's XML rewritten."""
    source = zipfile.ZipFile(io.BytesIO(template_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = transform(data.decode()).encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def _huge_dimension(xml: str) -> str:
    return re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', xml)


def _wide_rows(xml: str) -> str:
    """Rows filled out to column XFD: 25 KB compressed, millions of cells to parse."""
    cells = '<c t="n"><v>1</v></c>' * 16384
    rows = "".join(f'<row r="{r}">{cells}</row>' for r in range(5, 25))
    return _huge_dimension(xml).replace("</sheetData>", rows + "</sheetData>")


def _far_cell(xml: str) -> str:
    return _huge_dimension(xml).replace(
        "</sheetData>",
        '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "不是工作簿")
    return out.getvalue()


def _template_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(template_csv().decode("utf-8-sig"))))


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _with_cell(column: str, value: str) -> bytes:
    rows = _template_rows()
    rows[1][rows[0].index(column)] = value
    return _csv(rows)


XLSX = template_xlsx()
ROSTER_MALFORMED: dict[str, tuple[str, bytes, int, str]] = {
    "empty csv": ("名册.csv", b"", 422, "roster_file_empty"),
    "empty xlsx": ("名册.xlsx", b"", 422, "roster_file_empty"),
    "truncated xlsx": ("名册.xlsx", XLSX[: len(XLSX) // 2], 422, "roster_file_unreadable"),
    "pdf named xlsx": ("名册.xlsx", PDF, 422, "roster_file_unreadable"),
    "zip without a workbook": ("名册.xlsx", _zip_without_workbook(), 422, "roster_file_unreadable"),
    "xlsx named csv": ("名册.csv", XLSX, 422, "roster_file_unreadable"),
    "broken old excel": ("名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, 422,
                         "roster_file_unreadable"),
    "executable": ("名册.exe", b"MZ\x90\x00" + b"\x00" * 60, 415, "roster_file_type"),
    "rows out to column XFD": ("名册.xlsx", _rewrite_xlsx(_wide_rows), 422,
                               "roster_too_many_columns"),
    "a cell in the last row": ("名册.xlsx", _rewrite_xlsx(_far_cell), 422, "roster_too_many_rows"),
    "neither utf-8 nor gbk": ("名册.csv", "楼栋,房号\n".encode() + b"\xff\xfe\xfa\n", 422,
                              "roster_file_encoding"),
    "nul bytes": ("名册.csv", _with_cell("业主姓名", "张\x00三"), 422, "roster_file_unreadable"),
    "formula in a name": ("名册.csv", _with_cell("业主姓名", FORMULA), 422, "roster_invalid"),
    "formula in a room": ("名册.csv", _with_cell("房号", "+cmd|'/C calc'!A0"), 422,
                          "roster_invalid"),
    "one column": ("名册.csv", "楼栋\n1栋\n2栋\n".encode(), 422, "roster_invalid"),
    "header only": ("名册.csv", _csv(_template_rows()[:1]), 422, "roster_invalid"),
}


@pytest.mark.parametrize("case", sorted(ROSTER_MALFORMED))
def test_malformed_roster_files_are_refused_and_store_nothing(
    lw: LedgerWorld, db: Session, case: str
) -> None:
    name, data, status, code = ROSTER_MALFORMED[case]
    before = stored(db)
    body = assert_refused(post_roster(lw, data, name), status, code)
    if code == "roster_invalid":
        assert body["errors"] and all(CJK.search(e["message"]) for e in body["errors"])
    if case.startswith("formula"):
        assert {e["row"] for e in body["errors"]} == {2}
    assert stored(db) == before


def test_an_xlsx_zip_bomb_is_refused_before_it_is_parsed(
    lw: LedgerWorld, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster_importer.reading, "MAX_XLSX_EXPANDED_BYTES", 1024 * 1024)
    parsed: list[Any] = []
    real_load = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: parsed.append(1) or real_load(*a, **k))
    bomb = _rewrite_xlsx(lambda xml: xml.replace("</sheetData>", " " * 2_000_000 + "</sheetData>"))
    assert len(bomb) < 100_000  # two megabytes of sheet in a small file
    before = stored(db)
    assert_refused(post_roster(lw, bomb, "名册.xlsx"), 413, "roster_file_too_large")
    assert parsed == []
    assert stored(db) == before


def test_a_wrong_sheet_dimension_is_ignored_and_the_rows_are_read(lw: LedgerWorld) -> None:
    r = post_roster(lw, _rewrite_xlsx(_huge_dimension), "名册.xlsx")
    assert r.status_code == 201, r.text
    # Every row of the file is read (the compound's own units stay: an import never removes).
    assert len(r.json()["diff"]["units_added"]) == len(_template_rows()) - 1


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_a_chinese_csv_in_gbk_or_utf8_is_read_without_mojibake(
    lw: LedgerWorld, encoding: str
) -> None:
    r = post_roster(lw, _csv(_template_rows(), encoding))
    assert r.status_code == 201, r.text
    preview = r.json()
    added = {u["label"]: u for u in preview["diff"]["units_added"]}
    assert len(added) == 3 and "1栋1单元101" in added
    assert added["1栋1单元101"]["owners"][0]["name_masked"].startswith("张")
    r = post_ledger(lw, (LEDGER_HEADER + "2026-02-10,收入,停车,100.00,阳光物业服务有限公司,"
                         "二月临时停车费\n").encode(encoding))
    assert r.status_code == 201, r.text
    assert "阳光物业服务有限公司" in r.text and "二月临时停车费" in r.text


LEDGER_MALFORMED: dict[str, tuple[bytes, int, str]] = {
    "empty": (b"", 422, "ledger_import_empty"),
    "blank lines": (b"\r\n\r\n  \n", 422, "ledger_import_empty"),
    "an xlsx": (XLSX, 415, "ledger_import_not_csv"),
    "neither utf-8 nor gbk": (LEDGER_HEADER.encode() + b"\xff\xfe\xfa\n", 422,
                              "ledger_import_encoding"),
    "nul bytes": ((LEDGER_HEADER + "2026-02-10,收入,停车,100.00,某公司,停车\x00费\n").encode(),
                  422, "ledger_import_unreadable"),
    "formula in the description": (
        (LEDGER_HEADER + f'2026-02-10,收入,停车,100.00,某公司,"{FORMULA}"\n').encode(), 422,
        "ledger_import_invalid"),
    "formula in the counterparty": (
        (LEDGER_HEADER + '2026-02-10,收入,停车,100.00,"@SUM(1+1)*cmd|\'/C calc\'!A0",停车费\n'
         ).encode(), 422, "ledger_import_invalid"),
    "one column": ("日期\n2026-02-10\n".encode(), 422, "ledger_import_invalid"),
    "header only": (LEDGER_HEADER.encode(), 422, "ledger_import_empty"),
}


@pytest.mark.parametrize("case", sorted(LEDGER_MALFORMED))
def test_malformed_ledger_csvs_are_refused_and_store_nothing(
    lw: LedgerWorld, db: Session, case: str
) -> None:
    data, status, code = LEDGER_MALFORMED[case]
    before = stored(db)
    body = assert_refused(post_ledger(lw, data), status, code)
    if case.startswith("formula"):
        assert [e["row"] for e in body["errors"]] == [2]
    assert stored(db) == before


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_OOXML_XLSX = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
_OOXML_DOCX = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"}


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buf.getvalue()


FILES_MALFORMED: dict[str, tuple[bytes, str, str, int, str]] = {
    "empty": (b"", "scan.png", "image/png", 422, "file_empty"),
    "exe posing as png": (b"MZ\x90\x00" + b"\x00" * 60, "scan.png", "image/png", 415,
                          "file_type_mismatch"),
    "pdf posing as xlsx": (PDF, "a.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           415, "file_type_mismatch"),
    "html posing as jpeg": (b"<html><script>alert(1)</script>", "a.jpg", "image/jpeg", 415,
                            "file_type_mismatch"),
    "an executable type": (b"MZ\x90\x00", "a.exe", "application/x-msdownload", 415,
                           "file_type_refused"),
    "svg": (b"<svg onload=alert(1)>", "a.svg", "image/svg+xml", 415, "file_type_refused"),
    "bare PK bytes posing as xlsx": (b"PK\x03\x04" + b"\x00" * 60, "a.xlsx", XLSX_TYPE, 415,
                                     "file_type_mismatch"),
    "a zip of scripts posing as docx": (_zip({"run.js": b"alert(1)"}), "a.docx", DOCX_TYPE, 415,
                                        "file_type_mismatch"),
    "a workbook posing as docx": (_zip(_OOXML_XLSX), "a.docx", DOCX_TYPE, 415,
                                  "file_type_mismatch"),
    "wav posing as webp": (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32, "a.webp", "image/webp",
                           415, "file_type_mismatch"),
}


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("case", sorted(FILES_MALFORMED))
def test_malformed_files_scans_and_authorizations_are_refused(
    lw: LedgerWorld, db: Session, case: str, purpose: str
) -> None:
    data, name, ctype, status, code = FILES_MALFORMED[case]
    before = stored(db)
    assert_refused(post_file(lw, data, purpose=purpose, name=name, ctype=ctype), status, code)
    assert stored(db) == before


@pytest.mark.parametrize("name,ctype,data", [
    ("决议.docx", DOCX_TYPE, _zip(_OOXML_DOCX)),
    ("台账.xlsx", XLSX_TYPE, _zip(_OOXML_XLSX)),
    ("照片.webp", "image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32),
])
def test_well_formed_office_files_and_webp_are_accepted(
    lw: LedgerWorld, db: Session, name: str, ctype: str, data: bytes
) -> None:
    before = stored(db)
    r = post_file(lw, data, purpose="document", name=name, ctype=ctype)
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == ctype
    assert stored(db) != before


def test_an_unknown_file_purpose_is_refused(lw: LedgerWorld, db: Session) -> None:
    before = stored(db)
    assert_refused(post_file(lw, PNG, purpose="../../etc"), 422, "file_purpose_invalid")
    assert stored(db) == before


# --- formula text in exports -------------------------------------------------------------------


def test_formula_text_never_becomes_a_formula_in_the_ledger_statement(
    lw: LedgerWorld, db: Session, frozen_clock: FrozenClock
) -> None:
    # Typed into a form (not imported), the text is stored as it is; the export must keep it text.
    lw.booked(counterparty="=HYPERLINK(\"http://evil.example\",\"点击\")", description=FORMULA)
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    r = lw.client.get(lw.url(f"/ledger/periods/{Q1}/statement.xlsx"), headers=lw.committee)
    assert r.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    assert FORMULA in [c.value for c in cells]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert db.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1


def test_formula_text_never_becomes_a_formula_in_the_tally_export(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    start = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)
    ballot = open_ballot(client, world, frozen_clock,
                         ballot_body(start, matters=[{"title": FORMULA, "category": "9"}]))
    world.travel(client, frozen_clock, days=7)
    r = client.post(world.url(f"/ballots/{ballot['id']}/close"), headers=world.committee)
    assert r.status_code == 200, r.text
    r = client.get(world.url(f"/ballots/{ballot['id']}/tally-inputs"), params={"format": "xlsx"},
                   headers=world.committee)
    assert r.status_code == 200, r.text
    workbook = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    assert FORMULA in [c.value for c in cells]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
