"""The audit chain: appends, verification, tamper detection of each kind, checkpoints, export."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.audit import service
from app.audit.__main__ import main as audit_cli
from app.audit.canonical import canonical_json
from app.audit.service import Actor, append_event
from app.db import transaction
from tests.factories import make_compound

ACTOR = Actor(user_id=7, role="committee")


def _chain(db: Session, n: int = 6) -> int:
    compound = make_compound(db)
    for i in range(n):
        append_event(db, compound_id=compound.id, actor=ACTOR, action="test.event",
                     object_type="thing", object_id=i, payload={"i": i, "名称": "测试"})
    db.commit()
    return compound.id  # type: ignore[return-value]


def _problem(db: Session, compound_id: int) -> dict | None:
    db.expire_all()
    return service.verify_compound(db, compound_id=compound_id)["first_problem"]


def test_canonical_json_sorts_keys_and_refuses_floats() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "中"]}) == '{"a":[true,null,"中"],"b":1}'
    with pytest.raises(TypeError):
        canonical_json({"area": 89.12})


# PostgreSQL text cannot hold NUL (requests carrying one are refused before they get here).
TRICKY_TEXT = ['引号"与\\反斜杠', "换行\n制表\t", "emoji 🗳️ 与 𠀀", "", "\u2028\u0001 控制"]


def test_the_hash_prefix_completed_by_the_database_gives_the_event_hash() -> None:
    """PostgreSQL completes the body after the prefix with the previous hash and the sequence."""
    import hashlib

    from app.audit.canonical import event_hash, event_hash_prefix

    for i, value in enumerate(TRICKY_TEXT):
        payload = canonical_json({"text": value, "n": i, "列表": [value, None, True]})
        args = dict(compound_id=3, occurred_at="2026-11-22T06:00:00.000000Z", actor_user_id=None if i % 2 else 9,
                    actor_role="owner", action="vote.cast", object_type=value or "x", object_id=value)
        prev, seq = hashlib.sha256(value.encode()).hexdigest(), 10**i
        prefix = event_hash_prefix(args["compound_id"], args["occurred_at"], args["actor_user_id"],
                                   args["actor_role"], args["action"], args["object_type"],
                                   args["object_id"], payload)
        completed = hashlib.sha256(f'{prefix}{prev}","seq":{seq}}}'.encode()).hexdigest()
        assert completed == event_hash(**args, seq=seq, payload_json=payload, prev_hash=prev)


def test_events_with_any_text_chain_and_verify(db: Session) -> None:
    """Quotes, backslashes, control characters, characters beyond U+FFFF in every text field:
    the chain (hashed in SQL on PostgreSQL, in Python on SQLite) verifies."""
    compound = make_compound(db)
    before = service.chain_head(db, compound_id=compound.id)[0]  # type: ignore[arg-type]
    for i, value in enumerate(TRICKY_TEXT):
        append_event(db, compound_id=compound.id, actor=Actor(user_id=None, role=value or "r"),
                     action=value or "a", object_type="thing", object_id=value,
                     payload={value: value, "i": i})
    db.commit()
    assert _problem(db, compound.id) is None  # type: ignore[arg-type]
    assert service.chain_head(db, compound_id=compound.id)[0] == before + len(TRICKY_TEXT)  # type: ignore[arg-type]


def test_intact_chain_verifies(db: Session) -> None:
    cid = _chain(db)
    report = service.verify_compound(db, compound_id=cid)
    assert report["ok"] is True
    assert report["events"] == 7  # compound.created + 6
    assert report["head_seq"] == 7


def test_edited_payload_is_detected_at_its_position(db: Session) -> None:
    cid = _chain(db)
    db.execute(text("UPDATE audit_event SET payload = :p WHERE compound_id = :c AND seq = 4"),
               {"p": '{"i":99,"名称":"测试"}', "c": cid})
    db.commit()
    problem = _problem(db, cid)
    assert problem and (problem["kind"], problem["seq"]) == ("hash_mismatch", 4)


def test_edited_actor_is_detected(db: Session) -> None:
    cid = _chain(db)
    db.execute(text("UPDATE audit_event SET actor_role = 'observer' WHERE compound_id = :c AND seq = 2"),
               {"c": cid})
    db.commit()
    problem = _problem(db, cid)
    assert problem and (problem["kind"], problem["seq"]) == ("hash_mismatch", 2)


def test_deleted_event_is_detected(db: Session) -> None:
    cid = _chain(db)
    db.execute(text("DELETE FROM audit_event WHERE compound_id = :c AND seq = 3"), {"c": cid})
    db.commit()
    problem = _problem(db, cid)
    assert problem and (problem["kind"], problem["position"]) == ("missing_events", 3)


def test_deleted_last_event_is_detected_by_the_head(db: Session) -> None:
    cid = _chain(db)
    db.execute(text("DELETE FROM audit_event WHERE compound_id = :c AND seq = 7"), {"c": cid})
    db.commit()
    problem = _problem(db, cid)
    assert problem and problem["kind"] == "head_mismatch"


def test_inserted_event_is_detected(db: Session) -> None:
    cid = _chain(db)
    # Renumber to make room, then insert a forged event with a self-consistent hash.
    db.execute(text("UPDATE audit_event SET seq = seq + 100 WHERE compound_id = :c AND seq >= 4"),
               {"c": cid})
    db.execute(text("UPDATE audit_event SET seq = seq - 99 WHERE compound_id = :c AND seq >= 104"),
               {"c": cid})
    prev = db.execute(text("SELECT hash FROM audit_event WHERE compound_id = :c AND seq = 3"),
                      {"c": cid}).scalar_one()
    from app.audit.canonical import event_hash

    forged = dict(compound_id=cid, seq=4, occurred_at="2026-01-01T00:00:00.000000Z",
                  actor_user_id=1, actor_role="committee", action="forged", object_type="x",
                  object_id="1", payload_json="{}", prev_hash=prev)
    db.execute(text(
        "INSERT INTO audit_event (compound_id, seq, occurred_at, actor_user_id, actor_role, action,"
        " object_type, object_id, payload, prev_hash, hash) VALUES (:compound_id, :seq,"
        " :occurred_at, :actor_user_id, :actor_role, :action, :object_type, :object_id,"
        " :payload_json, :prev_hash, :hash)"), {**forged, "hash": event_hash(**forged)})
    db.commit()
    problem = _problem(db, cid)
    # The forged event itself is consistent; the next one no longer links to it.
    assert problem and (problem["kind"], problem["seq"]) == ("broken_link", 5)


def test_reordered_events_are_detected(db: Session) -> None:
    cid = _chain(db)
    db.execute(text("UPDATE audit_event SET seq = -1 WHERE compound_id = :c AND seq = 3"), {"c": cid})
    db.execute(text("UPDATE audit_event SET seq = 3 WHERE compound_id = :c AND seq = 4"), {"c": cid})
    db.execute(text("UPDATE audit_event SET seq = 4 WHERE compound_id = :c AND seq = -1"), {"c": cid})
    db.commit()
    problem = _problem(db, cid)
    assert problem and problem["seq"] == 3 and problem["kind"] in {"broken_link", "hash_mismatch"}


def test_full_reseal_is_caught_by_a_signed_checkpoint(db: Session) -> None:
    cid = _chain(db, n=3)
    service.sign_checkpoint(db, compound_id=cid, reason="test")
    db.commit()
    # Rewrite event 2 and recompute every later hash: the chain alone looks intact again.
    from app.audit.canonical import event_hash

    rows = db.execute(text("SELECT seq, occurred_at, actor_user_id, actor_role, action, object_type,"
                           " object_id, payload FROM audit_event WHERE compound_id = :c ORDER BY seq"),
                      {"c": cid}).all()
    prev = "0" * 64
    for row in rows:
        payload = '{"i":42}' if row.seq == 2 else row.payload
        digest = event_hash(compound_id=cid, seq=row.seq, occurred_at=row.occurred_at,
                            actor_user_id=row.actor_user_id, actor_role=row.actor_role,
                            action=row.action, object_type=row.object_type,
                            object_id=row.object_id, payload_json=payload, prev_hash=prev)
        db.execute(text("UPDATE audit_event SET payload = :p, prev_hash = :ph, hash = :h"
                        " WHERE compound_id = :c AND seq = :s"),
                   {"p": payload, "ph": prev, "h": digest, "c": cid, "s": row.seq})
        prev = digest
    db.execute(text("UPDATE audit_chain_head SET hash = :h WHERE compound_id = :c"), {"h": prev, "c": cid})
    db.commit()
    db.expire_all()
    report = service.verify_compound(db, compound_id=cid)
    assert report["first_problem"] is None  # the chain is self-consistent...
    assert report["ok"] is False  # ...but contradicts the signed checkpoint
    assert report["checkpoint_problems"][0]["kind"] == "checkpoint_mismatch"


def _export(db: Session, cid: int, path: Path) -> list[dict]:
    lines = list(service.export_lines(db, compound_id=cid))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json.loads(line) for line in lines]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")


def test_exported_file_verifies_offline_and_detects_each_tampering(
    db: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = _chain(db)
    service.sign_checkpoint(db, compound_id=cid, reason="closing")
    db.commit()
    good = tmp_path / "audit.jsonl"
    records = _export(db, cid, good)
    assert audit_cli(["verify", "--file", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["checkpoints_checked"] == 1
    header, events, cps = records[0], [r for r in records if r["type"] == "event"], [
        r for r in records if r["type"] == "checkpoint"]

    cases = {
        "edit": [header, *events[:2], {**events[2], "payload": {"i": 5}}, *events[3:], *cps],
        "delete": [header, *events[:2], *events[3:], *cps],
        "insert": [header, *events[:3], {**events[2], "seq": 4}, *events[3:], *cps],
        "reorder": [header, events[0], events[2], events[1], *events[3:], *cps],
        "truncate": [header, *events[:3], *cps],
    }
    expected = {
        "edit": ("hash_mismatch", 3),
        "delete": ("missing_events", 3),
        "insert": ("broken_link", 4),
        "reorder": ("missing_events", 2),
        "truncate": None,
    }
    for name, recs in cases.items():
        path = tmp_path / f"{name}.jsonl"
        _write(path, recs)
        assert audit_cli(["verify", "--file", str(path)]) == 1, name
        out = capsys.readouterr().out
        report = json.loads(out)
        if expected[name] is None:
            assert report["checkpoint_problems"][0]["kind"] == "checkpoint_beyond_chain"
        else:
            kind, position = expected[name]  # type: ignore[misc]
            assert (report["first_problem"]["kind"], report["first_problem"]["position"]) == (
                kind, position), name


def test_forged_checkpoint_signature_is_refused(db: Session, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    cid = _chain(db, n=2)
    service.sign_checkpoint(db, compound_id=cid, reason="closing")
    db.commit()
    records = _export(db, cid, tmp_path / "a.jsonl")
    forged = [{**r, "signature": "00" * 64} if r["type"] == "checkpoint" else r for r in records]
    _write(tmp_path / "b.jsonl", forged)
    assert audit_cli(["verify", "--file", str(tmp_path / "b.jsonl")]) == 1
    assert "bad_signature" in capsys.readouterr().out


def test_chains_are_per_compound(db: Session) -> None:
    a = _chain(db, n=2)
    b = _chain(db, n=5)
    assert service.chain_head(db, compound_id=a)[0] == 3
    assert service.chain_head(db, compound_id=b)[0] == 6


def test_parallel_writers_never_fork_the_chain(engine, db: Session) -> None:  # type: ignore[no-untyped-def]
    compound_id = _chain(db, n=0)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(k: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with transaction() as s:
                    append_event(s, compound_id=compound_id, actor=ACTOR, action="parallel",
                                 object_type="w", object_id=k, payload={"k": k, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.expire_all()
    report = service.verify_compound(db, compound_id=compound_id)
    assert report["ok"] is True, report
    assert report["events"] == 1 + 8 * 15
    seqs = db.execute(text("SELECT seq FROM audit_event WHERE compound_id = :c ORDER BY seq"),
                      {"c": compound_id}).scalars().all()
    assert seqs == list(range(1, 122))


def test_daily_checkpoint_command_signs_only_changed_chains(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _chain(db, n=1)
    _chain(db, n=1)
    assert audit_cli(["checkpoint"]) == 0
    assert "signed 2" in capsys.readouterr().out
    assert audit_cli(["checkpoint"]) == 0
    assert "signed 0" in capsys.readouterr().out
    append_event(db, compound_id=a, actor=ACTOR, action="later", object_type="x", object_id=1)
    db.commit()
    assert audit_cli(["checkpoint"]) == 0
    assert "signed 1" in capsys.readouterr().out
    db.expire_all()
    assert service.verify_compound(db, compound_id=a)["ok"] is True
