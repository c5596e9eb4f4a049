"""The audit package's modules import one another without a cycle (verify works without the DB layer)."""

from __future__ import annotations

import ast
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / "app" / "audit"


def _imports(path: Path) -> set[str]:
    """Every app.audit module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "app.audit":
                found.update(f"app.audit.{a.name}" for a in node.names)
            elif node.module.startswith("app.audit."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("app.audit."))
    return found


def _graph() -> dict[str, set[str]]:
    return {f"app.audit.{p.stem}": _imports(p) for p in AUDIT.glob("*.py") if p.stem != "__init__"}


def test_verify_does_not_import_the_service() -> None:
    assert "app.audit.service" not in _graph()["app.audit.verify"]


def test_no_import_cycle_inside_audit() -> None:
    graph = _graph()

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()):
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    cyclic = sorted(m for m in graph if reaches(m, m, {m}))
    assert cyclic == []


def test_checkpoint_message_is_one_function() -> None:
    from app.audit import canonical, service, verify

    assert service.checkpoint_message is canonical.checkpoint_message
    assert verify.checkpoint_message is canonical.checkpoint_message
