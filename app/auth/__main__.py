"""Maintenance: `python -m app.auth purge` deletes expired codes, rate-limit rows and denylist
entries (run daily from cron; nothing depends on it for correctness)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.auth")
    parser.add_argument("command", choices=["purge"])
    parser.parse_args(argv)
    from app.auth.service import purge_expired
    from app.db import transaction

    with transaction() as session:
        purge_expired(session)
    print("purged expired one-time codes, rate-limit rows and revoked tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
