"""notices/service.py split along its jobs (issue 12): the lifecycle below, the records above it."""

from __future__ import annotations

import ast
from pathlib import Path

NOTICES = Path(__file__).resolve().parents[2] / "app" / "notices"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_each_job_has_its_module_and_dependencies_point_one_way() -> None:
    jobs = {"postings": "record_posting", "delivery": "record_paper_delivery", "printing": "notice_pdf"}
    lifecycle = _imports(NOTICES / "service.py")
    for module, function in jobs.items():
        assert f"def {function}(" in (NOTICES / f"{module}.py").read_text(encoding="utf-8")
        assert f"app.notices.{module}" not in lifecycle  # the lifecycle knows nothing of them
        assert "app.notices.service" in _imports(NOTICES / f"{module}.py")
    for path in NOTICES.glob("*.py"):
        assert not any(m.startswith("app.roster.models") for m in _imports(path)), path
        assert len(path.read_text(encoding="utf-8").splitlines()) < 700, path
