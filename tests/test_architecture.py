"""The dependency rules of docs/ARCHITECTURE.md, checked by reading app/'s imports with `ast`.

- No import cycles between app modules (imports inside functions count: they still tie the
  modules together; a submodule importing its own package is not a cycle).
- Floors: the ground floor (roster, auth, audit, files, notify) imports no domain above it; notices
  imports only the ground floor; voting imports notices and the ground floor; ledger and
  procedures sit on top and do not import each other.
- No domain reads another domain's tables: importing a `table=True` model (or the models
  module itself) from another domain's `models.py` is refused; enums and constants there are
  vocabulary, not tables, and may be shared.
- app/ never imports bench/.

The renovation (issue 12) is merged slice by slice, so the cycles and table reads still present
on this branch are listed below. Each list fails when an entry is gone (delete it) as well as when
a new one appears: the lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from app.errors import DomainError
from app.models import load_all_models

APP = Path(__file__).resolve().parent.parent / "app"
GROUND = {"roster", "auth", "audit", "files", "notify"}
# What each domain may import besides itself (its floor and the floors below).
MAY_IMPORT = {
    "roster": GROUND, "auth": GROUND, "audit": GROUND, "files": GROUND, "notify": GROUND,
    "ops": GROUND,
    "notices": GROUND,
    "voting": GROUND | {"notices"},
    "ledger": GROUND | {"notices", "voting"},
    "procedures": GROUND | {"notices", "voting"},
    "surveys": GROUND | {"notices"},
    "workorders": GROUND,  # 三单一访: stands on the ground floor only
    "appraisals": GROUND | {"notices", "surveys"},  # reads the year's satisfaction rate
    # 属地监管: read-only, above every domain; only credit imports it (who supervises what).
    "supervision": GROUND | {"notices", "voting", "ledger", "procedures", "surveys", "workorders",
                             "appraisals"},
    # 信用评价与红黑榜: reads the oversight domains' figures, proposes a dismissal through
    # procedures; on top of everything, imported by nothing.
    "credit": GROUND | {"notices", "voting", "ledger", "procedures", "surveys", "workorders", "appraisals",
                        "supervision"},
}

# Exceptions to the rules below: none. A new cycle or table read fails; so does a listed one that
# is gone (the lists only ever shrink).
KNOWN_CYCLES: set[frozenset[str]] = set()
KNOWN_TABLE_READS: set[tuple[str, str]] = set()  # (importing module, "domain.Table")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(APP.rglob("*.py"))}


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (APP / parts[1]).is_dir() else None


def _imports(module: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(imported module, names imported from it) for every import statement of `module`."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(a.name for a in node.names)
            yield target, names
            for name in names:  # `from app.x import service` imports the module app.x.service
                if f"{target}.{name}" in _modules():
                    yield f"{target}.{name}", ()


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module in modules:
        ancestors = {module.rsplit(".", i)[0] for i in range(1, module.count(".") + 1)}
        graph[module] = {t for t, _ in _imports(module)
                         if t in modules and t != module and t not in ancestors}
    return graph


def _cycles() -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@cache
def _tables(models_module: str) -> frozenset[str]:
    tree = ast.parse(_modules()[models_module].read_text(encoding="utf-8"))
    return frozenset(
        node.name for node in tree.body if isinstance(node, ast.ClassDef)
        and any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords)
    )


@cache
def _used_outside_annotations(module: str) -> frozenset[str]:
    """Names the module uses in code; a table class named only in type annotations (the type of
    what another domain's service returns) is not a read of that table."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    in_annotations: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
        for annotation in annotations:
            in_annotations.update(id(n) for n in ast.walk(annotation))
    return frozenset(n.id for n in ast.walk(tree)
                     if isinstance(n, ast.Name) and id(n) not in in_annotations)


def _table_reads() -> set[tuple[str, str]]:
    reads = set()
    for module in _modules():
        mine = _domain(module)
        if mine is None:
            continue  # app-level plumbing (app/models.py, app/deps.py, app/demo.py ...)
        used = _used_outside_annotations(module)
        for target, names in _imports(module):
            other = _domain(target)
            if other is None or other == mine or not target.endswith(".models"):
                continue
            tables = _tables(target)
            picked = [n for n in names if n in tables and n in used] if names else sorted(tables)
            reads.update((module, f"{other}.{name}") for name in picked)
    return reads


def test_the_walk_sees_the_whole_app() -> None:
    assert {"app.main", "app.voting.results", "app.roster.service"} <= set(_modules())
    assert "app.roster.service" in _graph()["app.voting.service"]
    assert "Ballot" in _tables("app.voting.models") and "Role" not in _tables("app.auth.models")


def test_no_import_cycles() -> None:
    cycles = _cycles()
    assert cycles - KNOWN_CYCLES == set(), "new import cycles"
    assert KNOWN_CYCLES - cycles == set(), "stale: these cycles are gone; delete them"


def test_floors_point_one_way() -> None:
    upward = sorted(
        (module, target) for module, targets in _graph().items() for target in targets
        if (mine := _domain(module)) and (other := _domain(target)) and other != mine
        and other not in MAY_IMPORT[mine]
    )
    assert upward == []


def test_no_domain_reads_another_domains_tables() -> None:
    reads = _table_reads()
    assert reads - KNOWN_TABLE_READS == set(), "new reads of another domain's tables"
    assert KNOWN_TABLE_READS - reads == set(), "stale: these reads are gone; delete them"


def test_every_domain_has_a_floor() -> None:
    domains = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert domains == set(MAY_IMPORT)


def test_app_never_imports_bench() -> None:
    offenders = [(m, t) for m in _modules() for t, _ in _imports(m)
                 if t == "bench" or t.startswith("bench.")]
    assert offenders == []


def test_the_bench_mounts_its_routes_through_its_own_factory(client) -> None:  # type: ignore[no-untyped-def]
    """bench/ceiling.py wraps app.main.create_app; the deployment's app has no bench routes."""
    from fastapi.testclient import TestClient

    from bench.ceiling import create_app as bench_app

    assert client.get("/api/v1/bench/ceiling").json()["error"] == "not_found"
    with TestClient(bench_app()) as bench:
        # Reached before the front end's catch-all: authenticated like every route.
        assert bench.get("/api/v1/bench/ceiling").status_code == 401
        assert bench.get("/api/v1/auth/me").status_code == 401


def test_one_error_vocabulary() -> None:
    """Services raise a named error class (app/errors.py) or a domain's subclass of one: no call
    builds a bare DomainError or writes a status of its own. (A status read from elsewhere, the
    shared spreadsheet reader's 413/415/422 for a file it cannot read, passes through.)"""
    load_all_models()
    import app.main  # noqa: F401  (every domain's errors are defined once its modules are imported)

    errors, todo = set(), [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            errors.add(sub.__name__)
            todo.append(sub)
    offenders = []
    for module, path in _modules().items():
        if module == "app.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "DomainError" or (name in errors and any(
                    k.arg == "status" and isinstance(k.value, ast.Constant) for k in node.keywords)):
                offenders.append(f"{module}:{node.lineno} {name}")
    assert offenders == []
