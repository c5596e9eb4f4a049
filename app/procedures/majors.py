"""Which matters are major (重大事项): the DOMAIN §5 defaults, a compound's additions, matching.

A matter type is major by its Art. 278 category, or by keywords in a ballot matter's title or
description. The committee also names the type when it proposes an agenda item. Pure functions.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas import InputModel

# Surveys decide nothing and Art. 279 needs every affected owner anyway: never gated.
UNGATED_CATEGORIES = frozenset({"survey", "art279"})
OTHER = "other"
OTHER_LABEL = "其他事项（非重大事项）"


class MajorMatter(InputModel):
    """One kind of major matter: matched by category, by keywords, or both."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    label: str = Field(min_length=1, max_length=60)
    categories: list[str] = Field(default_factory=list, max_length=9)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    basis: str = Field(default="", max_length=200)


DEFAULT_MAJOR_MATTERS: tuple[MajorMatter, ...] = tuple(
    MajorMatter.model_validate(m) for m in (
        {"key": "committee_election", "label": "选举业主委员会或者更换业主委员会成员",
         "categories": ["3"], "keywords": ["选举业主委员会", "业委会换届", "更换业主委员会"],
         "basis": "民法典第二百七十八条（三）"},
        {"key": "property_manager", "label": "选聘和解聘物业服务企业或者其他管理人",
         "categories": ["4"], "keywords": ["选聘物业", "解聘物业", "续聘物业"],
         "basis": "民法典第二百七十八条（四）"},
        {"key": "use_fund", "label": "使用建筑物及其附属设施的维修资金",
         "categories": ["5"], "keywords": ["使用维修资金", "使用专项维修资金", "应急解危资金"],
         "basis": "民法典第二百七十八条（五）"},
        {"key": "raise_fund", "label": "筹集建筑物及其附属设施的维修资金",
         "categories": ["6"], "keywords": ["筹集维修资金", "续筹"],
         "basis": "民法典第二百七十八条（六）"},
        {"key": "reconstruction", "label": "改建、重建建筑物及其附属设施",
         "categories": ["7"], "keywords": ["改建", "重建", "加装电梯"],
         "basis": "民法典第二百七十八条（七）"},
        {"key": "common_parts", "label": "改变共有部分的用途或者利用共有部分从事经营活动",
         "categories": ["8"], "keywords": ["改变共有部分", "利用共有部分"],
         "basis": "民法典第二百七十八条（八）"},
        {"key": "owners_assembly", "label": "业主大会成立",
         "keywords": ["成立业主大会", "业主大会成立", "设立业主大会", "首次业主大会"],
         "basis": "DOMAIN §5；东丽区创建方案 三、（二）5"},
        {"key": "public_revenue", "label": "支配使用公共收益",
         "keywords": ["公共收益", "经营收益", "共用设施设备经营"],
         "basis": "DOMAIN §5；东丽区创建方案 三、（二）5"},
        {"key": "fee_adjustment", "label": "调整物业服务收费标准",
         "keywords": ["收费标准", "物业费", "物业服务费"],
         "basis": "DOMAIN §5；东丽区创建方案 三、（二）5"},
        {"key": "parking", "label": "机动车停车位分配",
         "keywords": ["停车位", "车位分配", "机动车停车"],
         "basis": "DOMAIN §5；东丽区创建方案 三、（二）5"},
        {"key": "manager_entry_exit", "label": "物业服务企业进驻或退出",
         "categories": ["4"], "keywords": ["物业服务企业进驻", "物业服务企业退出", "物业进驻",
                                           "物业退出", "撤出"],
         "basis": "DOMAIN §5；东丽区创建方案 三、（二）5"},
    )
)
DEFAULT_KEYS = frozenset(m.key for m in DEFAULT_MAJOR_MATTERS)


def effective_list(extra: list[dict[str, Any]]) -> list[MajorMatter]:
    """The defaults, which a compound cannot remove, followed by the compound's additions."""
    return list(DEFAULT_MAJOR_MATTERS) + [MajorMatter.model_validate(m) for m in extra]


def find(matters: list[MajorMatter], key: str) -> MajorMatter | None:
    return next((m for m in matters if m.key == key), None)


def match(matters: list[MajorMatter], *, category: str, text: str) -> MajorMatter | None:
    """The first major-matter type a ballot matter falls under, or None."""
    if category in UNGATED_CATEGORIES:
        return None
    for m in matters:
        if category in m.categories:
            return m
    for m in matters:
        if any(k and k in text for k in m.keywords):
            return m
    return None
