"""Operator commands for messages.

`python -m app.notify send-test --phone 13800000001 --kind login_code` sends one sample message
through the configured SMS provider (GONGJUE_SMS_PROVIDER) and prints the provider's answer in
Chinese: the IT volunteer's check that the credentials, the sign name and the templates work.

`python -m app.notify deliver [--loop]` sends what is due in one pass (for a systemd timer or
cron, e.g. every minute when the server processes run with GONGJUE_NOTIFY_WORKER=false);
`--loop` keeps polling.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

from pydantic import ValidationError

from app.config import get_settings
from app.models import load_all_models
from app.notify import service
from app.notify.messages import MESSAGE_KINDS, TEMPLATE_PARAMS, MessageKind

OUTCOMES = {"sent": "已发送", "retry": "暂时失败（可稍后重试）", "failed": "失败"}
SAMPLE = {"compound": "测试小区", "title": "短信测试", "end": "12月31日 18:00"}


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


def _deliver(args: argparse.Namespace) -> int:
    load_all_models()
    if service.ready_provider() is None:
        print("短信服务尚未配置（生产环境不能使用 console/memory），未发送任何消息", file=sys.stderr)
        return 2
    while True:
        report = service.deliver_due()
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(report.by_status.items())) or "none"
        print(f"outbox: {report.claimed} claimed ({statuses})", flush=True)
        if not args.loop:
            return 0
        time.sleep(args.interval or get_settings().notify_poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.notify", description="共决 消息发送")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("send-test", help="send one sample SMS through the provider")
    test.add_argument("--phone", required=True)
    test.add_argument("--kind", choices=MESSAGE_KINDS, default="login_code")
    test.set_defaults(func=lambda args: send_test(args.phone, args.kind))
    deliver = sub.add_parser("deliver", help="send the outbox's due messages (one pass)")
    deliver.add_argument("--loop", action="store_true", help="keep polling")
    deliver.add_argument("--interval", type=float, default=None, help="seconds between passes")
    deliver.set_defaults(func=_deliver)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
