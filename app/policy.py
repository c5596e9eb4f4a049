"""The one read policy of the app: may this caller read this object, or this file, now.

Each domain states who may read its objects, state by state, in its own `policy.py`
(app/voting/policy.py, app/procedures/policy.py, app/notices/policy.py, app/ledger/policy.py);
their routes ask there. A stored file has no rule of its own: it is readable exactly when an
object it is attached to is readable by the caller in that object's present state. This module
wires the domains' file rules together, explicitly and in one place (app/files stays a low-level
domain that knows nothing of ballots, notices, ledgers or procedures).

A file attached to nothing is its uploader's alone. The uploader keeps reading what they
uploaded once it is attached (they hold the bytes anyway). Every refusal is "file not found",
the same answer as for an id that does not exist, so the policy reveals nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.appraisals import policy as appraisals_policy
from app.deps import CompoundAccess
from app.errors import NotFound
from app.files.models import StoredFile
from app.ledger import policy as ledger_policy
from app.notices import policy as notices_policy
from app.procedures import policy as procedures_policy
from app.voting import policy as voting_policy
from app.workorders import policy as workorders_policy

# (session, file_id, access) -> True (readable through this domain), False (attached here, not
# readable by the caller), None (this domain holds no object with the file).
FileRule = Callable[..., bool | None]

FILE_RULES: dict[str, FileRule] = {
    "voting": voting_policy.file_readable,  # matter documents, proxy authorizations, paper scans
    "procedures": procedures_policy.file_readable,  # proposal documents, minutes, opinions
    "notices": notices_policy.file_readable,  # notice attachments, board photos, receipts
    "ledger": ledger_policy.file_readable,  # vouchers, audit reports, imported statements
    "workorders": workorders_policy.file_readable,  # report and completion photos
    "appraisals": appraisals_policy.file_readable,  # quarterly reports, accounts, evidence
}


def file_holders(session: Session, *, record: StoredFile, access: CompoundAccess) -> dict[str, bool]:
    """For each domain holding the file: whether it lets the caller read it."""
    out: dict[str, bool] = {}
    for domain, rule in FILE_RULES.items():
        verdict = rule(session, file_id=record.id or 0, access=access)
        if verdict is not None:
            out[domain] = verdict
    return out


def may_read_file(session: Session, *, record: StoredFile, access: CompoundAccess) -> bool:
    if record.compound_id != access.compound_id:
        return False
    if record.uploaded_by is not None and record.uploaded_by == access.user_id:
        return True
    return any(rule(session, file_id=record.id or 0, access=access) for rule in FILE_RULES.values())


def check_can_read_file(session: Session, *, record: StoredFile, access: CompoundAccess) -> None:
    if not may_read_file(session, record=record, access=access):
        raise NotFound("文件不存在", code="file_not_found")
