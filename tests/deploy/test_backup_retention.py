"""Backups into a folder named by date, and retention: N daily and M weekly backups are kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import FrozenClock
from app.ops.__main__ import main as ops_cli
from app.ops.backup import FORMAT, OpsError, prune, read_manifest
from tests.factories import make_compound

# 2026-03-02 is a Monday; 02:00 UTC is 10:00 in Shanghai.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def fake_backup(into: Path, name: str, created: datetime) -> Path:
    """A directory with only a manifest: all that retention reads."""
    path = into / name
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"format": FORMAT,
                                                    "created_at": created.isoformat()}))
    return path


def test_keeps_the_newest_of_each_recent_day_and_week(tmp_path: Path) -> None:
    # Two backups a day for 30 days (Mon 2 March .. Tue 31 March, Shanghai).
    for day in range(30):
        for hour in (0, 12):
            created = START + timedelta(days=day, hours=hour)
            fake_backup(tmp_path, created.strftime("b-%m%d-%H"), created)
    (tmp_path / "notes").mkdir()  # not a backup: never touched
    (tmp_path / "b-broken").mkdir()  # no manifest: never touched

    result = prune(tmp_path, keep_daily=3, keep_weekly=3)

    # Daily: the evening backups (22:00 Shanghai) of 31, 30 and 29 March. Weekly: the newest of
    # the last 3 ISO weeks: 31 March (this week), 29 March (Sunday) and 22 March (Sunday).
    assert result["kept"] == ["b-0322-14", "b-0329-14", "b-0330-14", "b-0331-14"]
    assert len(result["deleted"]) == 60 - 4
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*result["kept"], "notes", "b-broken"])


def test_days_and_weeks_are_counted_in_shanghai_time(tmp_path: Path) -> None:
    # 23:30 UTC on Sunday 8 March is 07:30 on Monday 9 March in Shanghai: a new day and week;
    # 15:30 UTC the same Sunday is 23:30 Sunday in Shanghai, 12:00 UTC is 20:00 Sunday.
    fake_backup(tmp_path, "monday", datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    fake_backup(tmp_path, "sunday-late", datetime(2026, 3, 8, 15, 30, tzinfo=UTC))
    fake_backup(tmp_path, "sunday-early", datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert prune(tmp_path, keep_daily=2, keep_weekly=0, dry_run=True) == {
        "kept": ["monday", "sunday-late"], "deleted": ["sunday-early"]}
    assert prune(tmp_path, keep_daily=1, keep_weekly=2) == {
        "kept": ["monday", "sunday-late"], "deleted": ["sunday-early"]}


def test_dry_run_deletes_nothing_and_the_newest_is_always_kept(tmp_path: Path) -> None:
    for day in range(5):
        fake_backup(tmp_path, f"b{day}", START + timedelta(days=day))
    assert prune(tmp_path, keep_daily=1, keep_weekly=0, dry_run=True) == {
        "kept": ["b4"], "deleted": ["b0", "b1", "b2", "b3"]}
    assert len(list(tmp_path.iterdir())) == 5
    with pytest.raises(OpsError):
        prune(tmp_path, keep_daily=0, keep_weekly=8)


def test_backup_into_a_folder_with_retention(
    engine: Engine, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    frozen_clock: FrozenClock, capsys: pytest.CaptureFixture[str],
) -> None:
    """The timer's command, run on four days: real backups, named by their time, two kept."""
    make_compound(db)
    db.commit()
    into = tmp_path / "backups"
    args = ["backup", "--into", str(into), "--keep-daily", "2", "--keep-weekly", "0"]
    for _ in range(4):
        assert ops_cli(args) == 0
        frozen_clock.advance(days=1)
    names = sorted(p.name for p in into.iterdir())
    assert names == ["gongjue-20260304-100000", "gongjue-20260305-100000"]
    manifest = read_manifest(into / names[-1])
    assert manifest["created_at"].startswith("2026-03-05T02:00")
    assert manifest["compounds"] and manifest["database"]["sha256"]
    assert "已删除 1 个" in capsys.readouterr().out

    # Two backups in the same second do not collide.
    assert ops_cli(["backup", "--into", str(into)]) == 0
    assert ops_cli(["backup", "--into", str(into)]) == 0
    assert "gongjue-20260306-100000-2" in {p.name for p in into.iterdir()}


def test_retention_needs_a_folder_of_backups(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ops_cli(["backup", str(tmp_path / "one"), "--keep-daily", "3"]) == 2
    assert "--into" in capsys.readouterr().err
    assert not (tmp_path / "one").exists()
