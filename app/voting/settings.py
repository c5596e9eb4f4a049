"""A compound's voting rules (议事规则): periods, proxies and stricter thresholds.

A ballot is decided by the rules in force when its meeting notice was published: they are frozen
into Ballot.settings_json at notice (ballots opened before that change froze them at opening)
and printed in the notice. A later change applies only to ballots noticed after it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.errors import Invalid
from app.voting import rules
from app.voting.models import VotingSetting

if TYPE_CHECKING:
    from app.voting.models import Ballot

STATUTORY_NOTICE_DAYS = 15  # 《物业管理条例》第十四条
LEVEL_KEYS = ("quorum", "simple_majority", "special_majority")
STATUTORY_LEVELS = {
    "quorum": rules.STATUTORY_QUORUM,
    "simple_majority": rules.STATUTORY_SIMPLE_MAJORITY,
    "special_majority": rules.STATUTORY_SPECIAL_MAJORITY,
}
PLAIN_KEYS = ("notice_days", "min_voting_days", "max_voting_days", "objection_days", "proxy_limit",
              "publish_unit_record")


def get_settings(session: Session, *, compound_id: int) -> VotingSetting:
    """The compound's live rules: for drafts and for ballots noticed from now on."""
    setting = session.get(VotingSetting, compound_id)
    return setting or VotingSetting(compound_id=compound_id)


def rule_settings(thresholds_json: str | None) -> rules.RuleSettings:
    """Rebuild RuleSettings from the stored levels (statutory when empty)."""
    levels = json.loads(thresholds_json) if thresholds_json else {}
    return rules.RuleSettings.from_levels(
        **{k: rules.Threshold.from_text(v) for k, v in levels.items() if v}
    )


def thresholds_levels(setting: VotingSetting) -> dict[str, str]:
    stored = json.loads(setting.thresholds_json) if setting.thresholds_json else {}
    return {k: stored.get(k) or STATUTORY_LEVELS[k].to_text() for k in LEVEL_KEYS}


@dataclass(frozen=True)
class BallotRules:
    """The rules one ballot is decided by (a frozen copy, or the live ones for a draft)."""

    notice_days: int = 15
    min_voting_days: int = 5
    max_voting_days: int = 60
    objection_days: int = 3
    proxy_limit: int = 3
    publish_unit_record: bool = False
    thresholds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_setting(cls, setting: VotingSetting) -> BallotRules:
        return cls(**{k: getattr(setting, k) for k in PLAIN_KEYS},
                   thresholds=thresholds_levels(setting))

    @classmethod
    def from_json(cls, text: str) -> BallotRules:
        data = json.loads(text)
        defaults = cls()
        levels = data.get("thresholds") or {}
        return cls(**{k: data.get(k, getattr(defaults, k)) for k in PLAIN_KEYS},
                   thresholds={k: levels.get(k) or STATUTORY_LEVELS[k].to_text() for k in LEVEL_KEYS})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    def threshold(self, level: str) -> rules.Threshold:
        return rules.Threshold.from_text(self.thresholds.get(level) or STATUTORY_LEVELS[level].to_text())

    def rule_settings(self) -> rules.RuleSettings:
        """The Art. 278 thresholds per category these rules decide by."""
        return rules.RuleSettings.from_levels(**{k: self.threshold(k) for k in LEVEL_KEYS})

    def notice_rows(self, categories: list[rules.Category]) -> list[list[str]]:
        """The rules as printed in the meeting notice: [rule, value] rows, for these matters."""
        rows: list[list[str]] = []
        art278 = [c for c in categories if c.is_art278]
        levels = []
        if art278:
            levels.append("quorum")
        if any(not c.needs_special_majority for c in art278):
            levels.append("simple_majority")
        if any(c.needs_special_majority for c in art278):
            levels.append("special_majority")
        for level in levels:
            bound = self.threshold(level)
            stricter = bound != STATUTORY_LEVELS[level]
            rows.append([rules.LEVEL_NAMES_ZH[level],
                         f"{bound.describe_zh()}（{bound}）"
                         + ("，本小区议事规则严于法定比例" if stricter else "，法定比例")])
        if any(c == rules.Category.ART279 for c in categories):
            rows.append(["改变住宅用途（第二百七十九条）", "须经有利害关系的业主一致同意"])
        rows.append(["受托人可接受的委托", f"每位受托人最多{self.proxy_limit}户"])
        rows.append(["询异期", f"计票后{self.objection_days}日"])
        rows.append(["分户表决记录", "决议公告后向本小区业主公开（楼栋房号及表决意见，不含姓名）"
                     if self.publish_unit_record else "不公开"])
        return rows


def ballot_rules(session: Session, *, ballot: Ballot) -> BallotRules:
    """The rules this ballot is decided by: frozen at its notice; a draft follows the live ones."""
    if ballot.settings_json:
        return BallotRules.from_json(ballot.settings_json)
    return BallotRules.of_setting(get_settings(session, compound_id=ballot.compound_id))


def update_settings(
    session: Session, *, compound_id: int, changes: dict[str, Any], actor: Actor
) -> VotingSetting:
    """Change the compound's rules; anything laxer than the law is refused with the reason.

    Fields left out keep their value; a threshold given replaces that level only (null returns
    it to the statute). Ballots already noticed keep the rules their notice published.
    """
    setting = session.get(VotingSetting, compound_id) or VotingSetting(compound_id=compound_id)
    before = _snapshot(setting)
    for key in PLAIN_KEYS:
        if key in changes and changes[key] is not None:
            setattr(setting, key, changes[key])
    if setting.notice_days < STATUTORY_NOTICE_DAYS:
        raise Invalid(
            f"会议通知须至少提前{STATUTORY_NOTICE_DAYS}日公告（《物业管理条例》第十四条），不得缩短",
            code="notice_period_below_statute",
        )
    if setting.min_voting_days < 1 or setting.max_voting_days < setting.min_voting_days:
        raise Invalid("表决期限设置不正确：最短天数须≥1且不大于最长天数",
                          code="voting_period_invalid")
    if setting.objection_days < 1 or setting.proxy_limit < 1:
        raise Invalid("询异期和每位受托人可接受的委托数须至少为1",
                          code="settings_invalid")
    if changes.get("thresholds") is not None:
        levels = json.loads(setting.thresholds_json) if setting.thresholds_json else {}
        for key, value in changes["thresholds"].items():
            if key not in LEVEL_KEYS:
                continue
            if value:
                levels[key] = value
            else:
                levels.pop(key, None)
        try:
            parsed = {k: rules.Threshold.from_text(v) for k, v in levels.items()}
            rules.RuleSettings.from_levels(**parsed)
        except rules.VotingRuleError as exc:
            raise Invalid(str(exc), code=exc.code) from exc
        # Stored in canonical form; a level equal to the statute is not an override.
        stored = {k: t.to_text() for k, t in parsed.items() if t != STATUTORY_LEVELS[k]}
        setting.thresholds_json = json.dumps(stored, sort_keys=True) if stored else None
    session.add(setting)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="voting.settings_changed",
        object_type="voting_setting", object_id=compound_id,
        payload={"before": before, "after": _snapshot(setting)},
    )
    return setting


def _snapshot(setting: VotingSetting) -> dict[str, Any]:
    return asdict(BallotRules.of_setting(setting))


def frozen_settings_json(setting: VotingSetting) -> str:
    """The rules a ballot is decided by, fixed when its meeting notice is published."""
    return BallotRules.of_setting(setting).to_json()
