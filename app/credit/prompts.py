"""The dismissal prompt (seed 002 三(二)3: 对责令整改仍不达标的企业，依法定程序解除物业服务合同;
seed 004: 督促社区在时限内组织业主大会依法表决解聘).

A cause is: the company serving the compound is on the black list of the compound's latest list,
and a rectification item (整改事项) of one of its published appraisals passed its deadline without
the committee confirming it done. The committee's screens show each cause; showing it is recorded
once (audited); the committee may dismiss it with a reason (audited), or propose the dismissal
(解聘, Art. 278 (四)) as an agenda item through the compound's adopted procedure, where it goes
through consultation and the party review like any other major matter before any ballot. The
owners decide; the platform only prompts and records. A cause that is gone (the company changed,
a later list without it on the black list, the item confirmed) stops prompting by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.appraisals import service as appraisal_service
from app.appraisals.models import RectificationItem
from app.audit import service as audit_service
from app.audit.service import Actor
from app.calendar import today
from app.clock import now
from app.credit import lists, rules, service
from app.credit.exceptions import CreditInvalid, CreditState
from app.credit.models import CreditList, CreditListEntry, DismissalPrompt, PropertyCompanyRecord
from app.procedures import agenda, flow
from app.procedures.adoption import get_setting
from app.procedures.models import AgendaItem
from app.timefmt import format_date

# The major-matter type and Art. 278 category a dismissal is proposed under (app/procedures/majors.py).
MATTER_TYPE = "property_manager"
CATEGORY = "4"


@dataclass(frozen=True)
class Cause:
    item: RectificationItem
    appraisal_year: int
    record: DismissalPrompt | None

    @property
    def open(self) -> bool:
        """Neither dismissed nor acted on."""
        return self.record is None or (self.record.dismissed_at is None and self.record.agenda_item_id is None)


@dataclass(frozen=True)
class PromptState:
    company: PropertyCompanyRecord | None
    listing: CreditList | None
    entry: CreditListEntry | None  # the company's line on the black list
    company_count: int
    causes: list[Cause]  # every current cause, open or not
    draft: AgendaItem | None  # the dismissal item proposed for a current cause
    procedure_adopted: bool

    @property
    def open_causes(self) -> list[Cause]:
        return [c for c in self.causes if c.open]


def _black_line(session: Session, *, compound_id: int,
                company: PropertyCompanyRecord) -> tuple[CreditList, CreditListEntry, int] | None:
    listing = lists.latest_list_for(session, compound_id=compound_id)
    if listing is None:
        return None
    assessment = lists.assessment_in(session, listing=listing, compound_id=compound_id)
    if assessment is None or assessment.credit_code != company.credit_code:
        return None
    entries = lists.entries_of(session, listing=listing)
    entry = next((e for e in entries if e.credit_code == company.credit_code), None)
    if entry is None or entry.place != "black":
        return None
    return listing, entry, len(entries)


def _overdue_items(session: Session, *, compound_id: int,
                   company: PropertyCompanyRecord) -> list[tuple[RectificationItem, int]]:
    """Items of the company's published appraisals past their deadline and not confirmed done."""
    day = today()
    out = []
    for appraisal in appraisal_service.list_appraisals(session, compound_id=compound_id):
        if appraisal.published_at is None or appraisal.year < company.contract_starts_on.year:
            continue
        for item in appraisal_service.items_of(session, appraisal=appraisal):
            if item.confirmed_at is None and day > item.due_on:
                out.append((item, appraisal.year))
    return sorted(out, key=lambda pair: (pair[0].due_on, pair[0].id or 0))


def state(session: Session, *, compound_id: int) -> PromptState:
    company = service.current_company(session, compound_id=compound_id)
    adopted = get_setting(session, compound_id=compound_id).template_key is not None
    black = _black_line(session, compound_id=compound_id, company=company) if company else None
    if company is None or black is None:
        return PromptState(company, None, None, 0, [], None, adopted)
    listing, entry, company_count = black
    items = _overdue_items(session, compound_id=compound_id, company=company)
    records = {r.rectification_item_id: r for r in session.execute(select(DismissalPrompt).where(
        DismissalPrompt.compound_id == compound_id, DismissalPrompt.list_id == listing.id)).scalars()}
    causes = [Cause(item, year, records.get(item.id or 0)) for item, year in items]
    draft_id = next((c.record.agenda_item_id for c in causes if c.record and c.record.agenda_item_id), None)
    draft = agenda.get_item(session, compound_id=compound_id, item_id=draft_id) if draft_id else None
    return PromptState(company, listing, entry, company_count, causes, draft, adopted)


def _payload(s: PromptState, cause: Cause) -> dict[str, object]:
    assert s.listing is not None and s.entry is not None and s.company is not None
    return {"company_name": s.company.name, "credit_code": s.company.credit_code,
            "district": s.listing.district,
            "period": rules.quarter_label(lists.period_of(s.listing)), "version": s.listing.version,
            "company_score": rules.points_text(s.entry.score_tenths),
            "text": cause.item.text, "due_on": cause.item.due_on.isoformat(), "year": cause.appraisal_year}


def _ensure_recorded(session: Session, s: PromptState, *, compound_id: int, actor: Actor) -> list[DismissalPrompt]:
    """A row (and one audit event) for each open cause not recorded yet; the open causes' rows."""
    assert s.listing is not None and s.company is not None
    rows = []
    for cause in s.open_causes:
        row = cause.record
        if row is None:
            row = DismissalPrompt(compound_id=compound_id, list_id=s.listing.id or 0,
                                  rectification_item_id=cause.item.id or 0, company_name=s.company.name,
                                  credit_code=s.company.credit_code, prompted_by=actor.user_id)
            try:
                with session.begin_nested():  # two screens showing it at once: recorded once
                    session.add(row)
            except IntegrityError:
                row = session.execute(select(DismissalPrompt).where(
                    DismissalPrompt.compound_id == compound_id, DismissalPrompt.list_id == s.listing.id,
                    DismissalPrompt.rectification_item_id == cause.item.id)).scalar_one()
            else:
                audit_service.append_event(
                    session, compound_id=compound_id, actor=actor, action="credit.dismissal_prompted",
                    object_type="dismissal_prompt", object_id=row.id or 0, payload=_payload(s, cause))
        rows.append(row)
    return rows


def record_shown(session: Session, *, compound_id: int, actor: Actor) -> PromptState:
    """Record that the committee was shown each open cause (once per cause)."""
    s = state(session, compound_id=compound_id)
    if s.open_causes:
        _ensure_recorded(session, s, compound_id=compound_id, actor=actor)
    return state(session, compound_id=compound_id)


def _need_open(s: PromptState) -> None:
    if not s.open_causes:
        raise CreditState("当前没有需要处理的解聘提示", code="no_dismissal_prompt")


def dismiss(session: Session, *, compound_id: int, actor: Actor, reason: str) -> PromptState:
    """The committee sets the prompt aside, with its reason; a new cause prompts again."""
    reason = reason.strip()
    if not reason:
        raise CreditInvalid("请写明暂不发起解聘议题的理由", code="dismiss_reason_required")
    s = state(session, compound_id=compound_id)
    _need_open(s)
    at = now()
    for row, cause in zip(_ensure_recorded(session, s, compound_id=compound_id, actor=actor), s.open_causes,
                          strict=True):
        row.dismissed_at, row.dismissed_by, row.dismiss_reason = at, actor.user_id, reason
        session.add(row)
        session.flush()
        audit_service.append_event(
            session, compound_id=compound_id, actor=actor, action="credit.dismissal_prompt_dismissed",
            object_type="dismissal_prompt", object_id=row.id or 0, payload={**_payload(s, cause), "reason": reason})
    return state(session, compound_id=compound_id)


def proposal_text(s: PromptState) -> tuple[str, str]:
    """The proposal's title and text the committee starts from (it may edit both)."""
    assert s.company is not None and s.listing is not None and s.entry is not None
    c, lst, e = s.company, s.listing, s.entry
    reasons = [f"{lst.district}{rules.quarter_label(lists.period_of(lst))}物业服务企业红黑榜（第{lst.version}版，"
               f"{format_date(lst.published_at)}公布）：{c.name}列入黑榜，得分{rules.points_text(e.score_tenths)}分，"
               f"排名第{e.rank}（共{s.company_count}家）。"]
    reasons += [f"{cause.appraisal_year}年度述职评议整改事项“{cause.item.text}”，整改期限{format_date(cause.item.due_on)}，"
                f"逾期至今未经业主委员会确认完成{'（物业服务企业已报告完成，待核实）' if cause.item.done_at else ''}。"
                for cause in s.causes]
    title = f"解聘物业服务企业：{c.name}"
    text = (f"提请业主大会依照《民法典》第二百七十八条第一款第（四）项，表决是否解聘{c.name}"
            f"（统一社会信用代码{c.credit_code}）。\n\n提示原因：\n"
            + "\n".join(f"{i}. {r}" for i, r in enumerate(reasons, start=1))
            + "\n\n本议题由业主委员会根据平台提示发起，经商议、社区党组织审核后方可提交业主大会；是否解聘由业主大会表决决定。")
    return title[:200], text


def propose_dismissal(session: Session, *, compound_id: int, actor: Actor, caller: agenda.Caller,
                      title: str, text: str) -> AgendaItem:
    """Propose the dismissal through the compound's procedure (its first step), for the open causes."""
    s = state(session, compound_id=compound_id)
    _need_open(s)
    item = flow.propose(session, compound_id=compound_id, title=title, text=text, matter_type=MATTER_TYPE,
                        category=CATEGORY, proposer_body="committee", document_file_ids=[], caller=caller)
    at = now()
    for row, cause in zip(_ensure_recorded(session, s, compound_id=compound_id, actor=actor), s.open_causes,
                          strict=True):
        row.agenda_item_id, row.drafted_at, row.drafted_by = item.id, at, actor.user_id
        session.add(row)
        session.flush()
        audit_service.append_event(
            session, compound_id=compound_id, actor=actor, action="credit.dismissal_proposed",
            object_type="dismissal_prompt", object_id=row.id or 0,
            payload={**_payload(s, cause), "agenda_item_id": item.id, "title": item.title})
    return item


def history(session: Session, *, compound_id: int) -> list[DismissalPrompt]:
    """Every recorded cause of the compound, newest first (dismissed, acted on, or gone)."""
    return list(session.execute(select(DismissalPrompt).where(DismissalPrompt.compound_id == compound_id)
                                .order_by(DismissalPrompt.id.desc())).scalars())
