"""A vote is taken exactly as sent: nothing in it is coerced into a choice or silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.voting.models import VoteCast
from tests.voting.helpers import build_world, open_ballot, owner


def _votes(db: Session, ballot_id: int) -> int:
    db.rollback()
    count = db.execute(select(func.count()).select_from(VoteCast)
                       .where(VoteCast.ballot_id == ballot_id)).scalar_one()
    db.rollback()
    return int(count)


def test_only_exact_choices_are_recorded(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    url = world.url(f"/ballots/{ballot['id']}/votes")
    sid = client.get(world.url(f"/ballots/{ballot['id']}"), headers=a).json()["my_subjects"][0]["subject_id"]
    plain = [str(m["id"]) for m in ballot["matters"] if not m["seats"]]
    election = next(m for m in ballot["matters"] if m["seats"])
    first = election["candidates"][0]["id"]
    valid: dict[str, Any] = {**dict.fromkeys(plain, "agree"), str(election["id"]): {"approve": [first]}}

    def send(subject: Any = sid, **change: Any) -> Any:
        return client.post(url, headers=a, json={"subject_id": subject, "choices": {**valid, **change}})

    key = str(election["id"])
    # `true` is not candidate 1 (bool is an int subclass), whatever the candidates' ids are.
    r = send(**{key: {"approve": [True]}})
    assert (r.status_code, r.json()["error"]) == (422, "vote_choice_invalid"), r.text
    # No key of an approval is dropped, and the approval has one shape only.
    r = send(**{key: {"approve": [first], "note": "x"}})
    assert (r.status_code, r.json()["error"]) == (422, "vote_choice_invalid"), r.text
    r = send(**{key: [first]})
    assert (r.status_code, r.json()["error"]) == (422, "vote_choice_invalid"), r.text
    r = send(**{key: {"approve": [float(first)]}})
    assert (r.status_code, r.json()["error"]) == (422, "vote_choice_invalid"), r.text
    # A list is not a choice, nor a boolean, nor a choice in other letters.
    for wrong in (["agree"], True, "AGREE"):
        r = send(**{plain[0]: wrong})
        assert (r.status_code, r.json()["error"]) == (422, "vote_choice_invalid"), (wrong, r.text)
    # The subject is a JSON number: neither `true` nor its text stands for it.
    for subject in (True, str(sid)):
        r = send(subject)
        assert r.status_code == 422 and r.json()["error"] == "validation_error", r.text
        assert r.json()["detail"] == "投票主体须为整数"
    assert _votes(db, ballot["id"]) == 0  # nothing of the above was recorded

    r = send()
    assert r.status_code == 201, r.text
    mine = client.get(world.url(f"/ballots/{ballot['id']}/my-votes"), headers=a)
    assert mine.status_code == 200, mine.text
    assert _votes(db, ballot["id"]) == 1


@pytest.mark.parametrize("body", [
    {"publish_unit_record": "yes"}, {"publish_unit_record": 1}, {"proxy_limit": True},
    {"proxy_limit": "5"}, {"proxy_limit": 5.0},
])
def test_settings_take_json_types_as_sent(client: TestClient, db: Session, body: dict[str, Any]) -> None:
    world = build_world(db, client)
    before = client.get(world.url("/voting/settings"), headers=world.committee).json()
    r = client.put(world.url("/voting/settings"), headers=world.committee, json=body)
    assert r.status_code == 422 and r.json()["error"] == "validation_error", r.text
    field = next(iter(body))
    named = r.json()["fields"][0]
    assert named["field"] == field and r.json()["detail"].startswith(named["label"])
    assert client.get(world.url("/voting/settings"), headers=world.committee).json() == before
