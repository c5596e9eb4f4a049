"""Each matter states the rule it is decided by, from the ballot's frozen thresholds (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from app.voting import rules
from app.voting.rules import Category, RuleSettings, Threshold, rule_text
from tests.voting.helpers import ballot_body, build_world

START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
STRICTER = RuleSettings.from_levels(quorum=Threshold.from_text(">=3/4"),
                                    special_majority=Threshold.from_text(">4/5"))


def test_a_statutory_ordinary_matter_reads_as_the_statute() -> None:
    assert rule_text(Category.OTHER_MAJOR_MATTER) == (
        "参与表决：专有部分面积和人数均须达到三分之二以上；通过：参与表决专有部分面积和人数均须过半数同意")


def test_a_statutory_special_matter_needs_three_quarters() -> None:
    assert rule_text(Category.COMMON_PARTS_USE, RuleSettings()) == (
        "参与表决：专有部分面积和人数均须达到三分之二以上；通过：参与表决专有部分面积和人数均须四分之三以上同意")


def test_a_stricter_compound_states_its_own_ratios() -> None:
    special = rule_text(Category.COMMON_PARTS_USE, STRICTER)
    assert special == ("参与表决：专有部分面积和人数均须达到四分之三以上；"
                       "通过：参与表决专有部分面积和人数均须超过五分之四同意（本小区议事规则严于法定比例）")
    # The simple majority was not raised, but the quorum was: the matter still reads as stricter.
    assert rule_text(Category.PROPERTY_MANAGER, STRICTER) == (
        "参与表决：专有部分面积和人数均须达到四分之三以上；"
        "通过：参与表决专有部分面积和人数均须过半数同意（本小区议事规则严于法定比例）")


def test_area_and_headcount_bounds_that_differ_are_both_named() -> None:
    law = rules.statutory_thresholds(Category.OTHER_MAJOR_MATTER)
    settings = RuleSettings({Category.OTHER_MAJOR_MATTER: rules.Thresholds(
        law.quorum_area, Threshold.from_text(">=3/4"), law.approval_area, law.approval_headcount)})
    assert rule_text(Category.OTHER_MAJOR_MATTER, settings).startswith(
        "参与表决：专有部分面积须达到三分之二以上，人数须达到四分之三以上；")


def test_an_election_states_the_seats_and_the_spoilt_ballot_rule() -> None:
    text = rule_text(Category.COMMITTEE_ELECTION, STRICTER, seats=5)
    assert text.startswith("参与表决：专有部分面积和人数均须达到四分之三以上；当选：候选人须经参与表决"
                           "专有部分面积和人数均过半数同意")
    assert "（应选5名）" in text and "所选人数超过应选人数的选票无效" in text


@pytest.mark.parametrize(("category", "wording"), [
    (Category.SURVEY, "不构成业主共同决定"),
    (Category.ART279, "有利害关系的业主须一致同意"),
])
def test_surveys_and_art279_matters_are_not_decided_by_the_art278_ratios(category: Category,
                                                                         wording: str) -> None:
    text = rule_text(category, STRICTER)
    assert wording in text and "三分之二" not in text and "四分之三" not in text


def test_the_ballot_detail_states_each_matters_rule_from_the_frozen_thresholds(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    r = client.put(world.url("/voting/settings"), headers=world.committee,
                   json={"thresholds": {"quorum": ">=3/4", "special_majority": ">4/5"}})
    assert r.status_code == 200, r.text
    body = ballot_body(START)
    body["matters"] += [{"title": "问卷", "category": "survey"}]
    r = client.post(world.url("/ballots"), json=body, headers=world.committee)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={},
                       headers=world.committee).status_code == 200
    # The compound returns to the statute after the notice: the ballot keeps the rules it published.
    r = client.put(world.url("/voting/settings"), headers=world.committee,
                   json={"thresholds": {"quorum": None, "special_majority": None}})
    assert r.status_code == 200, r.text
    detail = client.get(world.url(f"/ballots/{bid}"), headers=world.committee).json()
    texts = {m["category"]: m["rule_text"] for m in detail["matters"]}
    assert texts["9"] == rule_text(Category.OTHER_MAJOR_MATTER, STRICTER)
    assert "超过五分之四同意" in texts["8"] and "达到四分之三以上" in texts["8"]
    assert "（应选3名）" in texts["3"]
    assert texts["survey"] == rule_text(Category.SURVEY)
    # A new draft follows the compound's current (statutory) rules.
    r = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee)
    draft = r.json()
    assert {m["category"]: m["rule_text"] for m in draft["matters"]}["9"] == rule_text(
        Category.OTHER_MAJOR_MATTER)
