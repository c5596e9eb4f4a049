"""deploy/gongjue.env.example names every setting, in Chinese, and is a valid production file
once the two secrets are filled in (left empty, the service refuses to start)."""

from __future__ import annotations

import os
import re

import pytest
from pydantic import ValidationError

from app.config import Settings
from tests.deploy.units import DEPLOY

EXAMPLE = DEPLOY / "gongjue.env.example"
LINE = re.compile(r"#?\s*(GONGJUE_[A-Z0-9_]+)=(.*)")
# Read by the systemd unit (uvicorn --workers), not by the app.
NOT_SETTINGS = {"GONGJUE_WORKERS"}


def entries() -> dict[str, tuple[str, bool]]:
    """name -> (value, commented out)."""
    found = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = LINE.fullmatch(line.strip())
        if match:
            found[match.group(1)] = (match.group(2), line.lstrip().startswith("#"))
    return found


def test_every_setting_is_in_the_example_with_a_chinese_comment() -> None:
    names = {f"GONGJUE_{name.upper()}" for name in Settings.model_fields}
    listed = set(entries())
    assert names - listed == set(), "settings missing from deploy/gongjue.env.example"
    assert listed - names == NOT_SETTINGS, "unknown names in deploy/gongjue.env.example"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("GONGJUE_"):
            comment = lines[i - 1] if not lines[i - 1].startswith("GONGJUE_") else ""
            j = i
            while not comment and j > 0:  # a group of settings shares the comment above it
                j -= 1
                comment = lines[j] if lines[j].startswith("#") else ""
            assert re.search(r"[\u4e00-\u9fff]", comment), line


def test_the_example_is_production_once_the_secrets_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("GONGJUE_"):
            monkeypatch.delenv(name)
    values = {name: value for name, (value, commented) in entries().items() if not commented}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("GONGJUE_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("GONGJUE_ID_HASH_KEY", "h" * 48)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.env == "production" and settings.cookie_secure
    assert settings.public_base_url.startswith("https://")
    assert not settings.api_docs_enabled and not settings.demo_data
    assert settings.database_url.startswith("postgresql://")
