"""Run the server with its clock moved forward, for browser tests that need time to pass.

    python -m tests.fakes.shifted_clock --offset-seconds 1296000 --port 8000

The app reads the time only through app.clock, so a ballot's voting start, notice periods and
expiries behave as if `offset` seconds had passed; the clock still runs.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import uvicorn

from app import clock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.shifted_clock")
    parser.add_argument("--offset-seconds", type=float, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    offset = timedelta(seconds=args.offset_seconds)
    clock.set_now(lambda: datetime.now(UTC) + offset)
    uvicorn.run("app.main:create_app", factory=True, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
