"""The audit trail as a reader sees it: each event in words, its actor named, its object linked.

The words come from `app.audit.vocabulary`; this module adds what needs the database: who the
actors are. Staff act in public office, so they are named (display name, their role in the
compound and, for reviewers and observers, their organization); owners are masked
(`app.privacy`): a family name's first character, or a masked phone number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session

from app.audit import vocabulary
from app.audit.models import AuditEvent
from app.audit.service import event_record
from app.auth import service as auth_service
from app.auth.models import Role
from app.privacy import mask_name, mask_phone
from app.roster import service as roster_service

_ORGANIZED = {Role.REVIEWER.value, Role.OBSERVER.value}


def _role_label(role: str) -> str:
    return vocabulary.ROLES.get(role, role)


class People:
    """Names of the accounts a page of events mentions, read once per account."""

    def __init__(self, session: Session, compound_id: int) -> None:
        self.session = session
        self.compound_id = compound_id
        self._accounts: dict[int, Any] = {}
        self._orgs: dict[tuple[int, str], str] = {}

    def _account(self, user_id: int) -> Any:
        if user_id not in self._accounts:
            self._accounts[user_id] = auth_service.get_account(self.session, user_id=user_id)
        return self._accounts[user_id]

    def _name(self, user_id: int, *, as_owner: bool) -> str:
        account = self._account(user_id)
        if account is None:
            return f"账号 #{user_id}"
        if as_owner or account.username is None:  # owners sign in by phone and have no username
            shown = account.display_name or ""
            if not shown or any(ch.isdigit() for ch in shown):
                return mask_phone(account.phone) or "业主"
            return mask_name(shown)
        return str(account.display_name)

    def organization(self, user_id: int, role: str) -> str:
        if role not in _ORGANIZED:
            return ""
        key = (user_id, role)
        if key not in self._orgs:
            self._orgs[key] = auth_service.grant_organization(
                self.session, compound_id=self.compound_id, user_id=user_id, role=Role(role)) or ""
        return self._orgs[key]

    def actor(self, user_id: int | None, role: str) -> dict[str, Any]:
        if user_id is None:
            return {"user_id": None, "name": "系统", "role": role, "role_label": "系统",
                    "organization": "", "masked": False, "text": "系统（自动）"}
        owner = role == Role.OWNER.value
        name = self._name(user_id, as_owner=owner)
        org = self.organization(user_id, role)
        label = _role_label(role)
        # Staff also by account number: two members of the same name stay two people.
        number = "" if owner or self._account(user_id) is None else f"，账号 #{user_id}"
        text = f"{name}（{label}{'，' + org if org else ''}{number}）"
        return {"user_id": user_id, "name": name, "role": role, "role_label": label,
                "organization": org, "masked": owner or self._account(user_id) is None
                or self._account(user_id).username is None, "text": text}

    def mentioned(self, payloads: Iterable[Mapping[str, Any]]) -> dict[int, str]:
        """Accounts named inside payloads (`user_id`, `recorded_by`), as written there."""
        people: dict[int, str] = {}
        for payload in payloads:
            for name, value in payload.items():
                field = vocabulary.FIELDS.get(name)
                if field is not None and field.kind == "user" and isinstance(value, int) \
                        and not isinstance(value, bool) and value not in people:
                    people[value] = self._name(value, as_owner=False)
        return people


def present(session: Session, events: list[AuditEvent], *, compound_id: int) -> list[dict[str, Any]]:
    """The events as `EventOut` dicts: the record as hashed, plus its reading."""
    people = People(session, compound_id)
    records = [event_record(e) for e in events]
    names = people.mentioned(r["payload"] for r in records)
    subjects = _subject_labels(session, compound_id, records)
    out = []
    for r in records:
        payload = r["payload"]
        group = vocabulary.group_of(r["action"])
        out.append({
            **{k: v for k, v in r.items() if k not in ("type", "compound_id")},
            "description": vocabulary.describe(r["action"], payload, people=names, subjects=subjects),
            "group": group,
            "group_label": vocabulary.GROUPS.get(group or "", "其他"),
            "object_label": _object_label(r["object_type"], r["object_id"], subjects),
            "object_link": vocabulary.event_link(r["object_type"], r["object_id"], payload, compound_id),
            "actor": people.actor(r["actor_user_id"], r["actor_role"]),
            "details": [
                {"label": line.label, "value": line.value, "link": line.link,
                 "object_type": line.object_type, "object_id": line.object_id}
                for line in vocabulary.render_payload(payload, compound_id=compound_id, people=names,
                                                      subjects=subjects)
            ],
        })
    return out


def _subject_labels(session: Session, compound_id: int, records: list[dict[str, Any]]) -> dict[int, str]:
    """Voting subjects named in the page's payloads, by their units (e.g. 1栋1单元101): what
    the progress and non-voter lists show overseers, no owner's name."""
    ids: set[int] = set()
    for r in records:
        value = r["payload"].get("subject_id")
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        many = r["payload"].get("subject_ids")
        if isinstance(many, list):
            ids.update(v for v in many if isinstance(v, int) and not isinstance(v, bool))
        if r["object_type"] == "voting_subject" and r["object_id"].isdigit():
            ids.add(int(r["object_id"]))
    if not ids:
        return {}
    summaries = roster_service.subject_summaries(session, compound_id=compound_id, subject_ids=ids)
    return {sid: s.label for sid, s in summaries.items()}


def _object_label(object_type: str, object_id: str, subjects: Mapping[int, str]) -> str:
    if object_type == "voting_subject" and object_id.isdigit() and int(object_id) in subjects:
        return f"表决主体 {subjects[int(object_id)]}"
    return f"{vocabulary.noun(object_type)} #{object_id}"
