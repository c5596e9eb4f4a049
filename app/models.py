"""Import every domain's tables, so metadata (create_all, alembic) sees all of them."""

from __future__ import annotations


def load_all_models() -> None:
    import app.appraisals.models
    import app.audit.models
    import app.auth.models
    import app.credit.models
    import app.files.models
    import app.ledger.models
    import app.notices.models
    import app.notify.models
    import app.procedures.models
    import app.roster.models
    import app.surveys.models
    import app.voting.models
    import app.workorders.models  # noqa: F401
