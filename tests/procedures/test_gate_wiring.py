"""The review gate is wired explicitly by create_app, never by importing the procedures package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from app.models import load_all_models
import app.procedures, app.procedures.gate
from app.voting.service import OPEN_GUARDS
load_all_models()
print("after-import", len(OPEN_GUARDS))
from app.main import create_app
create_app()
create_app()
from app.procedures.gate import ballot_gate
print("after-create-app", OPEN_GUARDS == [ballot_gate])
"""


def test_importing_procedures_registers_nothing_and_create_app_registers_the_gate_once() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=120, check=True).stdout.split("\n")
    assert "after-import 0" in out
    assert "after-create-app True" in out


def test_voting_imports_nothing_of_procedures() -> None:
    for path in (ROOT / "app" / "voting").glob("*.py"):
        assert "app.procedures" not in path.read_text(encoding="utf-8"), path.name
