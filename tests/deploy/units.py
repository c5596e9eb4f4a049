"""Reading deploy/systemd: the unit files as systemd would see them, and their commands."""

from __future__ import annotations

import configparser
import shlex
import sys
from pathlib import Path

from app.config import ROOT_DIR

DEPLOY = ROOT_DIR / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_PYTHON = "/opt/gongjue/.venv/bin/python"


def read_unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read(path, encoding="utf-8")
    return unit


def exec_start(path: Path, **substitute: str) -> list[str]:
    """The unit's ExecStart as an argument list, run with this interpreter from the worktree
    (systemd's ${NAME} replaced from `substitute`)."""
    command = read_unit(path)["Service"]["ExecStart"]
    for name, value in substitute.items():
        command = command.replace("${" + name + "}", value)
    argv = shlex.split(command)
    assert argv[0] == INSTALLED_PYTHON, argv
    return [sys.executable, *argv[1:]]
