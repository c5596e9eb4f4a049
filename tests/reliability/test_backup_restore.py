"""Backup and restore of a deployment (`python -m app.ops`), on the test database's engine.

SQLite is copied with the online backup API and restored into a second file; PostgreSQL is
dumped with pg_dump and restored with pg_restore into a second database that the test creates
and drops. After a restore every compound's chain head, every published result and every row
of every table must be identical, and every restored chain must verify.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlmodel import Session, SQLModel

from app.audit import service as audit_service
from app.audit.service import Actor, append_event
from app.audit.signing import key_id, signing_key
from app.auth.models import Role
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import ROOT_DIR, get_settings
from app.db import make_engine, transaction
from app.ops.__main__ import main as ops_cli
from app.voting import results as voting_results
from app.voting.models import Ballot
from tests.factories import UnitSpec, add_roster, make_compound, make_staff
from tests.ledger.helpers import Q1, after_quarter, build_ledger_world
from tests.procedures.helpers import ALL_AGREE, walk_to_ballot
from tests.procedures.helpers import World as ProcedureWorld

# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")
    return tmp_path / "files"


@pytest.fixture(scope="module")
def _second_database(engine: Engine) -> Iterator[str | None]:
    """PostgreSQL: a second database next to the test database, created once per module."""
    if engine.dialect.name == "sqlite":
        yield None
        return
    import psycopg

    name = f"{engine.url.database}_restore"
    admin = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restore_url(_second_database: str | None, tmp_path: Path) -> str:
    """A second, empty database of the same kind as the test database."""
    if _second_database is None:
        return f"sqlite:///{tmp_path / 'restored.db'}"
    import psycopg

    plain = _second_database.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return _second_database


@pytest.fixture
def restored(restore_url: str) -> Iterator[Engine]:
    engine = make_engine(restore_url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- what a deployment holds ---------------------------------------------------------------------


def seed_deployment(client: TestClient, db: Session, clock: FrozenClock,
                    outbox: MemorySender) -> dict[str, int]:
    """A compound with ledger entries, an agenda item taken through its procedure, a ballot
    published, a closed and published ledger quarter; and a second, smaller compound."""
    lw = build_ledger_world(db, client)
    for username, role in (("wy", Role.COMMITTEE), ("wuye", Role.CLERK),
                           ("shenhe", Role.REVIEWER)):
        make_staff(db, username=username, roles={lw.cid: [role]})
    make_staff(db, username="admin", platform_admin=True)
    db.commit()
    lw.booked(amount="1,200.00", description="三月临时停车费")
    lw.booked(direction="expense", category="维修养护", amount="800.00",
              counterparty="某某水电维修部", description="更换楼道灯")
    world = ProcedureWorld(client=client, clock=clock, outbox=outbox, compound=lw.world.compound,
                           phones=lw.world.phones)
    world.adopt()
    item = walk_to_ballot(world, world.propose())
    ballot = world.ballot()
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    published = world.run_ballot(ballot, ALL_AGREE)
    assert published["status"] == "published"
    after_quarter(clock, lw)
    lw.close(Q1)
    lw.publish(Q1)

    other = make_compound(db, name="和谐小区")
    add_roster(db, other, [UnitSpec("1栋", "101", 9000, ["甲"]), UnitSpec("1栋", "102", 8800, ["乙"])])
    audit_service.sign_checkpoint(db, compound_id=other.id, reason="daily")
    db.commit()
    assert other.id is not None
    return {"main": lw.cid, "other": other.id, "ballot": ballot["id"]}


def heads(engine: Engine) -> dict[int, tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT compound_id, seq, hash FROM audit_chain_head")).all()
    return {int(c): (int(s), h) for c, s, h in rows}


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            stmt = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in conn.execute(stmt)]
    return out


def published_results(engine: Engine) -> dict[int, dict[str, Any]]:
    """The results view of every published ballot, as the owners read it."""
    with Session(engine) as session:
        ballots = session.execute(select(Ballot).where(Ballot.published_at.is_not(None))).scalars()
        return {b.id: voting_results.results_view(session, ballot=b) for b in ballots}


def verify_all(engine: Engine) -> dict[int, dict[str, Any]]:
    with Session(engine) as session:
        return {cid: audit_service.verify_compound(session, compound_id=cid)
                for cid in heads(engine)}


def run_ops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The documented command, as an operator runs it: its own process and environment."""
    return subprocess.run([sys.executable, "-m", "app.ops", *args], cwd=ROOT_DIR, env=env,
                          capture_output=True, text=True, timeout=300)


# --- tests --------------------------------------------------------------------------------------


def test_restore_brings_back_every_chain_head_published_result_and_row(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    engine: Engine, restored: Engine, restore_url: str, files_dir: Path, tmp_path: Path,
) -> None:
    ids = seed_deployment(client, db, frozen_clock, outbox)
    before_heads = heads(engine)
    before_rows = table_rows(engine)
    before_results = published_results(engine)
    before_files = sorted(p.relative_to(files_dir) for p in files_dir.rglob("*") if p.is_file())
    assert set(before_heads) == {ids["main"], ids["other"]}
    assert list(before_results) == [ids["ballot"]]
    assert all(m["passed"] for m in before_results[ids["ballot"]]["matters"])
    assert before_files and before_rows["ledger_period"] and before_rows["agenda_item"]

    env = {**os.environ, "GONGJUE_DATABASE_URL": str(engine.url.render_as_string(
        hide_password=False)), "GONGJUE_FILES_DIR": str(files_dir)}
    target = tmp_path / "backup"
    done = run_ops("backup", str(target), env=env)
    assert done.returncode == 0, done.stderr
    for cid, (seq, digest) in before_heads.items():  # the summary: per compound, seq and hash
        assert f"小区 {cid} " in done.stdout and f"链头 seq {seq} hash {digest}" in done.stdout
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert {c["compound_id"]: (c["head_seq"], c["head_hash"]) for c in manifest["compounds"]} == (
        before_heads)
    assert manifest["database"]["kind"] == engine.dialect.name
    assert manifest["files"]["count"] == len(before_files)
    assert manifest["signing_key"]["key_id"] == key_id(signing_key().public_key())
    assert not (target / "checkpoint_ed25519.pem").exists()  # the key stays apart by default

    restored_files = tmp_path / "restored-files"
    done = run_ops("restore", str(target), "--json",
                   env={**env, "GONGJUE_DATABASE_URL": restore_url,
                        "GONGJUE_FILES_DIR": str(restored_files)})
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["tables_match"] and result["signing_key"] == "match"
    assert all(c["matches_backup"] and c["chain_ok"] for c in result["compounds"])

    assert heads(restored) == before_heads
    assert published_results(restored) == before_results
    assert table_rows(restored) == before_rows
    assert sorted(p.relative_to(restored_files) for p in restored_files.rglob("*")
                  if p.is_file()) == before_files
    verified = verify_all(restored)
    assert all(r["ok"] and r["checkpoints_checked"] >= 1 for r in verified.values()), verified
    # The restored deployment carries on: the chain extends from the restored head.
    with Session(restored) as session:
        event = append_event(session, compound_id=ids["main"], actor=Actor(None, "system"),
                             action="ops.restored", object_type="backup", object_id="test")
        session.commit()
        assert (event.seq, event.prev_hash) == (before_heads[ids["main"]][0] + 1,
                                                before_heads[ids["main"]][1])


def _small_deployment(db: Session, events: int = 5) -> int:
    compound = make_compound(db)
    assert compound.id is not None
    for i in range(events):
        append_event(db, compound_id=compound.id, actor=Actor(user_id=1, role="committee"),
                     action="roster.unit_updated", object_type="unit", object_id=i,
                     payload={"area_hundredths": 9000 + i})
    audit_service.sign_checkpoint(db, compound_id=compound.id, reason="daily")
    db.commit()
    return compound.id


def test_restore_refuses_a_database_in_use_or_a_damaged_backup_unless_forced(
    db: Session, engine: Engine, restored: Engine, restore_url: str, files_dir: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    cid = _small_deployment(db)
    backup_dir = tmp_path / "b1"
    assert ops_cli(["backup", str(backup_dir)]) == 0
    assert ops_cli(["backup", str(backup_dir)]) == 2  # never over an existing backup
    assert "不是空目录" in capsys.readouterr().err
    assert ops_cli(["restore", str(backup_dir), "--database-url", restore_url]) == 0
    backed_up = heads(restored)
    assert backed_up == heads(engine)

    # The restored deployment moves on; restoring over it again needs --force.
    with Session(restored) as session:
        append_event(session, compound_id=cid, actor=Actor(None, "system"), action="later",
                     object_type="x", object_id=1)
        session.commit()
    moved_on = heads(restored)
    capsys.readouterr()
    assert ops_cli(["restore", str(backup_dir), "--database-url", restore_url]) == 2
    assert "目标数据库不是空的" in capsys.readouterr().err
    assert heads(restored) == moved_on  # untouched

    # A damaged backup is refused before anything is overwritten.
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for path in backup_dir.iterdir():
        if path.is_file():
            (damaged / path.name).write_bytes(path.read_bytes())
    db_file = next(p for p in damaged.iterdir() if p.name.startswith("database."))
    data = bytearray(db_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db_file.write_bytes(bytes(data))
    assert ops_cli(["restore", str(damaged), "--database-url", restore_url, "--force"]) == 2
    assert "校验和与清单不符" in capsys.readouterr().err
    assert heads(restored) == moved_on

    assert ops_cli(["restore", str(backup_dir), "--database-url", restore_url, "--force"]) == 0
    assert heads(restored) == backed_up
    assert table_rows(restored) == table_rows(engine)


def test_signing_key_is_left_out_unless_asked_and_a_different_key_is_refused(
    db: Session, engine: Engine, restored: Engine, restore_url: str, files_dir: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    _small_deployment(db)
    settings = get_settings()
    original = settings.signing_key_path
    assert ops_cli(["backup", str(tmp_path / "plain")]) == 0
    assert ops_cli(["backup", str(tmp_path / "keyed"), "--with-signing-key"]) == 0
    assert "只记录了公钥" in capsys.readouterr().out
    assert not (tmp_path / "plain" / "checkpoint_ed25519.pem").exists()
    kept = tmp_path / "keyed" / "checkpoint_ed25519.pem"
    assert kept.read_bytes() == original.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    # A machine without the key: the plain backup restores and says the key must be put back.
    missing = tmp_path / "new-host" / "key.pem"
    monkeypatch.setattr(settings, "signing_key_path", missing)
    assert ops_cli(["restore", str(tmp_path / "plain"), "--database-url", restore_url]) == 0
    assert "签名密钥不在" in capsys.readouterr().out
    assert not missing.exists()
    # The keyed backup puts the key back, readable by its owner only.
    assert ops_cli(["restore", str(tmp_path / "keyed"), "--database-url", restore_url,
                    "--force"]) == 0
    assert missing.read_bytes() == original.read_bytes()
    assert stat.S_IMODE(missing.stat().st_mode) == 0o600

    # A different key at the configured path would make every signed checkpoint read as forged.
    other = tmp_path / "other.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    monkeypatch.setattr(settings, "signing_key_path", other)
    capsys.readouterr()
    assert ops_cli(["restore", str(tmp_path / "plain"), "--database-url", restore_url,
                    "--force"]) == 2
    assert "--allow-different-key" in capsys.readouterr().err
    # Restored anyway on request, the chains still verify against the key in the manifest.
    assert ops_cli(["restore", str(tmp_path / "plain"), "--database-url", restore_url,
                    "--force", "--allow-different-key", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["signing_key"] == "different" and result["ok"]


def test_backup_taken_while_the_server_writes_matches_its_own_summary(
    db: Session, engine: Engine, restored: Engine, restore_url: str, files_dir: Path,
    tmp_path: Path,
) -> None:
    cid = _small_deployment(db, events=3)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                with transaction() as s:
                    append_event(s, compound_id=cid, actor=Actor(user_id=2, role="owner"),
                                 action="vote.cast", object_type="vote_cast", object_id=i,
                                 payload={"i": i, "at": datetime.now(UTC)})
                    if i % 10 == 0:
                        audit_service.sign_checkpoint(s, compound_id=cid, reason="test")
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    manifests = []
    try:
        for n in range(2):
            target = tmp_path / f"live-{n}"
            assert ops_cli(["backup", str(target), "--json"]) == 0
            manifests.append(json.loads((target / "manifest.json").read_text(encoding="utf-8")))
    finally:
        stop.set()
        thread.join()
    assert errors == []
    seqs = [m["compounds"][0]["head_seq"] for m in manifests]
    assert seqs == sorted(seqs) and seqs[-1] > seqs[0]  # taken while the chain grew
    for n, manifest in enumerate(manifests):
        assert ops_cli(["restore", str(tmp_path / f"live-{n}"), "--database-url", restore_url,
                        "--force"]) == 0
        (head,) = manifest["compounds"]
        assert heads(restored) == {cid: (head["head_seq"], head["head_hash"])}
        with restored.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        assert count == head["head_seq"] == manifest["tables"]["audit_event"]
        assert all(r["ok"] for r in verify_all(restored).values())
