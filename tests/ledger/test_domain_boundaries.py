"""Ledger and procedures read voting, the audit trail, files and accounts through those domains'
service functions only (their enums and labels may be imported; their tables may not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
FOREIGN_TABLES = ("app.voting.models", "app.audit.models", "app.files.models",
                  "app.auth.models.UserAccount", "app.auth.models.RoleGrant")


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("domain", ["ledger", "procedures"])
def test_no_table_reads_across_domains(domain: str) -> None:
    offenders = sorted(
        f"{path.name}: {module}"
        for path in (APP / domain).glob("*.py")
        for module in _imported_modules(path)
        if module in FOREIGN_TABLES
    )
    assert offenders == []
