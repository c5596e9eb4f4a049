"""A compound's voting rules (议事规则): periods, proxies and stricter thresholds."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.errors import DomainError
from app.voting import rules
from app.voting.models import VotingSetting

STATUTORY_NOTICE_DAYS = 15  # 《物业管理条例》第十四条
LEVEL_KEYS = ("quorum", "simple_majority", "special_majority")


def get_settings(session: Session, *, compound_id: int) -> VotingSetting:
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
    defaults = {
        "quorum": rules.STATUTORY_QUORUM.to_text(),
        "simple_majority": rules.STATUTORY_SIMPLE_MAJORITY.to_text(),
        "special_majority": rules.STATUTORY_SPECIAL_MAJORITY.to_text(),
    }
    return {k: stored.get(k) or defaults[k] for k in LEVEL_KEYS}


def update_settings(
    session: Session, *, compound_id: int, changes: dict[str, Any], actor: Actor
) -> VotingSetting:
    """Change the compound's rules; anything laxer than the law is refused with the reason."""
    setting = session.get(VotingSetting, compound_id) or VotingSetting(compound_id=compound_id)
    before = _snapshot(setting)
    for key in ("notice_days", "min_voting_days", "max_voting_days", "objection_days",
                "proxy_limit", "publish_unit_record"):
        if key in changes and changes[key] is not None:
            setattr(setting, key, changes[key])
    if setting.notice_days < STATUTORY_NOTICE_DAYS:
        raise DomainError(
            f"会议通知须至少提前{STATUTORY_NOTICE_DAYS}日公告（《物业管理条例》第十四条），不得缩短",
            code="notice_period_below_statute", status=422,
        )
    if setting.min_voting_days < 1 or setting.max_voting_days < setting.min_voting_days:
        raise DomainError("表决期限设置不正确：最短天数须≥1且不大于最长天数",
                          code="voting_period_invalid", status=422)
    if setting.objection_days < 1 or setting.proxy_limit < 1:
        raise DomainError("询异期和每位受托人可接受的委托数须至少为1",
                          code="settings_invalid", status=422)
    if "thresholds" in changes and changes["thresholds"] is not None:
        levels = {k: v for k, v in changes["thresholds"].items() if k in LEVEL_KEYS and v}
        try:
            rule_settings(json.dumps(levels))
        except rules.VotingRuleError as exc:
            raise DomainError(str(exc), code=exc.code, status=422) from exc
        setting.thresholds_json = json.dumps(levels, sort_keys=True) if levels else None
    session.add(setting)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="voting.settings_changed",
        object_type="voting_setting", object_id=compound_id,
        payload={"before": before, "after": _snapshot(setting)},
    )
    return setting


def _snapshot(setting: VotingSetting) -> dict[str, Any]:
    return {
        "notice_days": setting.notice_days,
        "min_voting_days": setting.min_voting_days,
        "max_voting_days": setting.max_voting_days,
        "objection_days": setting.objection_days,
        "proxy_limit": setting.proxy_limit,
        "publish_unit_record": setting.publish_unit_record,
        "thresholds": thresholds_levels(setting),
    }


def frozen_settings_json(setting: VotingSetting) -> str:
    """The rules a ballot is decided by, fixed when it opens."""
    return json.dumps(_snapshot(setting), sort_keys=True, ensure_ascii=False)
