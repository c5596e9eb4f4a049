"""Browser-test seed for e2e/credit.test.mjs: the appraisal seed (the demo, plus this year's
satisfaction survey in 阳光花园 published at 83.3%), then:

- 阳光花园 adopts the 三议一审两公开 procedure, and its appraisal of this year is published four
  days ago at 67.0 with one rectification item (修复地下车库照明) due two days ago, not done;
- 绿园小区 in the same district (朝阳区), served by 绿城物业 (recorded), its ledger started this
  quarter (no statement due yet);
- a staff account `supervisor` (和平街道监管员 周明) granted the supervisor role in both.

阳光花园's company is left for the test's committee to record through the screen.
Run by e2e/harness.mjs through GONGJUE_E2E_SEED (cwd is the repository root).
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_appraisal
from sqlalchemy import select

from app import calendar, clock, demo
from app.appraisals import service as appraisal_service
from app.audit.service import SYSTEM, Actor
from app.auth import service as auth_service
from app.auth.models import Role, UserAccount
from app.credit import service as credit_service
from app.db import transaction
from app.ledger import service as ledger_service
from app.procedures import adoption
from app.procedures.agenda import Caller
from app.roster import service as roster_service
from app.roster.models import Compound

GREEN_CODE = "91110000802100433B"


def _user(session, username: str) -> UserAccount:  # type: ignore[no-untyped-def]
    return session.execute(select(UserAccount).where(UserAccount.username == username)).scalar_one()


def main() -> None:
    seed_appraisal.main()
    real_now = datetime.now(UTC)
    with transaction(write=True) as session:
        sun = session.execute(select(Compound).where(Compound.name == demo.COMPOUND_NAME)).scalar_one()
        sid = sun.id or 0
        committee, reviewer, clerk = (_user(session, u) for u in ("committee", "reviewer", "clerk"))
        wy = Actor(user_id=committee.id, role="committee")
        adoption.update_settings(session, compound_id=sid, template_key="sanyi_yishen", extra_major=None,
                                 caller=Caller.of(committee.id or 0, {Role.COMMITTEE}), actor=wy)

        frozen = clock.FrozenClock(real_now - timedelta(days=4))
        clock.set_now(frozen)
        try:
            year = calendar.today().year
            party, company = Actor(user_id=reviewer.id, role="reviewer"), Actor(user_id=clerk.id, role="clerk")
            appraisal_service.file_account(session, compound_id=sid, year=year, actor=wy, party="committee",
                                           text="业委会年度述职报告", file_ids=[])
            appraisal_service.file_account(session, compound_id=sid, year=year, actor=company, party="company",
                                           text="物业服务企业年度述职报告", file_ids=[])
            sheet = dict.fromkeys(("contract", "service", "repairs", "openness", "reporting"), 60)
            for actor, kind, name in ((party, "party", "幸福社区党委"), (wy, "committee", "阳光花园业主委员会"),
                                      (wy, "owner_rep", "业主代表")):
                appraisal_service.enter_score(session, compound_id=sid, year=year, actor=actor, appraiser_kind=kind,
                                              appraiser_name=name, scores=sheet)
            appraisal_service.add_rectification(session, compound_id=sid, year=year, actor=party,
                                                 text="修复地下车库照明", due_on=calendar.today() + timedelta(days=2))
            appraisal_service.publish(session, compound_id=sid, year=year, actor=party)
        finally:
            clock.set_now(None)

        green = roster_service.create_compound(session, name="绿园小区", district="朝阳区", street="和平街道",
                                               community="幸福社区", actor=SYSTEM)
        session.flush()
        credit_service.record_company(session, compound_id=green.id or 0, actor=SYSTEM, name="绿城物业服务集团有限公司",
                                      credit_code=GREEN_CODE, contract_starts_on=date(2023, 7, 1),
                                      contract_ends_on=None)
        today = calendar.today()
        ledger_service.update_settings(session, compound_id=green.id or 0, actor=SYSTEM, changes={
            "starts_on": date(today.year, (today.month - 1) // 3 * 3 + 1, 1)})
        supervisor = auth_service.create_staff_account(session, username="supervisor", password=demo.DEMO_PASSWORD,
                                                       display_name="和平街道监管员 周明", is_platform_admin=False)
        admin = _user(session, "admin")
        for cid in (sid, green.id or 0):
            auth_service.grant_role(session, compound_id=cid, user_id=supervisor.id or 0, role=Role.SUPERVISOR,
                                    organization="和平街道办事处", actor=Actor(user_id=admin.id, role="platform_admin"))


if __name__ == "__main__":
    main()
