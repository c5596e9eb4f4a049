"""The ledger's rules applied: settings, periods, recording, approval, reversal, close, publish.

Entries are append-only. This module records entries and fills in their one-time decision
(approve or reject); it has no function that changes or removes an entry, and the models refuse
it too. A mistake is corrected with a reversing entry that references the original.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import calendar
from app.audit.canonical import canonical_json
from app.audit.service import Actor, append_event
from app.auth import service as auth_service
from app.clock import now
from app.db import is_postgres
from app.errors import Forbidden
from app.files import service as files_service
from app.ledger import rules
from app.ledger.exceptions import (
    EntryNotFound,
    ExpenseNeedsDecision,
    LedgerConflict,
    LedgerInvalid,
    PeriodClosed,
    PeriodNotFound,
    SamePersonApproval,
)
from app.ledger.models import (
    LedgerEntry,
    LedgerImportRow,
    LedgerPeriod,
    LedgerSetting,
    LedgerVoucher,
)
from app.timefmt import format_date
from app.voting import service as voting_service

VOUCHER_PURPOSES = frozenset({"voucher"})
AUDIT_REPORT_PURPOSE = "audit_report"
MIN_DISPLAY_DAYS = 15  # DOMAIN §7: statements stay on display at least 15 days
UNDECIDABLE_CATEGORIES = frozenset({"3", "survey"})  # elections and surveys decide no spending


def today() -> date:
    """Today in Asia/Shanghai (the injectable clock)."""
    return calendar.today()


# --- settings --------------------------------------------------------------------------------


def get_settings(session: Session, *, compound_id: int) -> LedgerSetting:
    """The compound's ledger settings (defaults when never saved; nothing is written)."""
    return session.get(LedgerSetting, compound_id) or LedgerSetting(compound_id=compound_id)


def decision_rules(setting: LedgerSetting) -> dict[str, int]:
    if not setting.decision_rules_json:
        return dict(rules.DEFAULT_DECISION_RULES)
    return {k: int(v) for k, v in json.loads(setting.decision_rules_json).items()}


def _lock_ledger(session: Session, compound_id: int) -> LedgerSetting:
    # Every ledger write locks the compound's settings row first, so recording, closing and
    # period creation never interleave (FOR UPDATE on PostgreSQL; SQLite writers hold the lock).
    stmt = select(LedgerSetting).where(LedgerSetting.compound_id == compound_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    setting = session.execute(stmt).scalar_one_or_none()
    if setting is None:
        if is_postgres(session):
            from sqlalchemy.dialects.postgresql import insert

            session.execute(insert(LedgerSetting).values(compound_id=compound_id)
                            .on_conflict_do_nothing())
        else:
            session.add(LedgerSetting(compound_id=compound_id))
            session.flush()
        setting = session.execute(stmt).scalar_one()
    return setting


def settings_snapshot(setting: LedgerSetting) -> dict[str, Any]:
    return {
        "period_kind": setting.period_kind,
        "starts_on": setting.starts_on.isoformat() if setting.starts_on else None,
        "maintenance_share_percent": setting.maintenance_share_percent,
        "decision_rules": decision_rules(setting),
        "display_days": setting.display_days,
        "publish_due_days": setting.publish_due_days,
        "voucher_required": setting.voucher_required,
        "annual_audit_required": setting.annual_audit_required,
    }


def update_settings(
    session: Session, *, compound_id: int, changes: dict[str, Any], actor: Actor
) -> LedgerSetting:
    """Change the ledger rules; the change is an audit event with the before and after."""
    setting = _lock_ledger(session, compound_id)
    before = settings_snapshot(setting)
    has_periods = session.execute(
        select(func.count()).select_from(LedgerPeriod).where(LedgerPeriod.compound_id == compound_id)
    ).scalar_one() > 0
    if changes.get("period_kind") is not None:
        if changes["period_kind"] not in rules.PERIOD_KINDS:
            raise LedgerInvalid("账期只能按月或按季度", code="ledger_period_kind_invalid")
        if setting.starts_on is not None and changes["period_kind"] != setting.period_kind:
            # The period under way keeps its length; the new kind applies from the next one.
            _materialize(session, compound_id=compound_id, setting=setting, through=today())
        setting.period_kind = changes["period_kind"]
    if "starts_on" in changes and changes["starts_on"] is not None:
        if has_periods and changes["starts_on"] != setting.starts_on:
            raise LedgerConflict("账簿已有账期，起始日期不能再改", code="ledger_start_fixed")
        if changes["starts_on"] > today():
            raise LedgerInvalid("账簿起始日期不能晚于今天", code="ledger_start_in_future")
        setting.starts_on = changes["starts_on"]
    if changes.get("maintenance_share_percent") is not None:
        share = changes["maintenance_share_percent"]
        if not 0 <= share <= 100:
            raise LedgerInvalid("转入维修资金的比例应在0%至100%之间", code="ledger_share_invalid")
        setting.maintenance_share_percent = share
    if changes.get("decision_rules") is not None:
        given = changes["decision_rules"]
        unknown = [c for c in given if c not in rules.EXPENSE_CATEGORIES]
        if unknown:
            raise LedgerInvalid(f"未知的支出类别：{'、'.join(unknown)}", code="ledger_category_invalid")
        if any(int(v) < 0 for v in given.values()):
            raise LedgerInvalid("金额门槛不能为负数", code="ledger_threshold_invalid")
        laxer = [c for c in rules.ALWAYS_DECIDED if int(given.get(c, -1)) != 0]
        if laxer:
            raise LedgerInvalid(
                f"{'、'.join(laxer)}属于公共收益的分配使用，依{rules.ART_278_ITEM_9}须一律由业主共同决定，"
                "不能取消或设置金额门槛，已拒绝", code="ledger_decision_rule_below_law")
        setting.decision_rules_json = canonical_json({k: int(v) for k, v in given.items()})
    if changes.get("display_days") is not None:
        if not MIN_DISPLAY_DAYS <= changes["display_days"] <= 365:
            raise LedgerInvalid(f"公示期不得少于{MIN_DISPLAY_DAYS}日", code="ledger_display_days_invalid")
        setting.display_days = changes["display_days"]
    if changes.get("publish_due_days") is not None:
        if not 1 <= changes["publish_due_days"] <= 90:
            raise LedgerInvalid("季度结束后的公示期限应在1至90日之间", code="ledger_due_days_invalid")
        setting.publish_due_days = changes["publish_due_days"]
    for flag in ("voucher_required", "annual_audit_required"):
        if changes.get(flag) is not None:
            setattr(setting, flag, bool(changes[flag]))
    setting.updated_by, setting.updated_at = actor.user_id, now()
    session.add(setting)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.settings_changed",
                 object_type="ledger_setting", object_id=compound_id,
                 payload={"before": before, "after": settings_snapshot(setting)})
    return setting


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A period of the ledger: stored, or still only implied by the settings (row is None)."""

    start: date
    end: date
    kind: str
    row: LedgerPeriod | None

    @property
    def label(self) -> str:
        return rules.period_label(self.start, self.end)

    @property
    def closed(self) -> bool:
        return self.row is not None and self.row.closed_at is not None

    @property
    def published(self) -> bool:
        return self.row is not None and self.row.published_at is not None

    def status(self, day: date) -> str:
        if self.published:
            return "published"
        if self.closed:
            return "closed"
        return "ended" if self.end < day else "open"


STATUS_LABELS = {"open": "记账中", "ended": "待结账", "closed": "已结账待公示", "published": "已公示"}


def stored_periods(session: Session, *, compound_id: int) -> list[LedgerPeriod]:
    return list(session.execute(
        select(LedgerPeriod).where(LedgerPeriod.compound_id == compound_id)
        .order_by(LedgerPeriod.start_date)
    ).scalars())


def timeline(session: Session, *, compound_id: int, setting: LedgerSetting,
             through: date | None = None) -> list[Slot]:
    """Every period from the ledger's start to the one containing `through` (default today)."""
    through = through or today()
    slots = [Slot(p.start_date, p.end_date, p.kind, p)
             for p in stored_periods(session, compound_id=compound_id)]
    if setting.starts_on is None:
        return slots
    start = slots[-1].end + timedelta(days=1) if slots else setting.starts_on
    while start <= through:
        begin, end = rules.next_period(setting.period_kind, start)
        slots.append(Slot(begin, end, setting.period_kind, None))
        start = end + timedelta(days=1)
    return slots


def _materialize(session: Session, *, compound_id: int, setting: LedgerSetting,
                 through: date) -> list[LedgerPeriod]:
    """Store every implied period up to `through` (only inside a locked ledger write)."""
    rows = []
    for slot in timeline(session, compound_id=compound_id, setting=setting, through=through):
        row = slot.row
        if row is None:
            row = LedgerPeriod(compound_id=compound_id, kind=slot.kind, start_date=slot.start,
                               end_date=slot.end)
            session.add(row)
            session.flush()
        rows.append(row)
    return rows


def _containing(periods: Sequence[LedgerPeriod], day: date) -> LedgerPeriod | None:
    return next((p for p in periods if p.start_date <= day <= p.end_date), None)


def _locked_period(session: Session, *, compound_id: int, start_date: date) -> tuple[LedgerSetting, LedgerPeriod, list[LedgerPeriod]]:
    setting = _lock_ledger(session, compound_id)
    periods = _materialize(session, compound_id=compound_id, setting=setting, through=today())
    period = next((p for p in periods if p.start_date == start_date), None)
    if period is None:
        raise PeriodNotFound("账期不存在")
    return setting, period, periods


def find_slot(session: Session, *, compound_id: int, start_date: date) -> Slot:
    setting = get_settings(session, compound_id=compound_id)
    slot = next((s for s in timeline(session, compound_id=compound_id, setting=setting)
                 if s.start == start_date), None)
    if slot is None:
        raise PeriodNotFound("账期不存在")
    return slot


def closed_period_notice(period: LedgerPeriod) -> str:
    label = rules.period_label(period.start_date, period.end_date)
    return (f"{label}已结账，不能再记入。迟到的收支请记入当前期间，"
            f"并注明所属的原期间（{label}）")


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A matter the owners passed in a published ballot, that an expense may rely on."""

    matter_id: int
    matter_title: str
    category: str
    ballot_id: int
    ballot_title: str
    published_at: Any


def passed_decisions(session: Session, *, compound_id: int) -> list[Decision]:
    """Matters passed in the compound's published, whole-compound ballots, newest first."""
    rows = voting_service.passed_matters(session, compound_id=compound_id,
                                         exclude_categories=UNDECIDABLE_CATEGORIES)
    return [Decision(matter_id=m.id or 0, matter_title=m.title, category=m.category,
                     ballot_id=b.id or 0, ballot_title=b.title, published_at=b.published_at)
            for m, b in rows]


def _check_decision(session: Session, *, compound_id: int, matter_id: int, category: str,
                    amount_fen: int, needed: bool) -> None:
    prefix = (f"「{category}」支出{rules.format_yuan(amount_fen)}元须经业主共同决定"
              "（公共收益的分配使用，《民法典》第二百七十八条第一款第九项）：") if needed else ""
    row = voting_service.matters_with_ballots(session, matter_ids=[matter_id]).get(matter_id)
    if row is None or row[1].compound_id != compound_id:
        raise ExpenseNeedsDecision(prefix + "所引用的表决事项不存在")
    matter, ballot = row
    if ballot.published_at is None:
        raise ExpenseNeedsDecision(prefix + f"表决「{ballot.title}」尚未公告决议，不能作为依据")
    if not voting_service.ballot_scope(ballot).whole_compound:
        raise ExpenseNeedsDecision(prefix + "公共收益属全体业主共有，须由全体业主表决决定，"
                                   "不能引用部分楼栋的表决")
    if matter.category in UNDECIDABLE_CATEGORIES:
        raise ExpenseNeedsDecision(prefix + "选举或意见征集不能作为支出的决定")
    if not voting_service.matter_passed(session, ballot_id=ballot.id or 0, matter_id=matter.id or 0):
        raise ExpenseNeedsDecision(prefix + f"事项「{matter.title}」未获表决通过，不能作为依据")


# --- recording -------------------------------------------------------------------------------


def _files(session: Session, *, compound_id: int, file_ids: Iterable[int],
           purposes: frozenset[str], what: str) -> list[files_service.StoredFile]:
    files = []
    for file_id in dict.fromkeys(file_ids):
        stored = files_service.get_file(session, compound_id=compound_id, file_id=file_id)
        if stored.purpose not in purposes:
            raise LedgerInvalid(f"文件「{stored.file_name}」不是{what}，请按{what}上传",
                                code="ledger_file_purpose")
        files.append(stored)
    return files


def _check_category(direction: str, category: str) -> None:
    if direction not in rules.CATEGORIES:
        raise LedgerInvalid("请选择收入或支出", code="ledger_direction_invalid")
    if category not in rules.CATEGORIES[direction]:
        allowed = "、".join(rules.CATEGORIES[direction])
        raise LedgerInvalid(f"{rules.DIRECTION_LABELS[direction]}类别只能是：{allowed}",
                            code="ledger_category_invalid")


def _entry_payload(entry: LedgerEntry, files: Sequence[tuple[str, files_service.StoredFile]]) -> dict[str, Any]:
    return {
        "entry_date": entry.entry_date.isoformat(), "direction": entry.direction,
        "category": entry.category, "amount_fen": entry.amount_fen, "cost_fen": entry.cost_fen,
        "cost_note": entry.cost_note, "counterparty": entry.counterparty,
        "description": entry.description, "period_id": entry.period_id,
        "matter_id": entry.matter_id, "reverses_id": entry.reverses_id,
        "late_for_period_id": entry.late_for_period_id,
        "vouchers": [{"kind": kind, "file_id": f.id, "sha256": f.sha256} for kind, f in files],
    }


def record_entry(
    session: Session, *, compound_id: int, actor: Actor, direction: str, category: str,
    amount_fen: int, entry_date: date, description: str, counterparty: str = "",
    cost_fen: int = 0, cost_note: str = "", voucher_file_ids: Sequence[int] = (),
    cost_evidence_file_ids: Sequence[int] = (), matter_id: int | None = None,
    late_for_period_start: date | None = None,
) -> LedgerEntry:
    """Record a pending entry; it counts once another committee member approves it."""
    setting = _lock_ledger(session, compound_id)
    day = today()
    _check_category(direction, category)
    if not 0 < amount_fen <= rules.MAX_AMOUNT_FEN:
        raise LedgerInvalid("金额须大于零，且不超过10亿元", code="ledger_amount_invalid")
    if cost_fen and direction != rules.INCOME:
        raise LedgerInvalid("只有收入可以填写扣除的成本", code="ledger_cost_invalid")
    if not 0 <= cost_fen <= amount_fen:
        raise LedgerInvalid("扣除的成本不能为负数，也不能超过收入总额", code="ledger_cost_invalid")
    description = description.strip()
    if not description:
        raise LedgerInvalid("请填写摘要（这笔收支的内容）", code="ledger_description_missing")
    if entry_date > day:
        raise LedgerInvalid("记账日期不能晚于今天", code="ledger_date_in_future")
    if setting.starts_on is None:
        # The ledger starts with the period of its first entry, unless the committee set a start.
        setting.starts_on = rules.calendar_period(setting.period_kind, entry_date)[0]
        session.add(setting)
        session.flush()
    if entry_date < setting.starts_on:
        raise LedgerInvalid(f"记账日期早于本账簿的起始日期（{format_date(setting.starts_on)}）",
                            code="ledger_date_before_start")
    periods = _materialize(session, compound_id=compound_id, setting=setting, through=day)
    period = _containing(periods, entry_date)
    assert period is not None  # periods tile the ledger from its start through today
    if period.closed_at is not None:
        raise PeriodClosed(closed_period_notice(period))
    late_for: LedgerPeriod | None = None
    if late_for_period_start is not None:
        late_for = next((p for p in periods if p.start_date == late_for_period_start), None)
        if late_for is None or late_for.closed_at is None:
            raise LedgerInvalid("只能为已结账的期间补记", code="ledger_late_period_invalid")
        if late_for.start_date >= period.start_date:
            raise LedgerInvalid("补记的原期间应早于记入的期间", code="ledger_late_period_invalid")
    vouchers = _files(session, compound_id=compound_id, file_ids=voucher_file_ids,
                      purposes=VOUCHER_PURPOSES, what="凭证")
    evidence = _files(session, compound_id=compound_id, file_ids=cost_evidence_file_ids,
                      purposes=VOUCHER_PURPOSES, what="凭证")
    if setting.voucher_required and not vouchers:
        raise LedgerInvalid("请上传凭证（发票、收据、银行回单或合同的照片或扫描件）",
                            code="ledger_voucher_required")
    if cost_fen and setting.voucher_required and not evidence:
        raise LedgerInvalid("收入扣除了成本，请上传成本的凭证（如发票、费用明细）",
                            code="ledger_cost_evidence_required")
    needed = direction == rules.EXPENSE and rules.decision_required(
        decision_rules(setting), category=category, amount_fen=amount_fen)
    if matter_id is not None:
        _check_decision(session, compound_id=compound_id, matter_id=matter_id, category=category,
                        amount_fen=amount_fen, needed=needed)
    elif needed:
        threshold = decision_rules(setting)[category]
        rule = "一律" if threshold == 0 else f"单笔超过{rules.format_yuan(threshold)}元"
        raise ExpenseNeedsDecision(
            f"「{category}」支出{rule}须经业主共同决定（公共收益的分配使用，《民法典》第二百七十八条"
            "第一款第九项）：请关联已公告通过的表决事项后再记账")
    entry = LedgerEntry(
        compound_id=compound_id, period_id=period.id or 0, entry_date=entry_date,
        direction=direction, category=category, amount_fen=amount_fen, cost_fen=cost_fen,
        cost_note=cost_note.strip(), counterparty=counterparty.strip(), description=description,
        matter_id=matter_id, late_for_period_id=late_for.id if late_for else None,
        recorded_by=actor.user_id or 0, recorded_role=actor.role, recorded_at=now(),
    )
    session.add(entry)
    session.flush()
    attached = _attach(session, entry, [("voucher", f) for f in vouchers]
                       + [("cost_evidence", f) for f in evidence])
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.entry_recorded",
                 object_type="ledger_entry", object_id=entry.id or 0,
                 payload=_entry_payload(entry, attached))
    return entry


def _attach(session: Session, entry: LedgerEntry,
            files: Sequence[tuple[str, files_service.StoredFile]]) -> list[tuple[str, files_service.StoredFile]]:
    for position, (kind, stored) in enumerate(files):
        session.add(LedgerVoucher(compound_id=entry.compound_id, entry_id=entry.id or 0,
                                  file_id=stored.id or 0, kind=kind, position=position))
    session.flush()
    return list(files)


def _entry(session: Session, *, compound_id: int, entry_id: int, lock: bool = False) -> LedgerEntry:
    stmt = select(LedgerEntry).where(LedgerEntry.id == entry_id,
                                     LedgerEntry.compound_id == compound_id)
    if lock and is_postgres(session):
        stmt = stmt.with_for_update()
    entry = session.execute(stmt).scalar_one_or_none()
    if entry is None:
        raise EntryNotFound("账目不存在")
    return entry


def _reversal_of(session: Session, entry: LedgerEntry) -> LedgerEntry | None:
    """The reversing entry of an entry, unless that reversal was itself rejected."""
    return session.execute(
        select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id,
                                  LedgerEntry.rejected_at.is_(None))
    ).scalars().first()


def reverse_entry(
    session: Session, *, compound_id: int, entry_id: int, actor: Actor, reason: str
) -> LedgerEntry:
    """Record the reversing entry of an approved entry, in the current period, pending approval."""
    setting = _lock_ledger(session, compound_id)
    original = _entry(session, compound_id=compound_id, entry_id=entry_id, lock=True)
    reason = reason.strip()
    if not reason:
        raise LedgerInvalid("请说明冲销的原因", code="ledger_reason_missing")
    if original.reverses_id is not None:
        raise LedgerConflict("冲销分录不能再冲销；如冲销有误，请重新记一笔正确的账",
                             code="ledger_reversal_of_reversal")
    if original.rejected_at is not None:
        raise LedgerConflict("该账目已被驳回或撤回，不计入账簿，无需冲销", code="ledger_entry_rejected")
    if original.approved_at is None:
        raise LedgerConflict("该账目尚未审核，不计入账簿：请由审核人驳回，或由记账人撤回",
                             code="ledger_entry_pending")
    existing = _reversal_of(session, original)
    if existing is not None:
        raise LedgerConflict(f"该账目已被第{existing.id}号分录冲销，一笔账只能冲销一次",
                             code="ledger_entry_already_reversed")
    day = today()
    periods = _materialize(session, compound_id=compound_id, setting=setting, through=day)
    current = _containing(periods, day)
    assert current is not None and current.closed_at is None  # a period closes only after it ends
    old = next(p for p in periods if p.id == original.period_id)
    reversal = LedgerEntry(
        compound_id=compound_id, period_id=current.id or 0, entry_date=day,
        direction=original.direction, category=original.category,
        amount_fen=-original.amount_fen, cost_fen=-original.cost_fen,
        counterparty=original.counterparty,
        description=f"冲销第{original.id}号账目（{format_date(original.entry_date)}）：{reason}",
        reverses_id=original.id,
        late_for_period_id=old.id if old.id != current.id and old.closed_at is not None else None,
        recorded_by=actor.user_id or 0, recorded_role=actor.role, recorded_at=now(),
    )
    session.add(reversal)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor,
                 action="ledger.entry_reversal_recorded", object_type="ledger_entry",
                 object_id=reversal.id or 0,
                 payload={**_entry_payload(reversal, []), "reason": reason})
    return reversal


def approve_entry(session: Session, *, compound_id: int, entry_id: int, actor: Actor) -> LedgerEntry:
    """A committee member other than the one who recorded it approves: now it counts."""
    _lock_ledger(session, compound_id)
    entry = _entry(session, compound_id=compound_id, entry_id=entry_id, lock=True)
    _check_pending(entry)
    if entry.recorded_by == actor.user_id:
        raise SamePersonApproval()
    if entry.reverses_id is not None:
        original = _entry(session, compound_id=compound_id, entry_id=entry.reverses_id)
        if original.approved_at is None:
            raise LedgerConflict("被冲销的账目状态异常，不能审核", code="ledger_entry_pending")
    entry.approved_by, entry.approved_at = actor.user_id, now()
    session.add(entry)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.entry_approved",
                 object_type="ledger_entry", object_id=entry.id or 0,
                 payload={"period_id": entry.period_id, "amount_fen": entry.amount_fen,
                          "cost_fen": entry.cost_fen, "recorded_by": entry.recorded_by,
                          "reverses_id": entry.reverses_id})
    return entry


def reject_entry(
    session: Session, *, compound_id: int, entry_id: int, actor: Actor, reason: str,
    is_committee: bool,
) -> LedgerEntry:
    """Withdraw (by the recorder) or reject (by a committee member) a pending entry, on record."""
    _lock_ledger(session, compound_id)
    entry = _entry(session, compound_id=compound_id, entry_id=entry_id, lock=True)
    _check_pending(entry)
    withdrawn = entry.recorded_by == actor.user_id
    if not withdrawn and not is_committee:
        raise Forbidden("只有记账人本人可以撤回，或由业委会委员驳回", code="ledger_reject_forbidden")
    reason = reason.strip()
    if not reason:
        raise LedgerInvalid("请填写驳回或撤回的原因", code="ledger_reason_missing")
    entry.rejected_by, entry.rejected_at, entry.rejection_reason = actor.user_id, now(), reason[:500]
    session.add(entry)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor,
                 action="ledger.entry_withdrawn" if withdrawn else "ledger.entry_rejected",
                 object_type="ledger_entry", object_id=entry.id or 0,
                 payload={"period_id": entry.period_id, "reason": entry.rejection_reason})
    return entry


def _check_pending(entry: LedgerEntry) -> None:
    if entry.approved_at is not None:
        raise LedgerConflict("该账目已审核通过；如有错误，请记一笔冲销分录", code="ledger_entry_decided")
    if entry.rejected_at is not None:
        raise LedgerConflict("该账目已被驳回或撤回", code="ledger_entry_decided")


# --- statements ------------------------------------------------------------------------------


def _facts(session: Session, entries: Sequence[LedgerEntry]) -> list[rules.EntryFacts]:
    late_ids = {e.late_for_period_id for e in entries if e.late_for_period_id}
    starts: dict[int, date] = dict(session.execute(
        select(LedgerPeriod.id, LedgerPeriod.start_date).where(LedgerPeriod.id.in_(late_ids))
    ).all()) if late_ids else {}
    return [rules.EntryFacts(
        id=e.id or 0, entry_date=e.entry_date, direction=e.direction, category=e.category,
        amount_fen=e.amount_fen, cost_fen=e.cost_fen, counterparty=e.counterparty,
        description=e.description, reverses_id=e.reverses_id,
        late_for_period_start=starts.get(e.late_for_period_id) if e.late_for_period_id else None,
    ) for e in entries]


def _approved(session: Session, *, compound_id: int, period_ids: Sequence[int]) -> list[LedgerEntry]:
    if not period_ids:
        return []
    return list(session.execute(
        select(LedgerEntry).where(LedgerEntry.compound_id == compound_id,
                                  LedgerEntry.period_id.in_(list(period_ids)),
                                  LedgerEntry.approved_at.is_not(None))
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).scalars())


def compute_statement(session: Session, *, compound_id: int, start: date, end: date,
                      kind: str, period_id: int | None, share_percent: int) -> dict[str, Any]:
    """A period's statement recomputed from the approved entries alone."""
    earlier = [p.id or 0 for p in stored_periods(session, compound_id=compound_id)
               if p.start_date < start]
    opening = rules.balance_change(_facts(session, _approved(
        session, compound_id=compound_id, period_ids=earlier)))
    entries = _approved(session, compound_id=compound_id,
                        period_ids=[period_id] if period_id else [])
    return rules.compute_statement(
        compound_id=compound_id, period_kind=kind, start=start, end=end,
        opening_balance_fen=opening, entries=_facts(session, entries), share_percent=share_percent)


def recompute_statement(session: Session, *, compound_id: int, slot: Slot) -> dict[str, Any]:
    """Recompute a period's statement from its entries (with the share it was closed with)."""
    share = get_settings(session, compound_id=compound_id).maintenance_share_percent
    if slot.row is not None and slot.row.statement_json:
        share = json.loads(slot.row.statement_json)["maintenance_fund"]["share_percent"]
    return compute_statement(session, compound_id=compound_id, start=slot.start, end=slot.end,
                             kind=slot.kind, period_id=slot.row.id if slot.row else None,
                             share_percent=share)


def stored_statement(period: LedgerPeriod) -> dict[str, Any] | None:
    return json.loads(period.statement_json) if period.statement_json else None


def statement_digest(statement: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(statement).encode("utf-8")).hexdigest()


def close_period(session: Session, *, compound_id: int, start_date: date, actor: Actor) -> LedgerPeriod:
    """Close an ended period: its statement is computed from the entries and fixed."""
    setting, period, periods = _locked_period(session, compound_id=compound_id, start_date=start_date)
    label = rules.period_label(period.start_date, period.end_date)
    if period.closed_at is not None:
        raise LedgerConflict(f"{label}已结账", code="ledger_period_already_closed")
    if period.end_date >= today():
        raise LedgerConflict(f"{label}至{format_date(period.end_date)}结束，结束后方可结账",
                             code="ledger_period_not_ended")
    previous = next((p for p in periods if p.end_date == period.start_date - timedelta(days=1)), None)
    if previous is not None and previous.closed_at is None:
        raise LedgerConflict(
            f"请先结账上一期间（{rules.period_label(previous.start_date, previous.end_date)}）",
            code="ledger_previous_period_open")
    pending = session.execute(
        select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.period_id == period.id, LedgerEntry.approved_at.is_(None),
            LedgerEntry.rejected_at.is_(None))
    ).scalar_one()
    if pending:
        raise LedgerConflict(f"本期尚有{pending}笔账目待审核，请先审核通过或驳回",
                             code="ledger_pending_entries")
    drafts = session.execute(
        select(func.count()).select_from(LedgerImportRow).where(
            LedgerImportRow.compound_id == compound_id, LedgerImportRow.decided_at.is_(None),
            LedgerImportRow.entry_date >= period.start_date,
            LedgerImportRow.entry_date <= period.end_date)
    ).scalar_one()
    if drafts:
        raise LedgerConflict(f"尚有{drafts}条导入草稿的日期在本期内，请先接受或舍弃",
                             code="ledger_import_drafts_pending")
    statement = compute_statement(
        session, compound_id=compound_id, start=period.start_date, end=period.end_date,
        kind=period.kind, period_id=period.id, share_percent=setting.maintenance_share_percent)
    if previous is not None:
        before = stored_statement(previous)
        if before is None or before["closing_balance_fen"] != statement["opening_balance_fen"]:
            raise LedgerConflict("期初余额与上期期末余额不一致，请联系平台管理员核查",
                                 code="ledger_balance_mismatch")
    period.statement_json = canonical_json(statement)
    period.statement_sha256 = statement_digest(statement)
    period.closed_at, period.closed_by = now(), actor.user_id
    session.add(period)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.period_closed",
                 object_type="ledger_period", object_id=period.id or 0,
                 payload={"start_date": period.start_date.isoformat(),
                          "end_date": period.end_date.isoformat(),
                          "statement_sha256": period.statement_sha256,
                          "opening_balance_fen": statement["opening_balance_fen"],
                          "closing_balance_fen": statement["closing_balance_fen"],
                          "entries": len(statement["entries"])})
    return period


def attach_audit_report(
    session: Session, *, compound_id: int, start_date: date, file_id: int, actor: Actor
) -> LedgerPeriod:
    """Attach an audit report (annual, or at a change of committee) to a not yet published period."""
    _, period, _ = _locked_period(session, compound_id=compound_id, start_date=start_date)
    if period.published_at is not None:
        raise LedgerConflict("该期间已公示，审计报告须在公示前附上", code="ledger_period_published")
    stored = files_service.get_file(session, compound_id=compound_id, file_id=file_id)
    if stored.purpose != AUDIT_REPORT_PURPOSE:
        raise LedgerInvalid("请按“审计报告”用途上传审计报告文件", code="ledger_file_purpose")
    period.audit_report_file_id = stored.id
    session.add(period)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor,
                 action="ledger.audit_report_attached", object_type="ledger_period",
                 object_id=period.id or 0,
                 payload={"file_id": stored.id, "sha256": stored.sha256,
                          "file_name": stored.file_name})
    return period


def publish_period(session: Session, *, compound_id: int, start_date: date, actor: Actor) -> LedgerPeriod:
    """Publish a closed period's statement as a 公共收益公示 notice."""
    from app.ledger.statements import notice_content

    setting, period, periods = _locked_period(session, compound_id=compound_id, start_date=start_date)
    label = rules.period_label(period.start_date, period.end_date)
    if period.published_at is not None:
        raise LedgerConflict(f"{label}已公示", code="ledger_period_already_published")
    if period.closed_at is None:
        raise LedgerConflict(f"{label}尚未结账，结账后方可公示", code="ledger_period_not_closed")
    earlier = [p for p in periods if p.start_date < period.start_date and p.published_at is None]
    if earlier:
        raise LedgerConflict(
            f"请先公示上一期间（{rules.period_label(earlier[-1].start_date, earlier[-1].end_date)}）",
            code="ledger_previous_period_unpublished")
    if rules.is_year_end(period.end_date) and setting.annual_audit_required \
            and period.audit_report_file_id is None:
        raise LedgerConflict(
            f"{label}是本年度最后一期，须附上{period.end_date.year}年度公共收益审计报告后一并公示",
            code="ledger_annual_audit_required")
    statement = stored_statement(period)
    assert statement is not None
    audit_report = (files_service.get_file(session, compound_id=compound_id,
                                           file_id=period.audit_report_file_id)
                    if period.audit_report_file_id else None)
    from app.notices import service as notices_service

    title, body, structured = notice_content(
        statement=statement, statement_sha256=period.statement_sha256 or "",
        display_days=setting.display_days, audit_report=audit_report)
    notice = notices_service.publish_notice(
        session, compound_id=compound_id, kind="ledger", title=title, body=body,
        display_days=setting.display_days,
        attachments=[audit_report.id or 0] if audit_report else (),
        source_type="ledger_period", source_id=str(period.id), structured=structured, actor=actor)
    period.published_at, period.published_by, period.notice_id = now(), actor.user_id, notice.id
    session.add(period)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="ledger.period_published",
                 object_type="ledger_period", object_id=period.id or 0,
                 payload={"notice_id": notice.id, "statement_sha256": period.statement_sha256,
                          "audit_report_file_id": period.audit_report_file_id})
    return period


# --- reading ---------------------------------------------------------------------------------


def list_entries(
    session: Session, *, compound_id: int, status: str = "all", period_id: int | None = None,
    limit: int = 500,
) -> list[LedgerEntry]:
    conditions: list[Any] = [LedgerEntry.compound_id == compound_id]
    if period_id is not None:
        conditions.append(LedgerEntry.period_id == period_id)
    if status == "pending":
        conditions += [LedgerEntry.approved_at.is_(None), LedgerEntry.rejected_at.is_(None)]
    elif status == "approved":
        conditions.append(LedgerEntry.approved_at.is_not(None))
    elif status == "rejected":
        conditions.append(LedgerEntry.rejected_at.is_not(None))
    return list(session.execute(
        select(LedgerEntry).where(*conditions)
        .order_by(LedgerEntry.entry_date.desc(), LedgerEntry.id.desc()).limit(limit)
    ).scalars())


def get_entry(session: Session, *, compound_id: int, entry_id: int) -> LedgerEntry:
    return _entry(session, compound_id=compound_id, entry_id=entry_id)


def entry_period(session: Session, entry: LedgerEntry) -> LedgerPeriod:
    period = session.get(LedgerPeriod, entry.period_id)
    assert period is not None
    return period


def vouchers_by_entry(
    session: Session, *, compound_id: int, entry_ids: Sequence[int]
) -> dict[int, list[tuple[LedgerVoucher, files_service.StoredFile]]]:
    out: dict[int, list[tuple[LedgerVoucher, files_service.StoredFile]]] = defaultdict(list)
    if not entry_ids:
        return out
    vouchers = list(session.execute(
        select(LedgerVoucher).where(LedgerVoucher.compound_id == compound_id,
                                    LedgerVoucher.entry_id.in_(list(entry_ids)))
        .order_by(LedgerVoucher.entry_id, LedgerVoucher.position)
    ).scalars())
    files = files_service.files_by_id(session, compound_id=compound_id,
                                      file_ids=[v.file_id for v in vouchers])
    for voucher in vouchers:
        out[voucher.entry_id].append((voucher, files[voucher.file_id]))
    return out


def reversals_by_entry(session: Session, *, entry_ids: Sequence[int]) -> dict[int, LedgerEntry]:
    """The live (not rejected) reversing entry of each given entry."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(LedgerEntry).where(LedgerEntry.reverses_id.in_(list(entry_ids)),
                                  LedgerEntry.rejected_at.is_(None))
    ).scalars()
    return {e.reverses_id or 0: e for e in rows}


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    return auth_service.display_names(session, user_ids)


def pending_count(session: Session, *, compound_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.compound_id == compound_id, LedgerEntry.approved_at.is_(None),
            LedgerEntry.rejected_at.is_(None))
    ).scalar_one()


def check_file_of_entry(session: Session, *, entry: LedgerEntry, file_id: int) -> files_service.StoredFile:
    """A voucher of this entry (or the audit report of its period); anything else is not found."""
    stored = session.execute(
        select(files_service.StoredFile).join(LedgerVoucher, LedgerVoucher.file_id == files_service.StoredFile.id)
        .where(LedgerVoucher.entry_id == entry.id, files_service.StoredFile.id == file_id)
    ).scalars().first()
    if stored is None:
        raise EntryNotFound("凭证不存在", code="ledger_voucher_not_found")
    return stored


# --- status for the compound page ------------------------------------------------------------


@dataclass(frozen=True)
class MissingStatement:
    quarter: rules.QuarterDue
    overdue: bool


def missing_statements(session: Session, *, compound_id: int,
                       setting: LedgerSetting | None = None) -> list[MissingStatement]:
    """Calendar quarters that ended without every period in them published."""
    setting = setting or get_settings(session, compound_id=compound_id)
    if setting.starts_on is None:
        return []
    day = today()
    slots = timeline(session, compound_id=compound_id, setting=setting, through=day)
    out = []
    for quarter in rules.ended_quarters(setting.starts_on, day, due_days=setting.publish_due_days):
        inside = [s for s in slots if s.start <= quarter.end and s.end >= quarter.start]
        if not all(s.published for s in inside):
            out.append(MissingStatement(quarter=quarter, overdue=day > quarter.due))
    return out
