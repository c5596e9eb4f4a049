"""Command line: `python -m app.notify deliver [--loop]`.

`deliver` sends what is due in one pass (for a systemd timer or cron, e.g. every minute when
the server processes run with GONGJUE_NOTIFY_WORKER=false); `--loop` keeps polling.
"""

from __future__ import annotations

import argparse
import sys
import time

from app.config import get_settings
from app.models import load_all_models
from app.notify import service


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
    deliver = sub.add_parser("deliver", help="send the outbox's due messages (one pass)")
    deliver.add_argument("--loop", action="store_true", help="keep polling")
    deliver.add_argument("--interval", type=float, default=None, help="seconds between passes")
    deliver.set_defaults(func=_deliver)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
