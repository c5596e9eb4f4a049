"""Templates are data: the shipped ones validate, and a compound adds its own through the API."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.clock import FrozenClock
from app.procedures import templates as tpl
from tests.factories import make_compound, make_staff
from tests.procedures.helpers import ALL_AGREE, build_world, finish, walk_to_ballot

# 四议两公开 as a compound might write it: proposal, joint meeting, review (the gate), vote,
# then both publications.
OWN = {
    "name": "四议两公开（本小区）",
    "description": "本小区业主大会议事规则第十二条规定的程序。",
    "source": "本小区业主大会议事规则",
    "steps": [
        {"key": "propose", "name": "提议", "kind": "propose", "roles": ["committee", "clerk"],
         "bodies": ["committee", "property_company"], "deadline_days": 10},
        {"key": "consult", "name": "商议", "kind": "meeting", "roles": ["committee"],
         "actions": ["approve", "return"], "deadline_days": 10},
        {"key": "review", "name": "审议", "kind": "review", "roles": ["reviewer"],
         "actions": ["approve", "return", "reject"], "gate": True, "deadline_days": 7},
        {"key": "resolve", "name": "决议", "kind": "ballot", "creates": "ballot", "roles": ["committee"]},
        {"key": "publish_resolution", "name": "决议公开", "kind": "notice", "creates": "notice",
         "roles": ["committee"]},
        {"key": "publish_result", "name": "实施结果公开", "kind": "notice", "creates": "notice",
         "roles": ["committee"], "only_if_passed": True},
    ],
}


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    return build_world(db, client, frozen_clock, outbox)


def test_shipped_templates_are_valid_data() -> None:
    shipped = tpl.shipped_templates()
    assert list(shipped) == ["sanyi_yishen", "sanyi_yishen_street", "wuyi_yibei"]
    default = [s["name"] for s in shipped["sanyi_yishen"]["steps"]]
    assert default == ["提议", "商议", "审核", "决议", "决议公开", "实施结果公开"]
    street = shipped["sanyi_yishen_street"]["steps"]
    assert [s["kind"] for s in street].index("ballot") < [s["key"] for s in street].index("street_review")
    assert len(shipped["wuyi_yibei"]["steps"]) == 8


def _broken(**change):  # type: ignore[no-untyped-def]
    data = copy.deepcopy(OWN)
    for index, patch in change.items():
        data["steps"][int(index[1:])].update(patch)
    return data


@pytest.mark.parametrize(("data", "message"), [
    (_broken(s2={"gate": False}), "审核关口"),
    (_broken(s4={"creates": None}), "creates"),
    (_broken(s4={"gate": True}), "审核关口"),
    (_broken(s3={"kind": "review", "creates": None, "actions": ["approve"]}), "业主大会表决"),
    (_broken(s1={"actions": ["return"]}), "approve"),
    (_broken(s0={"bodies": ["property_company"], "roles": ["committee"]}), "没有可代表它的角色"),
    (_broken(s1={"key": "propose"}), "不能重复"),
    (_broken(s2={"only_if_passed": True}), "only_if_passed"),
    (_broken(s5={"kind": "record", "creates": None, "actions": ["approve"]}), "最后一步"),
    ({**OWN, "steps": OWN["steps"][1:]}, "第一步"),
    (_broken(s1={"roles": ["owner"]}), "模板格式有误"),
    ({**OWN, "extra": 1}, "模板格式有误"),
])
def test_template_shape_is_checked(data: dict, message: str) -> None:
    with pytest.raises(tpl.TemplateError) as exc:
        tpl.validate_template(data)
    assert message in str(exc.value)


def test_compound_adds_its_own_template_and_runs_it(world) -> None:  # type: ignore[no-untyped-def]
    r = world.client.post(world.p("/templates"), headers=world.h("wy"), json=_broken(s2={"gate": False}))
    assert r.status_code == 422 and r.json()["error"] == "procedure_template_invalid"
    r = world.client.post(world.p("/templates"), headers=world.h("shenhe"), json=OWN)
    assert r.status_code == 403  # the committee records what the compound's rules adopted
    made = world.ok("POST", world.p("/templates"), "wy", OWN, status=201)
    assert made["key"].startswith("custom-") and made["shipped"] is False
    keys = [t["key"] for t in world.ok("GET", world.p("/templates"), "A")]
    assert keys == ["sanyi_yishen", "sanyi_yishen_street", "wuyi_yibei", made["key"]]
    world.adopt(made["key"])

    item = walk_to_ballot(world, world.propose())
    ballot = world.ballot()
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    world.run_ballot(ballot, ALL_AGREE)
    item = finish(world, world.ok("POST", world.p(f"/items/{item['id']}/resolution"), "wy"))
    assert item["status"] == "closed" and item["template_name"] == "四议两公开（本小区）"


def test_a_template_of_another_compound_cannot_be_adopted(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    made = world.ok("POST", world.p("/templates"), "wy", OWN, status=201)
    other = make_compound(db)
    make_staff(db, username="wy_other", roles={other.id: [Role.COMMITTEE]})
    db.commit()
    r = world.client.put(f"/api/v1/compounds/{other.id}/procedures/settings", headers=world.h("wy_other"),
                         json={"template_key": made["key"]})
    assert r.status_code == 404 and r.json()["error"] == "procedure_template_not_found"
