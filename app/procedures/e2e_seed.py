"""Seed for the procedures browser test (frontend/e2e/procedures.test.mjs): the demo, on a
database whose migrations may predate the procedure tables.

Run as a script by the e2e harness (GONGJUE_E2E_SEED). It creates only tables that are missing
(a no-op once the migrations include them), then seeds the demo as `python -m app.demo` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file: make `app` importable


def main() -> None:
    from sqlmodel import SQLModel

    from app.db import get_engine
    from app.demo import main as seed_demo
    from app.models import load_all_models

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    seed_demo()


if __name__ == "__main__":
    main()
