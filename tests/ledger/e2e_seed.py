"""Browser-test seed while the migrations lag behind the models: missing tables, then the demo.

The e2e harness runs `alembic upgrade head` and then this script (frontend/e2e/ledger.test.mjs
selects it only when no migration creates the ledger tables yet). create_all adds only the
tables the migrations did not create; with migrations up to date it changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlmodel import SQLModel

from app.db import get_engine
from app.demo import main
from app.models import load_all_models

if __name__ == "__main__":
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    main()
