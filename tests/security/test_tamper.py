"""Tamper evidence of the audit chain on a realistic compound (ballot, votes, ledger, checkpoints).

Randomized tampering of the stored rows (SQL inside a rolled-back transaction) and of exported
JSON Lines: edit, delete, insert, reorder, truncate, duplicate, and recompute one row's hash
without the next. Every try must be detected at the tampered position (or the first one the
tampering affects), and for the database the exported file must get the same verdict offline as
the database online. Then: a full re-seal against the signed checkpoints, the chain extending
batch after batch, and verification while others append.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.audit import service
from app.audit.__main__ import main as audit_cli
from app.audit.canonical import GENESIS_HASH, canonical_json, event_hash
from app.audit.service import Actor, append_event
from app.audit.signing import load_public_key
from app.audit.verify import (
    EventView,
    checkpoint_view_from_record,
    iter_event_views,
    parse_export,
    verify_chain,
    verify_export,
)
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import get_settings
from app.db import transaction
from tests.factories import make_compound
from tests.ledger.helpers import LedgerWorld, build_ledger_world, published_ballot
from tests.voting.helpers import ballot_body, owner

SEED = 20261122
KINDS = ("edit", "delete", "insert", "reorder", "truncate", "duplicate", "rehash")
EVENT_FIELDS = ("seq", "occurred_at", "actor_user_id", "actor_role", "action", "object_type",
                "object_id", "payload", "prev_hash", "hash")
# What online and offline verification must agree on (the CLI adds where the key came from).
VERDICT = ("ok", "events", "head_seq", "head_hash", "first_problem", "checkpoints_checked",
           "checkpoint_problems")


# --- a realistic chain ------------------------------------------------------------------------


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")
    return tmp_path / "files"


def build_compound(client: TestClient, db: Session, clock: FrozenClock,
                   outbox: MemorySender) -> LedgerWorld:
    """Roster, ledger entries, a ballot voted, closed and published (two signed checkpoints), a
    manual checkpoint, and a few events after the last checkpoint."""
    lw = build_ledger_world(db, client)
    lw.booked(amount="1,200.00", description="三月临时停车费")
    lw.booked(direction="expense", category="维修养护", amount="800.00",
              counterparty="某某水电维修部", description="更换楼道灯")
    published_ballot(lw, clock, outbox)
    lw.booked(amount="2,600.00", description="电梯广告收入")
    r = client.post(lw.url("/audit/checkpoints"), headers=lw.committee)
    assert r.status_code == 201, r.text
    lw.booked(amount="300.00", description="快递柜场地费")
    bid, matters = second_ballot(lw, clock)
    for name in ("A", "B", "C", "D", "E", "F", "G", "H", "I", "A", "C", "E"):
        cast(lw, outbox, bid, matters, name, choice=("oppose" if name in "CE" else "agree"))
    return lw


def second_ballot(lw: LedgerWorld, clock: FrozenClock) -> tuple[int, list[int]]:
    """A ballot noticed today and opened 16 days later (the first one's dates are past)."""
    start = clock.current.replace(hour=16, minute=0, second=0, microsecond=0)
    start = start + timedelta(days=16)  # midnight in Shanghai, 16 days on
    body = ballot_body(start, matters=[{"title": "增设电动自行车充电桩", "category": "8"}])
    r = lw.client.post(lw.url("/ballots"), json=body, headers=lw.committee)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = lw.client.post(lw.url(f"/ballots/{bid}/notice"), json={}, headers=lw.committee)
    assert r.status_code == 200, r.text
    lw.travel_to(clock, start + timedelta(hours=1))
    r = lw.client.post(lw.url(f"/ballots/{bid}/open"), headers=lw.committee)
    assert r.status_code == 200, r.text
    return bid, [m["id"] for m in r.json()["matters"]]


def cast(lw: LedgerWorld, outbox: MemorySender, bid: int, matters: list[int], name: str,
         choice: str = "agree") -> dict[str, Any]:
    """One owner's vote (or changed vote); the answer is the receipt."""
    tokens = lw.__dict__.setdefault("owner_tokens", {})  # codes are limited to one a minute
    if name not in tokens:
        tokens[name] = owner(lw.client, outbox, lw.world, name)
    headers = tokens[name]
    detail = lw.client.get(lw.url(f"/ballots/{bid}"), headers=headers).json()
    subject = detail["my_subjects"][0]["subject_id"]
    r = lw.client.post(lw.url(f"/ballots/{bid}/votes"), headers=headers, json={
        "subject_id": subject, "choices": {str(m): choice for m in matters}})
    assert r.status_code == 201, r.text
    return r.json()


def export(db: Session, cid: int) -> tuple[dict[str, Any], list[dict], list[dict]]:
    db.expire_all()
    return parse_export(service.export_lines(db, compound_id=cid))


def online(db: Session, cid: int) -> dict[str, Any]:
    db.expire_all()
    return service.verify_compound(db, compound_id=cid)


def offline(header: dict[str, Any], events: list[dict], cps: list[dict]) -> dict[str, Any]:
    key = load_public_key(header["public_key_pem"])
    return verify_export(header, events, cps, key).as_dict()


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in VERDICT}


# --- tampering ----------------------------------------------------------------------------------


def _flip_hex(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def _mutate(rng: random.Random, rec: dict[str, Any], column: str) -> Any:
    """A different value for one field of an event record (payload as a dict)."""
    value = rec[column]
    if column in ("hash", "prev_hash"):
        return _flip_hex(value)
    if column == "payload":
        changed = dict(value)
        numbers = [k for k, v in value.items() if type(v) is int]
        if numbers and rng.random() < 0.5:
            k = rng.choice(numbers)
            changed[k] = value[k] + rng.choice([-100, -1, 1, 100])
        else:
            changed["篡改"] = rng.randint(0, 9)
        return changed
    if column == "actor_user_id":
        return 1 if value is None else (None if rng.random() < 0.3 else value + 1)
    if column == "occurred_at":  # one second later, still a valid time
        return value[:17] + f"{(int(value[17:19]) + 1) % 60:02d}" + value[19:]
    return value + rng.choice(["x", "_", "1"])


def _rehashed(rec: dict[str, Any]) -> dict[str, Any]:
    fields = {k: rec[k] for k in ("compound_id", "seq", "occurred_at", "actor_user_id",
                                  "actor_role", "action", "object_type", "object_id",
                                  "prev_hash")}
    return {**rec, "hash": event_hash(**fields, payload_json=canonical_json(rec["payload"]))}


def _forged(cid: int, seq: int, prev: str, rng: random.Random) -> dict[str, Any]:
    rec = {"type": "event", "compound_id": cid, "seq": seq,
           "occurred_at": "2026-03-20T02:00:00.000000Z", "actor_user_id": 2,
           "actor_role": "committee", "action": "ledger.entry_approved",
           "object_type": "ledger_entry", "object_id": str(rng.randint(1, 99)),
           "payload": {"amount_fen": rng.randint(1, 10**7)}, "prev_hash": prev, "hash": ""}
    return _rehashed(rec)


@dataclass
class Tampering:
    kind: str
    expected_position: int
    detail: str


def tamper_export(rng: random.Random, kind: str, cid: int, events: list[dict]) -> tuple[list[dict], Tampering]:
    """A tampered copy of an export's event records (the originals are left untouched)."""
    n = len(events)
    out = list(events)
    if kind == "edit":
        p = rng.randint(1, n)
        column = rng.choice([*EVENT_FIELDS, "compound_id"])
        if column == "seq":
            value: Any = p + rng.choice([-2, -1, 1, 2, 50])
        elif column == "compound_id":
            value = cid + 1
        else:
            value = _mutate(rng, events[p - 1], column)
        out[p - 1] = {**events[p - 1], column: value}
        return out, Tampering(kind, p, f"{column} of #{p}")
    if kind == "delete":
        p = rng.randint(1, n)
        del out[p - 1]
        return out, Tampering(kind, p, f"#{p}")
    if kind == "insert":
        p = rng.randint(1, n + 1)
        prev = events[p - 2]["hash"] if p > 1 else GENESIS_HASH
        renumber = rng.random() < 0.5
        if renumber:  # later events move up one place, their hashes untouched
            out = out[: p - 1] + [{**e, "seq": e["seq"] + 1} for e in out[p - 1:]]
        out.insert(p - 1, _forged(cid, p, prev, rng))
        # The forged event is self-consistent: the first sign is the next event (or the head).
        return out, Tampering(kind, p + 1 if p <= n else p, f"at #{p}, renumber={renumber}")
    if kind == "reorder":
        p = rng.randint(1, n - 1)
        q = p + 1 if rng.random() < 0.4 else rng.randint(p + 1, n)
        if rng.random() < 0.5:
            out[p - 1], out[q - 1] = out[q - 1], out[p - 1]
            return out, Tampering(kind, p, f"swap #{p} #{q}")
        i, j = (p, q) if rng.random() < 0.5 else (q, p)
        moved = out.pop(i - 1)
        out.insert(j - 1, moved)
        return out, Tampering(kind, min(i, j), f"move #{i} to #{j}")
    if kind == "truncate":
        p = rng.randint(1, n)
        return out[: p - 1], Tampering(kind, p, f"from #{p}")
    if kind == "duplicate":
        p = rng.randint(1, n)
        q = rng.randint(p + 1, n + 1)
        out.insert(q - 1, dict(events[p - 1]))
        return out, Tampering(kind, q, f"copy of #{p} at #{q}")
    if kind == "rehash":
        p = rng.randint(1, n)
        column = rng.choice(["payload", "actor_role", "action", "object_id", "occurred_at",
                             "actor_user_id"])
        out[p - 1] = _rehashed({**events[p - 1], column: _mutate(rng, events[p - 1], column)})
        return out, Tampering(kind, p + 1 if p < n else p, f"{column} of #{p}")
    raise AssertionError(kind)


_INSERT = text(
    "INSERT INTO audit_event (compound_id, seq, occurred_at, actor_user_id, actor_role, action,"
    " object_type, object_id, payload, prev_hash, hash) VALUES (:compound_id, :seq, :occurred_at,"
    " :actor_user_id, :actor_role, :action, :object_type, :object_id, :payload, :prev_hash,"
    " :hash)")


def _db_row(rec: dict[str, Any]) -> dict[str, Any]:
    row = {k: rec[k] for k in ("compound_id", "seq", "occurred_at", "actor_user_id", "actor_role",
                               "action", "object_type", "object_id", "prev_hash", "hash")}
    return {**row, "payload": canonical_json(rec["payload"])}


def tamper_db(db: Session, rng: random.Random, kind: str, cid: int,
              events: list[dict]) -> Tampering:
    """Tamper with the stored rows with plain SQL, as someone with database access would."""
    n = len(events)
    c = {"c": cid}

    def sql(statement: str, **params: Any) -> None:
        db.execute(text(statement), {**c, **params})

    def make_room(at: int) -> None:  # move events at and after `at` up one place
        sql("UPDATE audit_event SET seq = seq + 1000000 WHERE compound_id = :c AND seq >= :s", s=at)
        sql("UPDATE audit_event SET seq = seq - 999999 WHERE compound_id = :c AND seq >= 1000000")

    if kind in ("edit", "rehash"):
        p = rng.randint(1, n)
        choices = EVENT_FIELDS[1:] if kind == "edit" else ("payload", "actor_role", "action",
                                                            "object_id", "occurred_at")
        column = rng.choice(choices)
        rec = {**events[p - 1], column: _mutate(rng, events[p - 1], column)}
        if kind == "rehash":
            rec = _rehashed(rec)
        row = _db_row(rec)
        assignments = f"{column} = :v" + (", hash = :h" if kind == "rehash" else "")
        sql(f"UPDATE audit_event SET {assignments} WHERE compound_id = :c AND seq = :s",
            v=row[column], h=row["hash"], s=p)
        expected = p if kind == "edit" or p == n else p + 1
        return Tampering(kind, expected, f"{column} of #{p}")
    if kind == "delete":
        p = rng.randint(1, n)
        sql("DELETE FROM audit_event WHERE compound_id = :c AND seq = :s", s=p)
        return Tampering(kind, p, f"#{p}")
    if kind == "insert":
        p = rng.randint(1, n + 1)
        prev = events[p - 2]["hash"] if p > 1 else GENESIS_HASH
        make_room(p)
        db.execute(_INSERT, _db_row(_forged(cid, p, prev, rng)))
        return Tampering(kind, p + 1 if p <= n else p, f"at #{p}")
    if kind == "reorder":
        p = rng.randint(1, n - 1)
        q = p + 1 if rng.random() < 0.4 else rng.randint(p + 1, n)
        sql("UPDATE audit_event SET seq = -1 WHERE compound_id = :c AND seq = :s", s=p)
        sql("UPDATE audit_event SET seq = :p WHERE compound_id = :c AND seq = :q", p=p, q=q)
        sql("UPDATE audit_event SET seq = :q WHERE compound_id = :c AND seq = -1", q=q)
        return Tampering(kind, p, f"swap #{p} #{q}")
    if kind == "truncate":
        p = rng.randint(1, n)
        sql("DELETE FROM audit_event WHERE compound_id = :c AND seq >= :s", s=p)
        return Tampering(kind, p, f"from #{p}")
    if kind == "duplicate":
        p = rng.randint(1, n)
        q = rng.randint(p + 1, n + 1)
        make_room(q)
        db.execute(_INSERT, {**_db_row(events[p - 1]), "seq": q})
        return Tampering(kind, q, f"copy of #{p} at #{q}")
    raise AssertionError(kind)


# --- the randomized run -------------------------------------------------------------------------


@dataclass
class Tally:
    tries: Counter[tuple[str, str]] = field(default_factory=Counter)
    detected: Counter[tuple[str, str]] = field(default_factory=Counter)
    agreed: int = 0
    misses: list[str] = field(default_factory=list)

    def record(self, where: str, t: Tampering, report: dict[str, Any]) -> None:
        self.tries[(t.kind, where)] += 1
        problem = report["first_problem"]
        if report["ok"] is False and problem and problem["position"] == t.expected_position:
            self.detected[(t.kind, where)] += 1
        else:
            self.misses.append(f"{where} {t.kind} {t.detail}: expected position "
                               f"{t.expected_position}, got {problem}")

    def summary(self) -> str:
        rows = [f"{k:9} db {self.tries[(k, 'db')]:4}  export {self.tries[(k, 'export')]:4}"
                for k in KINDS]
        return "\n".join([*rows, f"total {sum(self.tries.values())}, detected "
                          f"{sum(self.detected.values())}, online = offline {self.agreed}"])


def run_randomized(db: Session, cid: int, tries: int, db_share: float, seed: int = SEED) -> Tally:
    header, events, cps = export(db, cid)
    db.commit()  # end the read transaction: each database try runs in its own, rolled back
    assert offline(header, events, cps)["ok"] is True
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(tries):
        kind = rng.choice(KINDS)
        if rng.random() < db_share:
            t = tamper_db(db, rng, kind, cid, events)
            on = online(db, cid)
            off = offline(*export(db, cid))
            db.rollback()
            tally.record("db", t, on)
            if verdict(on) == verdict(off):
                tally.agreed += 1
            else:
                tally.misses.append(f"db {kind} {t.detail}: online {on} != offline {off}")
        else:
            tampered, t = tamper_export(rng, kind, cid, events)
            tally.record("export", t, offline(header, tampered, cps))
    return tally


def _check(tally: Tally, tries: int, per_cell: int) -> None:
    print("\n" + tally.summary())
    assert tally.misses == []
    assert sum(tally.tries.values()) == sum(tally.detected.values()) == tries
    assert tally.agreed == sum(n for (_, where), n in tally.tries.items() if where == "db")
    for kind in KINDS:  # every kind tried on both the database and the export
        assert tally.tries[(kind, "db")] >= per_cell, (kind, tally.tries)
        assert tally.tries[(kind, "export")] >= per_cell, (kind, tally.tries)


def test_randomized_tampering_is_detected_every_time_at_its_position(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    files_dir: Path,
) -> None:
    lw = build_compound(client, db, frozen_clock, outbox)
    tally = run_randomized(db, lw.cid, tries=630, db_share=0.2)
    _check(tally, 630, per_cell=10)


@pytest.mark.heavy
def test_randomized_tampering_full_size(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    files_dir: Path,
) -> None:
    lw = build_compound(client, db, frozen_clock, outbox)
    tally = run_randomized(db, lw.cid, tries=2100, db_share=0.2, seed=SEED + 1)
    _check(tally, 2100, per_cell=30)


# --- re-seal ------------------------------------------------------------------------------------


def reseal(db: Session, cid: int, events: list[dict], p: int) -> None:
    """Edit event p and recompute every later hash and the stored head: a self-consistent chain."""
    prev = events[p - 2]["hash"] if p > 1 else GENESIS_HASH
    for rec in events[p - 1:]:
        changed = {**rec, "prev_hash": prev}
        if rec["seq"] == p:
            changed["payload"] = {**rec["payload"], "篡改": 1}
        row = _db_row(_rehashed(changed))
        db.execute(text("UPDATE audit_event SET payload = :payload, prev_hash = :prev_hash,"
                        " hash = :hash WHERE compound_id = :compound_id AND seq = :seq"), row)
        prev = row["hash"]
    db.execute(text("UPDATE audit_chain_head SET hash = :h WHERE compound_id = :c"),
               {"h": prev, "c": cid})


def test_full_reseal_passes_the_bare_chain_but_not_the_signed_checkpoints(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    files_dir: Path,
) -> None:
    lw = build_compound(client, db, frozen_clock, outbox)
    header, events, cps = export(db, lw.cid)  # an observer's copy, taken before the re-seal
    db.commit()
    key = load_public_key(header["public_key_pem"])
    cp_seqs = [c["seq"] for c in cps]
    assert len(cp_seqs) == 3 and cp_seqs[-1] < len(events)
    rng = random.Random(SEED)
    positions = sorted({1, cp_seqs[0], cp_seqs[0] + 1, cp_seqs[-1], cp_seqs[-1] + 1, len(events),
                        *rng.sample(range(1, len(events) + 1), 3)})
    for p in positions:
        reseal(db, lw.cid, events, p)
        db.expire_all()
        stored = list(service.iter_events(db, compound_id=lw.cid))
        views = [(e.compound_id, e.seq, e.occurred_at, e.actor_user_id, e.actor_role, e.action,
                  e.object_type, e.object_id, e.payload, e.prev_hash, e.hash) for e in stored]
        head = service.chain_head(db, compound_id=lw.cid)
        bare = verify_chain((EventView(*v) for v in views), head=head)
        assert bare.ok and bare.first_problem is None, p  # the bare chain check passes
        assert head != (events[-1]["seq"], events[-1]["hash"]), p  # yet the chain is not the same

        on = online(db, lw.cid)
        resealed_export = export(db, lw.cid)
        db.rollback()
        off = offline(*resealed_export)
        assert verdict(on) == verdict(off), p
        assert on["first_problem"] is None, p
        contradicted = [s for s in cp_seqs if s >= p]
        assert [(c["kind"], c["seq"]) for c in on["checkpoint_problems"]] == [
            ("checkpoint_mismatch", s) for s in contradicted], p
        for problem in on["checkpoint_problems"]:
            assert "已签名检查点不符" in problem["message"] and "链被整体重算" in problem["message"]
        # Stored checkpoints cannot see a re-seal after the last of them: the README's limit.
        assert on["ok"] is (not contradicted), p
        # An export someone kept from before catches every re-seal: its signed head is a
        # checkpoint of the chain as it was.
        kept = checkpoint_view_from_record({**header["head"], "compound_id": lw.cid})
        resealed = verify_chain(iter_event_views(resealed_export[1]), checkpoints=[kept],
                                public_key=key)
        assert not resealed.ok, p
        assert [(c.kind, c.seq) for c in resealed.checkpoint_problems] == [
            ("checkpoint_mismatch", kept.seq)], p


# --- extension ----------------------------------------------------------------------------------


def test_each_batch_of_votes_extends_the_chain_and_keeps_the_old_head(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    files_dir: Path,
) -> None:
    lw = build_ledger_world(db, client)
    bid, matters = second_ballot(lw, frozen_clock)
    batches = [["A", "B", "C"], ["D", "E", "F", "G"], ["A", "H"], ["I", "B", "C"], ["D"]]
    old = list(service.export_lines(db, compound_id=lw.cid))
    db.commit()
    receipts: list[dict[str, Any]] = []
    for number, batch in enumerate(batches):
        lw.travel(frozen_clock, minutes=2)
        new_receipts = [cast(lw, outbox, bid, matters, name,
                             choice="oppose" if number % 2 else "agree") for name in batch]
        if number == 2:  # a checkpoint between batches, as the daily job signs one
            assert audit_cli(["checkpoint"]) == 0
        new = list(service.export_lines(db, compound_id=lw.cid))
        db.commit()
        old_header, old_events, old_cps = parse_export(old)
        header, events, cps = parse_export(new)
        k = len(old_events)
        # Byte-identical prefix: the old events' lines, then the old checkpoints.
        assert new[1:1 + k] == old[1:1 + k]
        assert [json.dumps(c, ensure_ascii=False) for c in cps[:len(old_cps)]] == old[1 + k:]
        old_head = old_header["head"]
        assert (events[k - 1]["seq"], events[k - 1]["hash"]) == (old_head["seq"], old_head["head_hash"])
        added = events[k:]
        votes = [e for e in added if e["action"] != "audit.checkpoint_signed"]
        assert len(votes) == len(batch)  # one event per vote or changed vote, nothing else
        assert {e["action"] for e in votes} <= {"vote.cast", "vote.changed"}
        assert [e["seq"] for e in added] == list(range(k + 1, k + 1 + len(added)))
        # Every receipt so far still names its event, unchanged.
        receipts += new_receipts
        for receipt in receipts:
            assert events[receipt["audit_seq"] - 1]["hash"] == receipt["audit_hash"]
        # The old export's signed head is a valid checkpoint of the new chain.
        key = load_public_key(header["public_key_pem"])
        kept = checkpoint_view_from_record({**old_head, "compound_id": lw.cid})
        extended = verify_chain(iter_event_views(events), checkpoints=[kept], public_key=key)
        assert extended.ok and extended.checkpoints_checked == 1
        assert offline(header, events, cps)["ok"] is True
        assert verdict(online(db, lw.cid)) == verdict(offline(header, events, cps))
        db.commit()
        old = new
    assert len(receipts) == sum(map(len, batches))


# --- online and offline agree, through the command line ----------------------------------------


def _cli_report(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = audit_cli(argv)
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


def test_command_line_gives_the_same_answer_for_the_database_and_its_export(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender,
    files_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    lw = build_compound(client, db, frozen_clock, outbox)
    cid = str(lw.cid)
    _, events, _ = export(db, lw.cid)
    db.commit()
    tamperings: list[Callable[[], None]] = [
        lambda: None,
        lambda: db.execute(text("DELETE FROM audit_event WHERE compound_id = :c AND seq = :s"),
                           {"c": lw.cid, "s": len(events)}),  # the last event
        lambda: db.execute(text("UPDATE audit_event SET actor_role = 'owner' WHERE compound_id = :c"
                                " AND seq = 5"), {"c": lw.cid}),
    ]
    for number, tamper in enumerate(tamperings):
        tamper()
        db.commit()
        path = tmp_path / f"audit-{number}.jsonl"
        assert audit_cli(["export", "--compound", cid, "--output", str(path)]) == 0
        capsys.readouterr()
        code_db, report_db = _cli_report(capsys, ["verify", "--compound", cid])
        code_file, report_file = _cli_report(capsys, ["verify", "--file", str(path)])
        assert code_db == code_file == (0 if number == 0 else 1)
        assert verdict(report_db) == verdict(report_file)
        assert report_file["signed_head"] is True
    assert report_db["first_problem"]["position"] == 5  # the edit; the deleted last one before
    assert verdict(report_db)["events"] == len(events) - 1


def test_the_signed_head_of_an_export_cannot_be_moved_or_silently_dropped(
    db: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    compound = make_compound(db)
    assert compound.id is not None
    for i in range(12):
        append_event(db, compound_id=compound.id, actor=Actor(user_id=3, role="committee"),
                     action="ledger.entry_recorded", object_type="ledger_entry", object_id=i,
                     payload={"amount_fen": 1000 * i})
        if i == 4:
            service.sign_checkpoint(db, compound_id=compound.id, reason="daily")
    db.commit()
    header, events, cps = export(db, compound.id)
    db.commit()
    cut = events[:-3]
    # Moving the signed head back to hide a cut tail breaks its signature.
    moved = {**header, "head": {**header["head"], "seq": cut[-1]["seq"],
                                "head_hash": cut[-1]["hash"]}}
    report = offline(moved, cut, cps)
    assert report["ok"] is False
    assert report["checkpoint_problems"][0]["kind"] == "bad_signature"
    # Without the signed head only the consistency of what is there can be shown, and the
    # command line says so.
    path = tmp_path / "no-head.jsonl"
    stripped = {k: v for k, v in header.items() if k != "head"}
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [stripped, *cut, *cps]),
                    encoding="utf-8")
    assert audit_cli(["verify", "--file", str(path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signed_head"] is False
    assert "no signed head" in captured.err
    # With it, the same cut is found at the first missing event.
    report = offline(header, cut, cps)
    assert report["first_problem"]["kind"] == "head_mismatch"
    assert report["first_problem"]["position"] == len(cut) + 1


# --- verification while others append ---------------------------------------------------------


def test_verification_while_others_append_never_reports_tampering(
    db: Session, engine: Any,
) -> None:
    compound = make_compound(db)
    db.commit()
    cid = compound.id
    assert cid is not None
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            i = 0
            while not stop.is_set():
                with transaction() as s:
                    append_event(s, compound_id=cid, actor=Actor(user_id=k, role="owner"),
                                 action="vote.cast", object_type="vote_cast", object_id=i,
                                 payload={"k": k, "i": i})
                    if i % 7 == 0:
                        service.sign_checkpoint(s, compound_id=cid, reason="test")
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    reports: list[dict[str, Any]] = []
    try:
        for _ in range(25):
            with transaction(write=False) as s:
                reports.append(service.verify_compound(s, compound_id=cid))
            with transaction(write=False) as s:
                reports.append(offline(*parse_export(service.export_lines(s, compound_id=cid))))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    bad = [r for r in reports if not r["ok"]]
    assert bad == []
    assert reports[-1]["events"] > reports[0]["events"] > 0  # the chain grew meanwhile
    with transaction(write=False) as s:
        assert service.verify_compound(s, compound_id=cid)["ok"] is True
