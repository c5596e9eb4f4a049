"""Operator commands for messages.

`python -m app.notify send-test --phone 13800000001 --kind login_code` sends one sample message
through the configured SMS provider (GONGJUE_SMS_PROVIDER) and prints the provider's answer in
Chinese: the IT volunteer's check that the credentials, the sign name and the templates work.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from pydantic import ValidationError

from app.notify.messages import MESSAGE_KINDS, TEMPLATE_PARAMS, MessageKind

OUTCOMES = {"sent": "已发送", "retry": "暂时失败（可稍后重试）", "failed": "失败"}
SAMPLE = {"compound": "测试小区", "title": "短信测试", "end": "12月31日18:00"}


def sample_params(kind: MessageKind) -> dict[str, str]:
    # A code nobody can log in with (none is stored): only its arrival matters.
    return {name: f"{secrets.randbelow(10**6):06d}" if name == "code" else SAMPLE[name]
            for name in TEMPLATE_PARAMS[kind]}


def hint(provider: str, code: str | None) -> str:
    if provider == "aliyun":
        from app.notify.providers.aliyun import HINTS
    elif provider == "tencent":
        from app.notify.providers.tencent import HINTS
    else:
        return ""
    return HINTS.get(code or "", "")


def send_test(phone: str, kind: MessageKind) -> int:
    from app.config import get_settings
    from app.notify.providers import Outgoing, make_provider
    from app.privacy import mask_phone, normalize_phone

    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        print(f"配置有误，无法发送：{problems}", file=sys.stderr)
        return 2
    number = normalize_phone(phone)
    if number is None:
        print("手机号码格式不正确：请输入11位中国大陆手机号", file=sys.stderr)
        return 2
    provider = make_provider(settings.sms_provider, settings)
    print(f"短信服务商：{provider.name}；类型：{kind}；"
          f"模板：{settings.sms_template(kind) or '（无）'}；发往 {mask_phone(number)}")
    if provider.name in ("console", "memory"):
        print("注意：当前为开发模式，短信只打印在日志中，不会真实发送（请设置 GONGJUE_SMS_PROVIDER）")
    result = provider.send(Outgoing(number, kind, sample_params(kind)))
    print(f"结果：{OUTCOMES[result.outcome]}")
    print(f"应答代码：{result.code or '（无）'}")
    explained = hint(provider.name, result.code)
    if explained:
        print(f"说明：{explained}")
    if result.detail:
        print(f"服务商消息：{result.detail}")
    if result.message_id:
        print(f"回执编号：{result.message_id}")
    return 0 if result.outcome == "sent" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.notify")
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("send-test", help="send one sample SMS through the provider")
    test.add_argument("--phone", required=True)
    test.add_argument("--kind", choices=MESSAGE_KINDS, default="login_code")
    args = parser.parse_args(argv)
    if args.command == "send-test":
        return send_test(args.phone, args.kind)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
