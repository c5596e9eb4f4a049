"""Verifying a long audit chain: rows read from the database, and the exported JSON Lines file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from app.audit.models import AuditEvent
from app.audit.verify import EventView, verify_chain
from app.db import transaction

COLUMNS = (AuditEvent.compound_id, AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_user_id,
           AuditEvent.actor_role, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
           AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.hash)


def read_events(compound_id: int) -> list[EventView]:
    """The chain in sequence order, fetched in batches through the driver into the verifier's rows."""
    names = ", ".join(c.name for c in COLUMNS)
    with transaction(write=False) as session:
        connection = session.connection()
        mark = "%s" if connection.dialect.name == "postgresql" else "?"
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(f"SELECT {names} FROM audit_event WHERE compound_id = {mark} ORDER BY seq",
                           (compound_id,))
            views: list[EventView] = []
            while rows := cursor.fetchmany(20_000):
                views.extend(EventView(*row) for row in rows)
            return views
        finally:
            cursor.close()


def write_export(path: Path, rows: list[tuple]) -> None:
    """The chain as `python -m app.audit export` writes it (header, then one event per line)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"type": "header", "format": "gongjue-audit/1",
                             "compound_id": rows[0][0]}) + "\n")
        for (compound_id, seq, occurred_at, actor, role, action, otype, oid, payload, prev,
             digest) in rows:
            fh.write(json.dumps({
                "type": "event", "compound_id": compound_id, "seq": seq, "occurred_at": occurred_at,
                "actor_user_id": actor, "actor_role": role, "action": action, "object_type": otype,
                "object_id": oid, "payload": json.loads(payload), "prev_hash": prev, "hash": digest,
            }, ensure_ascii=False) + "\n")


def run(compound_id: int, events: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    views = read_events(compound_id)
    t1, c1 = time.perf_counter(), time.process_time()
    report = verify_chain(views)
    t2, c2 = time.perf_counter(), time.process_time()
    read_s, verify_s = t1 - t0, t2 - t1
    return {
        "events": events,
        "ok": report.ok and report.events == events,
        "verify_seconds": round(verify_s, 3),
        "events_per_s": round(events / verify_s),
        "events_per_cpu_s": round(events / (c2 - c1)) if c2 > c1 else None,
        "what": "app.audit.verify.verify_chain over the rows already read (sequence, links, "
                "SHA-256 of every event's canonical form)",
        "db_read_seconds": round(read_s, 3),
        "db_end_to_end_events_per_s": round(events / (read_s + verify_s)),
    }


def run_file(export_path: Path, events: int) -> dict[str, Any]:
    """`python -m app.audit verify --file` on the exported chain (no database)."""
    from app.audit.__main__ import _verify_file

    t0, c0 = time.perf_counter(), time.process_time()
    report = _verify_file(export_path, None)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "events": events,
        "file_ok": bool(report["ok"]) and report["events"] == events,
        "file_seconds": round(elapsed, 3),
        "file_events_per_s": round(events / elapsed),
        "file_events_per_cpu_s": round(events / cpu) if cpu > 0 else None,
        "what": "python -m app.audit verify --file: parse JSON Lines, re-canonicalize each "
                "payload, verify",
    }
