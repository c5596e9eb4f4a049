"""Reproducible installs: every third-party package app/ imports is declared in pyproject.toml,
every declared one is used, and constraints.txt pins a set that meets every floor."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from app.config import ROOT_DIR

PYPROJECT = tomllib.loads((ROOT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = ROOT_DIR / "constraints.txt"
# Declared, used, but never named in an import statement of app/.
USED_WITHOUT_IMPORT = {
    "alembic": "migrations/ and `alembic upgrade head`",
    "argon2-cffi": "libpass's argon2 password hashes (app/auth/passwords.py)",
    "bcrypt": "libpass's bcrypt backend for hashes of older accounts",
    "python-multipart": "FastAPI's form and upload parsing",
    "httpx": "fastapi.testclient and the SMS providers' HTTP calls",
    "paperang-p2-fonts-cjk": "the PDF font file, found by importlib.util.find_spec",
}


def declared(extra: str | None = None) -> dict[str, Requirement]:
    lines = (PYPROJECT["project"]["optional-dependencies"][extra] if extra
             else PYPROJECT["project"]["dependencies"])
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def imported_top_levels() -> set[str]:
    names = set()
    for path in (ROOT_DIR / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "app"}


def test_every_imported_package_is_declared_and_every_declared_one_used() -> None:
    owners = importlib.metadata.packages_distributions()
    imported = {}
    for module in imported_top_levels():
        assert module in owners, f"{module} is imported by app/ but not installed"
        for dist in owners[module]:
            imported[canonicalize_name(dist)] = module
    runtime = declared()
    missing = {dist: module for dist, module in imported.items() if dist not in runtime}
    assert missing == {}, "imported by app/ but not in pyproject's dependencies"
    unused = set(runtime) - set(imported)
    assert unused == {canonicalize_name(d) for d in USED_WITHOUT_IMPORT}


def pins() -> dict[str, Version]:
    found = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line.strip())
        if match:
            found[canonicalize_name(match.group(1))] = Version(match.group(2))
        else:
            assert line.startswith("#") or not line.strip(), f"not a pin: {line!r}"
    return found


def test_constraints_pin_every_declared_package_within_its_floor() -> None:
    pinned = pins()
    for extra in (None, "dev", "bench"):
        for name, requirement in declared(extra).items():
            assert name in pinned, f"{name} is not pinned in constraints.txt (run scripts/lock.sh)"
            assert requirement.specifier.contains(pinned[name], prereleases=True), (
                f"constraints.txt pins {name}=={pinned[name]}, outside {requirement}")


def test_the_installed_set_is_the_pinned_one() -> None:
    """This venv was installed by scripts/setup.sh with -c constraints.txt."""
    pinned = pins()
    runtime = declared()
    for name in runtime:
        assert Version(importlib.metadata.version(name)) == pinned[name], name


def test_setup_installs_with_the_constraints() -> None:
    setup = (ROOT_DIR / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in setup
    lock = (ROOT_DIR / "scripts" / "lock.sh").read_text(encoding="utf-8")
    assert "pip freeze" in lock and "constraints.txt" in lock
