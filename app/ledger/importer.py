"""CSV import of a bank or property-company export into draft entries a committee member reviews.

Columns (header row, in any order; extra columns are ignored):
  日期          2026-07-15, 2026/7/15, 2026.7.15, 20260715 or 2026年7月15日
  收支          收入 or 支出
  类别          one of the ledger's categories for that direction
  金额（元）    positive yuan, at most 2 decimals, thousands separators allowed: 1,234.56
  对方          counterparty (optional)
  摘要          what it is (required)
  扣除成本（元）optional, income only: the cost deducted from the gross amount
A file with any bad row is refused as a whole, every bad row listed with its row number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import spreadsheets
from app.audit.service import Actor, append_event
from app.clock import now
from app.db import is_postgres
from app.errors import UnsupportedMediaType
from app.files import service as files_service
from app.ledger import rules, service
from app.ledger.exceptions import ImportInvalid, ImportNotFound, LedgerConflict, LedgerInvalid
from app.ledger.models import LedgerEntry, LedgerImport, LedgerImportRow, LedgerPeriod
from app.spreadsheets import FORMULA_MESSAGE, looks_like_formula
from app.timefmt import format_date

COLUMNS = ("日期", "收支", "类别", "金额（元）", "对方", "摘要")
OPTIONAL_COLUMNS = ("扣除成本（元）",)
REQUIRED = ("日期", "收支", "类别", "金额（元）", "摘要")
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
DIRECTIONS = {"收入": rules.INCOME, "收": rules.INCOME, "支出": rules.EXPENSE, "支": rules.EXPENSE}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")

TEMPLATE = (
    "日期,收支,类别,金额（元）,对方,摘要,扣除成本（元）\n"
    "2026-07-31,收入,停车,\"12,800.00\",阳光物业服务有限公司,7月临时停车费,1280.00\n"
    "2026-07-31,收入,广告,3600.00,某某传媒有限公司,电梯广告位租金（7月）,\n"
    "2026-08-05,支出,审计费,2000.00,某某会计师事务所,公共收益专项审计预付款,\n"
)


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class DraftRow:
    row: int
    entry_date: date
    direction: str
    category: str
    amount_fen: int
    cost_fen: int
    counterparty: str
    description: str


def _key(header: str) -> str:
    return unicodedata.normalize("NFKC", str(header or "")).replace(" ", "").strip()


_COLUMN_KEYS = {_key(c): c for c in COLUMNS + OPTIONAL_COLUMNS}
_COLUMN_KEYS.update({_key("金额"): "金额（元）", _key("扣除成本"): "扣除成本（元）"})


def _rejected(problem: spreadsheets.SpreadsheetRejected) -> ImportInvalid:
    return ImportInvalid(problem.message, code=f"ledger_import_{problem.reason}", status=problem.status)


def parse_date(text: str) -> date:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
    if not match:
        raise ValueError(f"日期“{text}”格式不正确，应为 2026-07-15")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise ValueError(f"日期“{text}”不存在") from exc


def parse_csv(content: bytes, *, today: date) -> list[DraftRow]:
    """Every row checked; any problem refuses the whole file with each row's number."""
    if not content.strip():
        raise ImportInvalid("文件为空", code="ledger_import_empty")
    try:
        spreadsheets.check_size(content, limit=MAX_BYTES, advice="，请分批导入")
        if spreadsheets.is_zip(content):
            raise UnsupportedMediaType("请在 Excel 中“另存为”CSV 后上传", code="ledger_import_not_csv")
        table = list(spreadsheets.csv_rows(content))
    except spreadsheets.SpreadsheetRejected as problem:
        raise _rejected(problem) from problem
    if not table:
        raise ImportInvalid("文件为空", code="ledger_import_empty")
    positions: dict[str, int] = {}
    for index, header in enumerate(table[0]):
        name = _COLUMN_KEYS.get(_key(header))
        if name and name not in positions:
            positions[name] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise ImportInvalid(
            f"缺少必填列：{'、'.join(missing)}（表头应为：{','.join(COLUMNS)}）",
            code="ledger_import_invalid",
            extra={"errors": [RowProblem(1, c, f"缺少必填列“{c}”").as_dict() for c in missing]})
    rows: list[DraftRow] = []
    problems: list[RowProblem] = []
    body = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if len(body) > MAX_ROWS:
        raise ImportInvalid(f"超过 {MAX_ROWS} 行的上限，请分批导入", code="ledger_import_too_many_rows")
    if not body:
        raise ImportInvalid("文件中没有数据行", code="ledger_import_empty")
    for number, values in body:
        row = _parse_row(number, values, positions, today, problems)
        if row is not None:
            rows.append(row)
    if problems:
        first = problems[0]
        count = len({p.row for p in problems})
        raise ImportInvalid(
            f"有 {count} 行错误，未导入任何数据。第{first.row}行：{first.message}",
            extra={"errors": [p.as_dict() for p in problems]})
    return rows


def _parse_row(number: int, values: Sequence[str], positions: dict[str, int], today: date,
               problems: list[RowProblem]) -> DraftRow | None:
    def cell(column: str) -> str:
        index = positions.get(column)
        return values[index].strip() if index is not None and index < len(values) else ""

    before = len(problems)

    def fail(column: str, message: str) -> None:
        problems.append(RowProblem(number, column, message))

    entry_date = None
    try:
        entry_date = parse_date(cell("日期"))
        if entry_date > today:
            fail("日期", f"日期“{cell('日期')}”晚于今天")
    except ValueError as exc:
        fail("日期", str(exc))
    direction = DIRECTIONS.get(unicodedata.normalize("NFKC", cell("收支")))
    if direction is None:
        fail("收支", f"收支应填“收入”或“支出”（填写的是“{cell('收支')}”）")
    category = cell("类别")
    if direction and category not in rules.CATEGORIES[direction]:
        fail("类别", f"{rules.DIRECTION_LABELS[direction]}类别只能是："
             f"{'、'.join(rules.CATEGORIES[direction])}（填写的是“{category}”）")
    amount = 0
    try:
        amount = rules.parse_yuan(cell("金额（元）"))
    except ValueError as exc:
        fail("金额（元）", str(exc))
    cost = 0
    if cell("扣除成本（元）"):
        try:
            cost = rules.parse_yuan(cell("扣除成本（元）"))
        except ValueError as exc:
            fail("扣除成本（元）", str(exc).replace("金额", "扣除成本"))
        if direction == rules.EXPENSE:
            fail("扣除成本（元）", "只有收入可以填写扣除成本")
        elif amount and cost > amount:
            fail("扣除成本（元）", "扣除成本不能超过收入金额")
    description = cell("摘要")
    if not description:
        fail("摘要", "摘要不能为空")
    if len(description) > 1000 or len(cell("对方")) > 200:
        fail("摘要", "摘要最长1000字，对方最长200字")
    for column in ("对方", "摘要"):
        if looks_like_formula(cell(column)):
            fail(column, f"{column}{FORMULA_MESSAGE}")
    if len(problems) > before or entry_date is None or direction is None:
        return None
    return DraftRow(row=number, entry_date=entry_date, direction=direction, category=category,
                    amount_fen=amount, cost_fen=cost, counterparty=cell("对方"),
                    description=description)


def create_import(session: Session, *, compound_id: int, content: bytes, file_name: str,
                  actor: Actor) -> LedgerImport:
    """Check the file; keep it as a voucher and its rows as drafts for review."""
    rows = parse_csv(content, today=service.today())
    stored = files_service.store_file(
        session, compound_id=compound_id, data=content, file_name=file_name or "import.csv",
        content_type="text/csv", purpose="voucher", actor=actor)
    record = LedgerImport(compound_id=compound_id, file_id=stored.id or 0,
                          file_name=stored.file_name, row_count=len(rows),
                          imported_by=actor.user_id or 0, imported_at=now())
    session.add(record)
    session.flush()
    for row in rows:
        session.add(LedgerImportRow(
            compound_id=compound_id, import_id=record.id or 0, row_number=row.row,
            entry_date=row.entry_date, direction=row.direction, category=row.category,
            amount_fen=row.amount_fen, cost_fen=row.cost_fen, counterparty=row.counterparty,
            description=row.description))
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.import_created",
                 object_type="ledger_import", object_id=record.id or 0,
                 payload={"file_id": stored.id, "sha256": stored.sha256,
                          "file_name": stored.file_name, "rows": len(rows)})
    return record


def get_import(session: Session, *, compound_id: int, import_id: int) -> LedgerImport:
    record = session.get(LedgerImport, import_id)
    if record is None or record.compound_id != compound_id:
        raise ImportNotFound("导入记录不存在")
    return record


def list_imports(session: Session, *, compound_id: int) -> list[tuple[LedgerImport, int]]:
    """Imports, newest first, each with its number of rows still to review."""
    undecided = (select(LedgerImportRow.import_id, func.count().label("n"))
                 .where(LedgerImportRow.compound_id == compound_id,
                        LedgerImportRow.decided_at.is_(None))
                 .group_by(LedgerImportRow.import_id).subquery())
    rows = session.execute(
        select(LedgerImport, func.coalesce(undecided.c.n, 0))
        .outerjoin(undecided, undecided.c.import_id == LedgerImport.id)
        .where(LedgerImport.compound_id == compound_id).order_by(LedgerImport.id.desc())
    ).all()
    return [(r, int(n)) for r, n in rows]


def import_rows(session: Session, *, import_id: int) -> list[LedgerImportRow]:
    return list(session.execute(
        select(LedgerImportRow).where(LedgerImportRow.import_id == import_id)
        .order_by(LedgerImportRow.row_number)
    ).scalars())


def _draft(session: Session, *, compound_id: int, import_id: int, row_id: int) -> LedgerImportRow:
    stmt = select(LedgerImportRow).where(LedgerImportRow.id == row_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()  # two reviewers never accept the same row twice
    row = session.execute(stmt).scalar_one_or_none()
    if row is None or row.compound_id != compound_id or row.import_id != import_id:
        raise ImportNotFound("导入的行不存在", code="ledger_import_row_not_found")
    if row.decided_at is not None:
        raise LedgerConflict("该行已处理（已接受或已舍弃）", code="ledger_import_row_decided")
    return row


def accept_row(
    session: Session, *, compound_id: int, import_id: int, row_id: int, actor: Actor,
    voucher_file_ids: Sequence[int] = (), cost_evidence_file_ids: Sequence[int] = (),
    matter_id: int | None = None, late: bool = False,
) -> LedgerEntry:
    """Record the draft as a pending entry (the reviewer is its recorder; another approves)."""
    record = get_import(session, compound_id=compound_id, import_id=import_id)
    row = _draft(session, compound_id=compound_id, import_id=import_id, row_id=row_id)
    entry_date, late_for, description = row.entry_date, None, row.description
    if late:
        period = session.execute(
            select(LedgerPeriod).where(LedgerPeriod.compound_id == compound_id,
                                       LedgerPeriod.start_date <= row.entry_date,
                                       LedgerPeriod.end_date >= row.entry_date)
        ).scalar_one_or_none()
        if period is None or period.closed_at is None:
            raise LedgerInvalid("该行日期所在期间未结账，无需补记，请直接接受",
                                code="ledger_late_period_invalid")
        entry_date, late_for = service.today(), period.start_date
        description = f"{row.description}（原日期 {format_date(row.entry_date)}）"
    entry = service.record_entry(
        session, compound_id=compound_id, actor=actor, direction=row.direction,
        category=row.category, amount_fen=row.amount_fen, cost_fen=row.cost_fen,
        entry_date=entry_date, counterparty=row.counterparty, description=description,
        voucher_file_ids=[record.file_id, *voucher_file_ids],
        cost_evidence_file_ids=cost_evidence_file_ids, matter_id=matter_id,
        late_for_period_start=late_for)
    row.decided_by, row.decided_at, row.entry_id = actor.user_id, now(), entry.id
    session.add(row)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.import_row_accepted",
                 object_type="ledger_import_row", object_id=row.id or 0,
                 payload={"import_id": import_id, "row_number": row.row_number,
                          "entry_id": entry.id})
    return entry


def discard_row(session: Session, *, compound_id: int, import_id: int, row_id: int, actor: Actor,
                reason: str) -> LedgerImportRow:
    """Discard a draft on the record (e.g. a duplicate, or not public revenue)."""
    get_import(session, compound_id=compound_id, import_id=import_id)
    row = _draft(session, compound_id=compound_id, import_id=import_id, row_id=row_id)
    reason = reason.strip()
    if not reason:
        raise LedgerInvalid("请填写舍弃的原因", code="ledger_reason_missing")
    row.decided_by, row.decided_at, row.discard_reason = actor.user_id, now(), reason[:500]
    session.add(row)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.import_row_discarded",
                 object_type="ledger_import_row", object_id=row.id or 0,
                 payload={"import_id": import_id, "row_number": row.row_number, "reason": row.discard_reason})
    return row
