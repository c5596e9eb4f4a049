"""Browser-test seed for e2e/appraisals.test.mjs: the demo, plus this year's annual satisfaction
survey answered by six flats (five 满意 on every item, one 不满意: 83.3%) and published, so
the year's appraisal has its owners' part.

Run by e2e/harness.mjs through GONGJUE_E2E_SEED (cwd is the repository root).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from sqlalchemy import select

from app import calendar, clock, demo
from app.audit.service import Actor
from app.auth.models import UserAccount
from app.db import transaction
from app.roster.models import Compound
from app.surveys import service as survey_service

PHONES = ["13800000001", "13800000002", "13800000004", "13800000006", "13800000008", "13800000010"]


def main() -> None:
    demo.main()
    real_now = datetime.now(UTC)
    with transaction(write=True) as session:
        compound = session.execute(select(Compound).order_by(Compound.id)).scalars().first()
        assert compound is not None
        committee = session.execute(select(UserAccount).where(UserAccount.username == "committee")).scalar_one()
        actor = Actor(user_id=committee.id, role="committee")
        frozen = clock.FrozenClock(real_now - timedelta(days=20))
        clock.set_now(frozen)
        try:
            survey = survey_service.create_survey(
                session, compound_id=compound.id or 0, actor=actor, year=calendar.today().year,
                opens_at=frozen.current + timedelta(hours=1), closes_at=frozen.current + timedelta(days=14),
                template_key="property_satisfaction")
            survey_service.open_survey(session, compound_id=compound.id or 0, survey_id=survey.id or 0, actor=actor)
            frozen.current += timedelta(hours=2)
            questions = survey_service.questions_of(session, survey=survey)
            for i, phone in enumerate(PHONES):
                subject = survey_service.answering_subjects(session, compound_id=compound.id or 0, phone=phone)[0]
                value = 1 if i == 0 else 3
                survey_service.submit_answer(
                    session, compound_id=compound.id or 0, survey_id=survey.id or 0, phone=phone,
                    subject_id=subject.subject_id, answers={q.id or 0: value for q in questions}, comment="")
            frozen.current += timedelta(days=15)
            survey_service.close_survey(session, compound_id=compound.id or 0, survey_id=survey.id or 0, actor=actor)
            survey_service.publish_survey(session, compound_id=compound.id or 0, survey_id=survey.id or 0, actor=actor)
        finally:
            clock.set_now(None)


if __name__ == "__main__":
    main()
