"""Operator commands for the accounts of a deployment.

`python -m app.auth create-admin --username NAME` makes a platform administrator (the first one of
a new deployment; the password is read from GONGJUE_ADMIN_PASSWORD or asked twice, never taken
on the command line); `python -m app.auth purge` deletes expired codes, rate-limit rows and
denylist entries (run daily from cron; nothing depends on it for correctness).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.errors import DomainError
from app.models import load_all_models


def _password() -> str:
    given = os.environ.get("GONGJUE_ADMIN_PASSWORD")
    if given is not None:
        return given
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise SystemExit("两次输入的密码不一致")
    return first


def create_admin(username: str, display_name: str, phone: str | None) -> int:
    from app.auth import service
    from app.db import transaction

    password = _password()
    try:
        service.validate_admin_password(password, username=username)
        with transaction() as session:
            account = service.create_staff_account(
                session, username=username, password=password, display_name=display_name,
                phone=phone, is_platform_admin=True)
            name = account.username
    except DomainError as exc:
        print(f"未创建：{exc.message}（{exc.code}）", file=sys.stderr)
        return 2
    print(f"已创建平台管理员 {name}：请用此用户名和密码在“工作人员登录”登录")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="make a platform administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", default="平台管理员")
    admin.add_argument("--phone", default=None)
    commands.add_parser("purge", help="delete expired codes, rate-limit rows and revoked tokens")
    args = parser.parse_args(argv)
    # A job run from a timer imports only its own domain; every table must be known before the
    # first flush (foreign keys to compound), as in the server.
    load_all_models()
    if args.command == "create-admin":
        return create_admin(args.username, args.display_name, args.phone)
    from app.auth.service import purge_expired
    from app.db import transaction

    with transaction() as session:
        purge_expired(session)
    print("purged expired one-time codes, rate-limit rows and revoked tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
