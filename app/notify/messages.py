"""Every message Gongjue sends is a provider template with named parameters, never free text.

SMS providers in China accept only pre-approved templates: the compound's IT volunteer registers
one template per kind below (the wording in `TEMPLATE_TEXT` is what to submit for approval) and
puts the codes the provider assigns into the settings.
"""

from __future__ import annotations

from typing import Literal, get_args

MessageKind = Literal[
    "login_code", "ballot_opened", "ballot_reminder", "result_published", "notice_published",
]
MESSAGE_KINDS: tuple[MessageKind, ...] = get_args(MessageKind)

# The named parameters each template takes, in the order positional providers (Tencent) expect.
TEMPLATE_PARAMS: dict[MessageKind, tuple[str, ...]] = {
    "login_code": ("code",),
    "ballot_opened": ("compound", "title", "end"),
    "ballot_reminder": ("compound", "title", "end"),
    "result_published": ("compound", "title"),
    "notice_published": ("compound", "title"),
}

# The wording to register with the provider (the sign name, e.g. 【共决】, is added by the provider).
TEMPLATE_TEXT: dict[MessageKind, str] = {
    "login_code": "您的登录验证码为${code}，5分钟内有效。如非本人操作请忽略。",
    "ballot_opened": "${compound}业主表决“${title}”已开始，截止${end}，请登录共决投票。",
    "ballot_reminder": "${compound}业主表决“${title}”将于${end}截止，您尚未投票，请登录共决投票。",
    "result_published": "${compound}业主表决“${title}”结果已公告，请登录共决查看。",
    "notice_published": "${compound}发布公告“${title}”，请登录共决查看。",
}


def render(kind: MessageKind, params: dict[str, str]) -> str:
    """The text a reader would see (console provider, in-app list, previews)."""
    text = TEMPLATE_TEXT[kind]
    for name in TEMPLATE_PARAMS[kind]:
        text = text.replace("${" + name + "}", params[name])
    return text


def check_params(kind: MessageKind, params: dict[str, str]) -> None:
    expected = set(TEMPLATE_PARAMS[kind])
    if set(params) != expected:
        raise ValueError(f"template {kind} takes {sorted(expected)}, got {sorted(params)}")


KIND_LABELS: dict[str, str] = {
    "login_code": "登录验证码",
    "ballot_opened": "表决开始",
    "ballot_reminder": "投票提醒",
    "result_published": "结果公告",
    "notice_published": "公告发布",
}
