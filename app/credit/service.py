"""The property company serving a compound (recorded by the committee, history kept) and the
supervisor's 负面清单 findings against it.

Services take keyword arguments, flush and never commit; every change writes its audit event.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from app.audit import service as audit_service
from app.audit.service import Actor
from app.calendar import today
from app.clock import now
from app.credit import rules
from app.credit.exceptions import CreditInvalid, CreditState, FindingNotFound
from app.credit.models import CreditFinding, PropertyCompanyRecord

# --- the company serving the compound ------------------------------------------------------------


def company_history(session: Session, *, compound_id: int) -> list[PropertyCompanyRecord]:
    """Every record, the current one (the latest) first."""
    return list(session.execute(select(PropertyCompanyRecord).where(
        PropertyCompanyRecord.compound_id == compound_id).order_by(PropertyCompanyRecord.id.desc())).scalars())


def current_company(session: Session, *, compound_id: int) -> PropertyCompanyRecord | None:
    return session.execute(select(PropertyCompanyRecord).where(
        PropertyCompanyRecord.compound_id == compound_id)
        .order_by(PropertyCompanyRecord.id.desc()).limit(1)).scalar_one_or_none()


def normalized_code(code: str) -> str:
    return code.strip().upper()


def record_company(session: Session, *, compound_id: int, actor: Actor, name: str, credit_code: str,
                   contract_starts_on: date, contract_ends_on: date | None,
                   note: str = "") -> PropertyCompanyRecord:
    """Record the company now serving the compound (a change or a correction): always a new row."""
    name, code, note = name.strip(), normalized_code(credit_code), note.strip()
    if not name:
        raise CreditInvalid("请填写物业服务企业名称", code="company_name_required")
    problem = rules.credit_code_problem(code)
    if problem:
        raise CreditInvalid(problem, code="credit_code_invalid")
    if contract_ends_on is not None and contract_ends_on < contract_starts_on:
        raise CreditInvalid("合同终止日期不能早于开始日期", code="contract_dates_invalid")
    current = current_company(session, compound_id=compound_id)
    if current is not None and (current.name, current.credit_code, current.contract_starts_on,
                                current.contract_ends_on) == (name, code, contract_starts_on, contract_ends_on):
        raise CreditState("与当前登记的物业服务企业完全相同，无需重新登记", code="company_unchanged")
    record = PropertyCompanyRecord(
        compound_id=compound_id, name=name, credit_code=code, contract_starts_on=contract_starts_on,
        contract_ends_on=contract_ends_on, note=note, recorded_by=actor.user_id)
    session.add(record)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="credit.company_recorded",
        object_type="property_company", object_id=record.id or 0,
        payload={"name": name, "credit_code": code, "contract_starts_on": contract_starts_on.isoformat(),
                 "contract_ends_on": contract_ends_on.isoformat() if contract_ends_on else None, "note": note,
                 "previous_name": current.name if current else None})
    return record


# --- 负面清单 findings (seed 004) --------------------------------------------------------------------


def findings(session: Session, *, compound_id: int) -> list[CreditFinding]:
    """Every finding of the compound, the latest found first (withdrawn ones included)."""
    return list(session.execute(select(CreditFinding).where(CreditFinding.compound_id == compound_id)
                                .order_by(CreditFinding.found_on.desc(), CreditFinding.id.desc())).scalars())


def active_findings(session: Session, *, compound_id: int, credit_code: str) -> list[CreditFinding]:
    return [f for f in findings(session, compound_id=compound_id)
            if f.withdrawn_at is None and f.credit_code == credit_code]


def record_finding(session: Session, *, compound_id: int, actor: Actor, found_on: date,
                   text: str) -> CreditFinding:
    """A supervisor records a 负面清单 finding against the company serving the compound."""
    text = text.strip()
    if not text:
        raise CreditInvalid("请写明负面清单问题", code="finding_text_required")
    if found_on > today():
        raise CreditInvalid("发现日期不能晚于今天", code="finding_date_future")
    company = current_company(session, compound_id=compound_id)
    if company is None:
        raise CreditState("本小区尚未登记物业服务企业，不能登记负面清单问题", code="company_not_recorded")
    if found_on < company.contract_starts_on:
        raise CreditInvalid("发现日期早于该企业的合同开始日期", code="finding_before_contract")
    finding = CreditFinding(compound_id=compound_id, found_on=found_on, text=text,
                            company_name=company.name, credit_code=company.credit_code,
                            recorded_by=actor.user_id)
    session.add(finding)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="credit.finding_recorded",
        object_type="credit_finding", object_id=finding.id or 0,
        payload={"found_on": found_on.isoformat(), "text": text, "company_name": company.name,
                 "credit_code": company.credit_code})
    return finding


def get_finding(session: Session, *, compound_id: int, finding_id: int) -> CreditFinding:
    finding = session.get(CreditFinding, finding_id)
    if finding is None or finding.compound_id != compound_id:
        raise FindingNotFound()
    return finding


def withdraw_finding(session: Session, *, compound_id: int, finding_id: int, actor: Actor,
                     reason: str) -> CreditFinding:
    """Withdraw a finding recorded in error (once, with the reason); it stays on record."""
    finding = get_finding(session, compound_id=compound_id, finding_id=finding_id)
    if finding.withdrawn_at is not None:
        raise CreditState("该负面清单问题已经撤销", code="finding_already_withdrawn")
    reason = reason.strip()
    if not reason:
        raise CreditInvalid("请写明撤销理由", code="withdraw_reason_required")
    finding.withdrawn_at = now()
    finding.withdrawn_by = actor.user_id
    finding.withdraw_reason = reason
    session.add(finding)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="credit.finding_withdrawn",
        object_type="credit_finding", object_id=finding_id,
        payload={"found_on": finding.found_on.isoformat(), "text": finding.text, "reason": reason})
    return finding
