"""The outbox: enqueue in the caller's transaction, claim safely across processes, deliver after
commit, record the provider's answer, retry with backoff, cap per phone and per compound per day.

Delivery never runs inside a request: `enqueue` only adds rows (and wakes this process's worker
once the transaction commits), the worker (app/notify/worker.py) or `python -m app.notify
deliver` sends them. A slow or dead provider therefore holds a worker thread, never a vote or a
login; login-code requests see the provider's health through `ensure_provider_ready` (a circuit
breaker over recent deliveries, the same answer for every phone).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, case, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.calendar import start_of_day, today
from app.clock import now
from app.config import get_settings
from app.db import is_postgres, transaction
from app.errors import Conflict, ServiceUnavailable
from app.notify.messages import MessageKind, check_params, render
from app.notify.models import OptOut, OutboxMessage, OutboxStatus, ReminderSent
from app.notify.providers import Outgoing, SendResult, SmsProvider, get_provider
from app.privacy import mask_phone

log = logging.getLogger("gongjue.notify")

_T = OutboxMessage.__table__
LOGIN_CODE: MessageKind = "login_code"
SMS_CHARS = 70  # one SMS segment of Chinese text; a longer message is billed as several
SIGN = "【共决】"  # the provider adds the sign name; it counts towards the length


# --- enqueue (inside the caller's transaction) ---------------------------------------------------


_wake_hooks: list[Callable[[], None]] = []


def on_enqueued(hook: Callable[[], None]) -> None:
    """Run `hook` after a transaction that enqueued messages commits (the worker's wake-up)."""
    if hook not in _wake_hooks:
        _wake_hooks.append(hook)


def _after_commit(session: Session) -> None:
    session.info.pop("notify_enqueued", None)
    for hook in _wake_hooks:
        hook()


def _wake_after_commit(session: Session) -> None:
    if not session.info.get("notify_enqueued"):
        session.info["notify_enqueued"] = True
        event.listen(session, "after_commit", _after_commit, once=True)


def _day_start() -> datetime:
    return start_of_day(today())


def _sent_today_by_phone(session: Session, phones: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    since = _day_start()
    for i in range(0, len(phones), 500):
        chunk = phones[i:i + 500]
        rows = session.execute(
            select(_T.c.phone, func.count()).where(
                _T.c.phone.in_(chunk), _T.c.created_at >= since, _T.c.kind != LOGIN_CODE,
                _T.c.status != OutboxStatus.SKIPPED.value,
            ).group_by(_T.c.phone)
        ).all()
        counts.update({phone: int(n) for phone, n in rows})
    return counts


def _sent_today_in_compound(session: Session, compound_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(_T).where(
            _T.c.compound_id == compound_id, _T.c.created_at >= _day_start(),
            _T.c.status != OutboxStatus.SKIPPED.value,
        )
    ).scalar_one())


def opted_out(session: Session, phones: Iterable[str]) -> set[str]:
    wanted = list(set(phones))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        found.update(session.execute(
            select(OptOut.phone).where(OptOut.phone.in_(wanted[i:i + 500]))
        ).scalars())
    return found


@dataclass
class Enqueued:
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason → count

    @property
    def total(self) -> int:
        return self.queued + sum(self.skipped.values())


def enqueue(
    session: Session, *, kind: MessageKind, phone: str, params: dict[str, str],
    compound_id: int | None = None, topic: str = "", skip: str | None = None,
) -> Enqueued:
    """One message; see `enqueue_many`."""
    return enqueue_many(session, kind=kind, phones=[phone], params=params,
                        compound_id=compound_id, topic=topic, skip=skip)


def _plan(
    session: Session, *, kind: MessageKind, phones: list[str], compound_id: int | None,
    skip: str | None,
) -> list[tuple[str, str | None]]:
    """(phone, skip reason or None) for each phone: opted out, over a daily cap, or `skip`."""
    settings = get_settings()
    out = opted_out(session, phones) if kind != LOGIN_CODE and skip is None else set()
    # Login codes are limited by auth's own per-phone and per-address limits; the daily cap is
    # for notifications (and counts only them), so announcements can never lock anyone out.
    per_phone = _sent_today_by_phone(session, phones) if kind != LOGIN_CODE else {}
    compound_room = (
        settings.notify_compound_daily_cap - _sent_today_in_compound(session, compound_id)
        if compound_id is not None else len(phones)
    )
    plan: list[tuple[str, str | None]] = []
    for phone in phones:
        reason: str | None = skip
        if reason:
            pass
        elif phone in out:
            reason = "opted_out"
        elif per_phone.get(phone, 0) >= settings.notify_phone_daily_cap:
            reason = "phone_daily_cap"
        elif compound_room <= 0:
            reason = "compound_daily_cap"
        else:
            compound_room -= 1
        plan.append((phone, reason))
    return plan


def enqueue_many(
    session: Session, *, kind: MessageKind, phones: Iterable[str], params: dict[str, str],
    compound_id: int | None, topic: str = "", skip: str | None = None,
) -> Enqueued:
    """Write one row per phone in the caller's transaction (rolled back with it).

    Phones that opted out (every kind but login codes) and phones or a compound over today's cap
    get a `skipped` row with the reason, so the committee's counts and the owner's list say so.
    `skip` records the rows as skipped for the caller's reason (a login code asked for a phone
    that may not log in takes the same path as any other, and is never sent).
    """
    check_params(kind, params)
    if kind != LOGIN_CODE and compound_id is None:
        raise ValueError("notifications belong to a compound")
    unique = list(dict.fromkeys(phones))
    result = Enqueued()
    if not unique:
        return result
    current = now()
    body = json.dumps(params, ensure_ascii=False, sort_keys=True)
    rows: list[dict[str, Any]] = []
    for phone, reason in _plan(session, kind=kind, phones=unique, compound_id=compound_id,
                               skip=skip):
        if reason is None:
            result.queued += 1
        else:
            result.skipped[reason] = result.skipped.get(reason, 0) + 1
        rows.append({
            "compound_id": compound_id, "kind": kind, "phone": phone,
            # A skipped login code is never sent: it keeps no code.
            "params": body if kind != LOGIN_CODE else _seal(body) if reason is None
            else _blank_code(body),
            "topic": topic, "attempts": 0, "created_at": current, "next_attempt_at": current,
            "status": OutboxStatus.SKIPPED if reason else OutboxStatus.QUEUED,
            "skip_reason": reason, "finished_at": current if reason else None,
        })
    session.execute(_T.insert(), rows)
    if result.queued:
        _wake_after_commit(session)
    if result.skipped:
        log.info("outbox %s: %d queued, skipped %s", kind, result.queued, result.skipped)
    return result


@dataclass(frozen=True)
class Preview:
    messages: int
    recipients: int
    opted_out: int
    over_cap: int
    segments_each: int
    price_fen_each: int
    estimated_cost_fen: int
    text: str


def preview(
    session: Session, *, kind: MessageKind, phones: Iterable[str], params: dict[str, str],
    compound_id: int,
) -> Preview:
    """What `enqueue_many` would do, without writing: counts and the estimated cost."""
    check_params(kind, params)
    unique = list(dict.fromkeys(phones))
    plan = _plan(session, kind=kind, phones=unique, compound_id=compound_id, skip=None)
    sent = sum(1 for _, reason in plan if reason is None)
    text = render(kind, params)
    each = segments(SIGN + text)
    price = get_settings().sms_price_fen
    return Preview(
        messages=sent, recipients=len(unique),
        opted_out=sum(1 for _, reason in plan if reason == "opted_out"),
        over_cap=sum(1 for _, reason in plan if reason in ("phone_daily_cap", "compound_daily_cap")),
        segments_each=each, price_fen_each=price, estimated_cost_fen=sent * each * price, text=text,
    )


def reminded_today(session: Session, *, topic: str) -> bool:
    return session.execute(
        select(ReminderSent.id).where(ReminderSent.topic == topic, ReminderSent.day == today())
    ).first() is not None


def record_reminder(session: Session, *, compound_id: int, topic: str, user_id: int | None) -> None:
    """Claim today's reminder for `topic` (409 if it was sent already today, Asia/Shanghai)."""
    refused = Conflict("今天已发送过投票提醒，每个表决每天最多提醒一次，请明天再试",
                       code="reminder_already_sent_today")
    if reminded_today(session, topic=topic):
        raise refused
    try:
        with session.begin_nested():  # a concurrent reminder of the same day loses on the key
            session.add(ReminderSent(compound_id=compound_id, topic=topic, day=today(),
                                     sent_by=user_id, created_at=now()))
    except IntegrityError as exc:
        raise refused from exc


def set_reminder_count(session: Session, *, topic: str, messages: int) -> None:
    session.execute(update(ReminderSent).where(
        ReminderSent.topic == topic, ReminderSent.day == today()
    ).values(messages=messages))


def _blank_code(params: str) -> str:
    values = _unseal(params)
    if "code" in values:
        values["code"] = ""
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


# A login code waits in the outbox only until it is sent, and even then never in clear: the row is
# written and read through SQL statements that debug logging prints with their parameters, so the
# code's parameters are sealed (AES-GCM, key derived from GONGJUE_SECRET_KEY) and blanked once the
# row is sent or failed.
_SEALED = "sealed:"


def _key() -> bytes:
    return hashlib.sha256(b"gongjue-outbox:" + get_settings().secret_key.encode()).digest()


def _seal(params: str) -> str:
    nonce = secrets.token_bytes(12)
    box = AESGCM(_key()).encrypt(nonce, params.encode(), b"outbox")
    return _SEALED + base64.urlsafe_b64encode(nonce + box).decode()


def _unseal(stored: str) -> dict[str, str]:
    if not stored.startswith(_SEALED):
        return dict(json.loads(stored))
    raw = base64.urlsafe_b64decode(stored[len(_SEALED):])
    return dict(json.loads(AESGCM(_key()).decrypt(raw[:12], raw[12:], b"outbox")))


# --- the provider, and whether login codes can go out now ------------------------------------


def _console_allowed() -> bool:
    # The console provider writes messages (codes included) into the log; in production only
    # the bench's production-like servers (which read codes back from their own log) may use it.
    return get_settings().env != "production" or os.environ.get("GONGJUE_BENCH") == "1"


def ready_provider() -> SmsProvider | None:
    """The provider to deliver with, or None when this deployment must not send (production
    configured with the console or memory provider)."""
    provider = get_provider()
    if provider.name in ("console", "memory") and not _console_allowed():
        return None
    return provider


@dataclass(frozen=True)
class ProviderHealth:
    ok: bool
    reason: str  # "ok", "retry_answers", "stuck_send"


def provider_health(session: Session) -> ProviderHealth:
    """Is the provider answering? Read from the outbox, so every server process agrees.

    Open (not ok) when the last `notify_breaker_failures` answers in the window were all
    retryable failures (time-outs, throttling, 5xx), or a send has been waiting on the provider
    longer than the bounded wait with no success since it began. Permanent failures (an invalid
    number) say nothing about the provider and are not counted. It depends on deliveries only,
    never on the phone asking.
    """
    settings = get_settings()
    current = now()
    since = current - timedelta(seconds=settings.notify_breaker_window_seconds)
    outcomes = list(session.execute(
        select(_T.c.last_outcome).where(
            _T.c.last_attempt_at >= since, _T.c.last_outcome.in_(("sent", "retry"))
        ).order_by(_T.c.last_attempt_at.desc(), _T.c.id.desc()).limit(settings.notify_breaker_failures)
    ).scalars())
    if len(outcomes) >= settings.notify_breaker_failures and all(o == "retry" for o in outcomes):
        return ProviderHealth(False, "retry_answers")
    stuck_since = session.execute(
        select(func.min(_T.c.claimed_at)).where(
            _T.c.status == OutboxStatus.SENDING.value,
            _T.c.claimed_at < current - timedelta(seconds=settings.notify_send_bound_seconds),
            _T.c.lease_until > current,
        )
    ).scalar_one()
    if stuck_since is not None:
        answered_since = session.execute(
            select(func.count()).select_from(_T).where(
                _T.c.last_outcome == "sent", _T.c.last_attempt_at > stuck_since
            )
        ).scalar_one()
        if not answered_since:
            return ProviderHealth(False, "stuck_send")
    return ProviderHealth(True, "ok")


def ensure_provider_ready(session: Session) -> None:
    """Refuse a login-code request, for every phone alike, when codes cannot go out now."""
    if ready_provider() is None:
        raise ServiceUnavailable("短信服务尚未配置，暂时无法发送验证码，请联系业委会",
                                 code="otp_sender_unconfigured")
    if not provider_health(session).ok:
        raise ServiceUnavailable("短信服务暂时故障，验证码暂时无法发送，请稍后再试",
                                 code="sms_unavailable")


# --- claim, deliver, record ----------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    kind: MessageKind
    phone: str
    params: dict[str, str]
    created_at: datetime
    attempts: int


def _due(current: datetime) -> Any:
    return or_(
        and_(_T.c.status == OutboxStatus.QUEUED.value, _T.c.next_attempt_at <= current),
        and_(_T.c.status == OutboxStatus.SENDING.value, _T.c.lease_until < current),
    )


def claim_batch(limit: int | None = None) -> list[Claimed]:
    """Claim up to `limit` due rows in a transaction of their own; no two claimers get one row.

    PostgreSQL: the due rows are locked with FOR UPDATE SKIP LOCKED (another worker skips them)
    and marked `sending` with a fresh token and lease. SQLite: one writer at a time, and each row
    is taken by a conditional UPDATE that only succeeds while it is still due.
    """
    settings = get_settings()
    limit = limit or settings.notify_batch_size
    token = secrets.token_hex(16)
    current = now()
    lease = current + timedelta(seconds=settings.notify_lease_seconds)
    claim_values = {
        "status": OutboxStatus.SENDING, "claim_token": token, "claimed_at": current,
        "lease_until": lease, "attempts": _T.c.attempts + 1,
    }
    with transaction() as session:
        # Login codes first: someone is waiting at the login screen, and a burst of
        # announcements (a ballot opening to thousands) must not queue ahead of them.
        candidates = select(_T.c.id).where(_due(current)).order_by(
            case((_T.c.kind == LOGIN_CODE, 0), else_=1), _T.c.next_attempt_at, _T.c.id
        ).limit(limit)
        if is_postgres(session):
            ids = list(session.execute(candidates.with_for_update(skip_locked=True)).scalars())
            if ids:
                session.execute(update(_T).where(_T.c.id.in_(ids)).values(**claim_values))
        else:
            ids = []
            for row_id in session.execute(candidates).scalars():
                taken = session.execute(
                    update(_T).where(_T.c.id == row_id, _due(current)).values(**claim_values)
                )
                if taken.rowcount == 1:
                    ids.append(row_id)
        if not ids:
            return []
        rows = session.execute(
            select(_T.c.id, _T.c.kind, _T.c.phone, _T.c.params, _T.c.created_at, _T.c.attempts)
            .where(_T.c.id.in_(ids), _T.c.claim_token == token)
            .order_by(case((_T.c.kind == LOGIN_CODE, 0), else_=1), _T.c.id)
        ).all()
    return [Claimed(r.id, token, r.kind, r.phone, _unseal(r.params), r.created_at, r.attempts)
            for r in rows]


def _backoff(attempts: int) -> timedelta:
    base = get_settings().notify_backoff_seconds
    return timedelta(seconds=min(3600, base * 2 ** max(0, attempts - 1)))


def record_outcome(claimed: Claimed, result: SendResult) -> str:
    """Store the provider's answer under the claim's token; returns the row's new status."""
    settings = get_settings()
    current = now()
    values: dict[str, Any] = {
        "last_attempt_at": current, "last_outcome": result.outcome, "provider": result.provider,
        "provider_code": (result.code or "")[:80] or None,
        "detail": (result.detail or "")[:300] or None, "claim_token": None, "lease_until": None,
    }
    if result.message_id:
        values["provider_message_id"] = result.message_id[:80]
    if result.outcome == "sent":
        status = OutboxStatus.SENT
    elif result.outcome == "retry" and claimed.attempts < settings.notify_max_attempts:
        status = OutboxStatus.QUEUED
        values["next_attempt_at"] = current + _backoff(claimed.attempts)
    else:
        status = OutboxStatus.FAILED
    values["status"] = status
    if status is not OutboxStatus.QUEUED:
        values["finished_at"] = current
        if claimed.kind == LOGIN_CODE:  # the code has done its work: keep no usable copy
            values["params"] = _blank_code(json.dumps(claimed.params, sort_keys=True))
    with transaction() as session:
        session.execute(
            update(_T).where(_T.c.id == claimed.id, _T.c.claim_token == claimed.token).values(**values)
        )
    return status.value


def deliver_claimed(claimed: Claimed, provider: SmsProvider) -> str:
    settings = get_settings()
    if claimed.kind == LOGIN_CODE and now() - claimed.created_at > timedelta(
        seconds=settings.otp_ttl_seconds
    ):
        return record_outcome(claimed, SendResult("failed", provider.name, code="expired",
                                                  detail="验证码已过期，未再发送"))
    if claimed.attempts > settings.notify_max_attempts:  # re-claimed after its worker died
        return record_outcome(claimed, SendResult("failed", provider.name, code="max_attempts",
                                                  detail="重试次数已用完"))
    try:
        result = provider.send(Outgoing(claimed.phone, claimed.kind, claimed.params))
    except Exception as exc:  # providers should not raise; treat it as a transient failure
        log.exception("provider %s raised for %s", provider.name, mask_phone(claimed.phone))
        result = SendResult("retry", provider.name, code=type(exc).__name__, detail=str(exc)[:200])
    return record_outcome(claimed, result)


@dataclass
class DeliveryReport:
    claimed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def deliver_once(limit: int | None = None) -> DeliveryReport:
    """One pass: claim a batch and send it. Nothing is claimed when sending is not allowed."""
    report = DeliveryReport()
    provider = ready_provider()
    if provider is None:
        return report
    batch = claim_batch(limit)
    report.claimed = len(batch)
    for claimed in batch:
        status = deliver_claimed(claimed, provider)
        report.by_status[status] = report.by_status.get(status, 0) + 1
    return report


def deliver_due() -> DeliveryReport:
    """Passes until nothing due is left (retries waiting for their backoff stay queued)."""
    total = DeliveryReport()
    while True:
        report = deliver_once()
        if not report.claimed:
            return total
        total.claimed += report.claimed
        for status, n in report.by_status.items():
            total.by_status[status] = total.by_status.get(status, 0) + n


# --- what owners and the committee read ----------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    id: int
    kind: str
    text: str
    created_at: datetime
    status: OutboxStatus
    finished_at: datetime | None


def messages_to(session: Session, *, phone: str, limit: int = 100) -> list[SentMessage]:
    """What was sent (or tried) to this phone, newest first; login codes shown without code."""
    rows = session.execute(
        select(OutboxMessage).where(OutboxMessage.phone == phone)
        .order_by(OutboxMessage.id.desc()).limit(limit)
    ).scalars()
    out = []
    for m in rows:
        params = {"code": "******"} if m.kind == LOGIN_CODE else _unseal(m.params)
        assert m.id is not None
        out.append(SentMessage(m.id, m.kind, render(m.kind, params),
                               m.created_at, m.status, m.finished_at))
    return out


def is_opted_out(session: Session, *, phone: str) -> bool:
    return session.get(OptOut, phone) is not None


def set_opt_out(session: Session, *, phone: str, opted_out: bool) -> None:
    row = session.get(OptOut, phone)
    if opted_out and row is None:
        session.add(OptOut(phone=phone, created_at=now()))
    elif not opted_out and row is not None:
        session.delete(row)
    session.flush()


def counts_by_status(session: Session, *, compound_id: int, topic: str) -> dict[str, int]:
    rows = session.execute(
        select(_T.c.status, func.count()).where(
            _T.c.compound_id == compound_id, _T.c.topic == topic
        ).group_by(_T.c.status)
    ).all()
    counts = {s.value: 0 for s in OutboxStatus}
    for status, n in rows:
        counts[str(status.value if isinstance(status, OutboxStatus) else status)] = int(n)
    return counts


def segments(text: str) -> int:
    """SMS billed: up to 70 characters is one message, longer ones count as several."""
    return max(1, -(-len(text) // SMS_CHARS))
