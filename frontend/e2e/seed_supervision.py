"""Browser-test seed for e2e/supervision.test.mjs: the appraisal seed (the demo, plus this year's
satisfaction survey in 阳光花园 published at 5 of 6 satisfied: 83.3%), the ledger of 阳光花园
started two quarters back with no statement published (so one is overdue), two more compounds
(绿园小区, 东方小区) and a staff account `supervisor` without any grant: the test's
administrator grants it the supervisor role in 阳光花园 and 绿园小区 through the screen.

Run by e2e/harness.mjs through GONGJUE_E2E_SEED (cwd is the repository root).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_appraisal
from sqlalchemy import select

from app import calendar, demo
from app.audit.service import SYSTEM, Actor
from app.auth import service as auth_service
from app.auth.models import UserAccount
from app.db import transaction
from app.ledger import service as ledger_service
from app.roster import service as roster_service
from app.roster.models import Compound


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def main() -> None:
    seed_appraisal.main()
    with transaction(write=True) as session:
        sun = session.execute(select(Compound).where(Compound.name == demo.COMPOUND_NAME)).scalar_one()
        committee = session.execute(select(UserAccount).where(UserAccount.username == "committee")).scalar_one()
        setting = ledger_service.get_settings(session, compound_id=sun.id or 0)
        if setting.starts_on is None:
            # Two quarters back: the first of them ended more than 30 days ago, unpublished.
            start = _quarter_start(_quarter_start(calendar.today()) - timedelta(days=100))
            ledger_service.update_settings(session, compound_id=sun.id or 0, changes={"starts_on": start},
                                           actor=Actor(user_id=committee.id, role="committee"))
        for name in ("绿园小区", "东方小区"):
            roster_service.create_compound(session, name=name, district="朝阳区", street="和平街道",
                                           community="幸福社区", actor=SYSTEM)
        auth_service.create_staff_account(session, username="supervisor", password=demo.DEMO_PASSWORD,
                                          display_name="和平街道监管员 周明", is_platform_admin=False)


if __name__ == "__main__":
    main()
