"""Chain verification over stored rows or an exported JSON Lines file (no database needed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.canonical import GENESIS_HASH, canonical_json, checkpoint_message, event_digest


@dataclass(frozen=True)
class EventView:
    compound_id: int
    seq: int
    occurred_at: str
    actor_user_id: int | None
    actor_role: str
    action: str
    object_type: str
    object_id: str
    payload_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class CheckpointView:
    compound_id: int
    seq: int
    head_hash: str
    signed_at: str
    reason: str
    key_id: str
    signature: str


@dataclass
class Problem:
    position: int  # 1-based position in the order the events were read
    seq: int | None
    kind: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass
class VerifyReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_problem: Problem | None = None
    checkpoints_checked: int = 0
    checkpoint_problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_problem": self.first_problem.as_dict() if self.first_problem else None,
            "checkpoints_checked": self.checkpoints_checked,
            "checkpoint_problems": [p.as_dict() for p in self.checkpoint_problems],
        }


def verify_chain(
    events: Iterable[EventView],
    *,
    checkpoints: Iterable[CheckpointView] = (),
    public_key: Ed25519PublicKey | None = None,
    head: tuple[int, str] | None = None,
) -> VerifyReport:
    """Find the first edited, deleted, inserted or reordered event, then check checkpoints.

    `head` is the (seq, hash) the chain must end at (the stored head, or an export's signed
    one): without it a cut or re-sealed tail after the last checkpoint goes unnoticed.
    """
    checkpoints = list(checkpoints)
    wanted = {cp.seq for cp in checkpoints}  # only these hashes are looked up afterwards
    expected_seq = 1
    prev = GENESIS_HASH
    hashes: dict[int, str] = {}
    problem: Problem | None = None
    count = 0
    compound: int | None = None
    digest_of = event_digest
    for position, ev in enumerate(events, start=1):
        count = position
        if problem is not None:
            continue
        if compound is None:
            compound = ev.compound_id
        seq = ev.seq
        # The common case first: in order, linked, and hashing to its stored hash.
        if (
            seq == expected_seq and ev.prev_hash == prev and ev.compound_id == compound
            and digest_of(ev.compound_id, seq, ev.occurred_at, ev.actor_user_id, ev.actor_role,
                          ev.action, ev.object_type, ev.object_id, ev.payload_json,
                          prev) == ev.hash
        ):
            prev = ev.hash
            if seq in wanted:
                hashes[seq] = prev
            expected_seq += 1
            continue
        if ev.compound_id != compound:
            problem = Problem(position, seq, "foreign_event", "事件不属于本小区的链")
        elif seq < expected_seq:
            problem = Problem(
                position, seq, "reordered_or_duplicated",
                f"第{position}条事件序号为{seq}，应为{expected_seq}：事件被重排或重复插入",
            )
        elif seq > expected_seq:
            problem = Problem(
                position, seq, "missing_events",
                f"第{position}条事件序号为{seq}，应为{expected_seq}：其前有事件被删除",
            )
        elif ev.prev_hash != prev:
            problem = Problem(
                position, seq, "broken_link",
                f"第{position}条事件（序号{seq}）的前序哈希与上一事件不符：链被插入或改动",
            )
        else:
            problem = Problem(
                position, seq, "hash_mismatch",
                f"第{position}条事件（序号{seq}）的内容与其哈希不符：事件被篡改",
            )

    if problem is None and head is not None:
        problem = _check_head(count, expected_seq - 1, prev, head)
    report = VerifyReport(
        ok=problem is None, events=count, head_seq=expected_seq - 1, head_hash=prev,
        first_problem=problem,
    )
    _check_checkpoints(report, hashes, checkpoints, public_key)
    return report


def _check_head(count: int, last_seq: int, last_hash: str, head: tuple[int, str]) -> Problem | None:
    head_seq, head_hash = head
    if last_seq < head_seq:
        return Problem(
            count + 1, last_seq + 1, "head_mismatch",
            f"链在第{count}条事件后中断，而记录的链头序号为{head_seq}：末尾的事件被删除",
        )
    if last_seq > head_seq:
        return Problem(
            head_seq + 1, head_seq + 1, "head_mismatch",
            f"第{head_seq + 1}条起的事件在记录的链头（序号{head_seq}）之后：事件被伪造追加",
        )
    if last_hash != head_hash:
        return Problem(
            count, last_seq, "head_mismatch",
            f"最后一条事件（序号{last_seq}）的哈希与记录的链头不符：事件被改动后重算",
        )
    return None


def _check_checkpoints(
    report: VerifyReport,
    hashes: dict[int, str],
    checkpoints: Iterable[CheckpointView],
    public_key: Ed25519PublicKey | None,
) -> None:
    for cp in checkpoints:
        report.checkpoints_checked += 1
        if public_key is not None and not _signature_ok(cp, public_key):
            report.checkpoint_problems.append(
                Problem(0, cp.seq, "bad_signature", f"序号{cp.seq}的检查点签名无效")
            )
            continue
        if cp.seq == 0:
            continue
        actual = hashes.get(cp.seq)
        if actual is None:
            report.checkpoint_problems.append(
                Problem(0, cp.seq, "checkpoint_beyond_chain",
                        f"已签名检查点序号{cp.seq}不在可验证的链中：链被截断或篡改")
            )
        elif actual != cp.head_hash:
            report.checkpoint_problems.append(
                Problem(0, cp.seq, "checkpoint_mismatch",
                        f"序号{cp.seq}处的哈希与已签名检查点不符：链被整体重算")
            )
    if report.checkpoint_problems:
        report.ok = False


def event_view_from_record(rec: dict[str, Any]) -> EventView:
    return EventView(
        compound_id=int(rec["compound_id"]),
        seq=int(rec["seq"]),
        occurred_at=rec["occurred_at"],
        actor_user_id=rec.get("actor_user_id"),
        actor_role=rec["actor_role"],
        action=rec["action"],
        object_type=rec["object_type"],
        object_id=str(rec["object_id"]),
        payload_json=canonical_json(rec["payload"]),
        prev_hash=rec["prev_hash"],
        hash=rec["hash"],
    )


def checkpoint_view_from_record(rec: dict[str, Any]) -> CheckpointView:
    return CheckpointView(
        compound_id=int(rec["compound_id"]), seq=int(rec["seq"]), head_hash=rec["head_hash"],
        signed_at=rec["signed_at"], reason=rec["reason"], key_id=rec["key_id"],
        signature=rec["signature"],
    )


def parse_export(lines: Iterable[str]) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """Split an export into its header, event records and checkpoint records."""
    header: dict[str, Any] = {}
    events: list[dict] = []
    checkpoints: list[dict] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        rec = json.loads(line)
        kind = rec.get("type", "event")
        if kind == "header":
            header = rec
        elif kind == "checkpoint":
            checkpoints.append(rec)
        else:
            events.append(rec)
    return header, events, checkpoints


def verify_export(
    header: dict[str, Any], events: Iterable[dict[str, Any]], checkpoints: Iterable[dict[str, Any]],
    public_key: Ed25519PublicKey | None,
) -> VerifyReport:
    """Verify an export: its events, its checkpoints, and that it ends at its signed head."""
    signed = header.get("head")
    head: tuple[int, str] | None = None
    bad_head: Problem | None = None
    if signed:
        view = checkpoint_view_from_record({**signed, "compound_id": header.get("compound_id")})
        if public_key is not None and not _signature_ok(view, public_key):
            bad_head = Problem(0, view.seq, "bad_signature", "导出文件链头的签名无效：文件被改动")
        else:
            head = (view.seq, view.head_hash)
    report = verify_chain(
        iter_event_views(events),
        checkpoints=[checkpoint_view_from_record(c) for c in checkpoints],
        public_key=public_key, head=head,
    )
    if bad_head is not None:
        report.checkpoint_problems.insert(0, bad_head)
        report.ok = False
    return report


def _signature_ok(cp: CheckpointView, public_key: Ed25519PublicKey) -> bool:
    message = checkpoint_message(compound_id=cp.compound_id, seq=cp.seq, head_hash=cp.head_hash,
                                 signed_at=cp.signed_at, reason=cp.reason)
    try:
        public_key.verify(bytes.fromhex(cp.signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def iter_event_views(records: Iterable[dict[str, Any]]) -> Iterator[EventView]:
    for rec in records:
        yield event_view_from_record(rec)
