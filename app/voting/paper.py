"""Paper ballots door to door: the serial printed on each ballot, what a subject's standing is
before a member types a paper ballot in, and the worklist of flats that have not voted (扫楼).

A serial names a ballot and one of its voting subjects, with a check code keyed by the server's
secret: `B12-S345-K7QM2X`. Knowing one serial (printed on a flat's ballot, pinned at its door)
does not give another flat's or another ballot's: the check code of any other pair is unknown
without the key, and a serial of another ballot is refused in this one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from app import timefmt
from app.config import get_settings
from app.errors import Conflict, Invalid, NotFound
from app.privacy import mask_name, mask_phone
from app.roster import service as roster_service
from app.voting import service
from app.voting.models import (
    CHANNEL_LABELS,
    Ballot,
    BallotCandidate,
    BallotMatter,
    BallotSubject,
    Channel,
    PaperEntry,
    VoteCast,
    VoteConflict,
)

# Crockford's base32: no I, L, O or U, so a typed serial cannot mix up 1/I/L or 0/O.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_LENGTH = 6  # 30 bits: one guess in a billion names another flat
_SERIAL = re.compile(rf"B(\d{{1,9}})-?S(\d{{1,9}})-?([0-9A-Z]{{{CHECK_LENGTH}}})(?![0-9A-Z])")
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _check_code(compound_id: int, ballot_id: int, subject_id: int) -> str:
    key = get_settings().secret_key.encode()
    message = f"gongjue/paper-serial/1:{compound_id}:{ballot_id}:{subject_id}".encode()
    number = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:8], "big")
    return "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(CHECK_LENGTH))


def serial_of(*, compound_id: int, ballot_id: int, subject_id: int) -> str:
    """The serial printed on a subject's paper ballot (and in its QR code)."""
    return f"B{ballot_id}-S{subject_id}-{_check_code(compound_id, ballot_id, subject_id)}"


class SerialInvalid(Invalid):
    code = "paper_serial_invalid"


class SerialOtherBallot(Conflict):
    code = "paper_serial_other_ballot"


def parse_serial(text: str, *, ballot: Ballot) -> int:
    """The subject id a typed, pasted or scanned serial names in this ballot. Spaces, case and
    the letters O/I/L typed for 0/1 are forgiven; a wrong check code, a serial of another
    ballot, or a subject not in this ballot are refused."""
    cleaned = re.sub(r"[\s\u3000]", "", text or "").upper()
    match = _SERIAL.search(cleaned)
    if match is None:
        raise SerialInvalid("表决票编号格式不正确，应形如 B12-S345-K7QM2X", code="paper_serial_invalid")
    ballot_id, subject_id = int(match.group(1)), int(match.group(2))
    check = match.group(3).translate(_TYPED)  # look-alike letters mended in the check code only
    # A serial of another ballot is told apart only when its own check code is right, so the
    # answer never confirms a guessed pair.
    if not hmac.compare_digest(check, _check_code(ballot.compound_id, ballot_id, subject_id)):
        raise SerialInvalid("表决票编号校验不符，请核对后重新输入", code="paper_serial_invalid")
    if ballot_id != ballot.id:
        raise SerialOtherBallot(f"该表决票属于另一次表决（编号 {ballot_id}），不能在本次表决中录入",
                                code="paper_serial_other_ballot")
    return subject_id


def subject_of_serial(session: Session, *, ballot: Ballot, text: str) -> int:
    """parse_serial, and the subject must be one of this ballot's."""
    subject_id = parse_serial(text, ballot=ballot)
    _subject(session, ballot=ballot, subject_id=subject_id)
    return subject_id


def _subject(session: Session, *, ballot: Ballot, subject_id: int) -> BallotSubject:
    subject = session.get(BallotSubject, (ballot.id, subject_id))
    if subject is None or subject.compound_id != ballot.compound_id:
        raise NotFound("本次表决没有该表决户", code="subject_not_in_ballot")
    return subject


# --- the standing of a subject, shown before a paper ballot is typed in ------------------------


@dataclass(frozen=True)
class Standing:
    subject_id: int
    label: str
    area_hundredths: int
    serial: str
    voted: bool
    channel: str | None
    channel_label: str
    voted_at: datetime | None
    pending_paper: int  # paper ballots typed in, not yet confirmed or returned
    open_conflicts: int
    outcome: str  # what confirming a paper ballot for this subject will do
    warning: bool


def standing(session: Session, *, ballot: Ballot, subject_id: int) -> Standing:
    """Whether the subject already has a vote (online, proxy, a confirmed paper ballot) or a
    paper ballot waiting for its second member, and what a new paper entry would then do."""
    if ballot.opened_at is None:
        raise Conflict("开始投票后才能录入书面表决票", code="ballot_not_open")
    subject = _subject(session, ballot=ballot, subject_id=subject_id)
    pending = session.execute(
        select(func.count()).select_from(PaperEntry).where(
            PaperEntry.ballot_id == ballot.id, PaperEntry.subject_id == subject_id,
            PaperEntry.confirmed_at.is_(None), PaperEntry.rejected_at.is_(None))
    ).scalar_one()
    conflicts = session.execute(
        select(func.count()).select_from(VoteConflict).where(
            VoteConflict.ballot_id == ballot.id, VoteConflict.subject_id == subject_id,
            VoteConflict.resolved_at.is_(None))
    ).scalar_one()
    channel = subject.effective_channel
    voted_at = None
    if subject.effective_cast_id is not None:
        voted_at = session.execute(
            select(VoteCast.cast_at).where(VoteCast.id == subject.effective_cast_id)).scalar_one_or_none()
    label = CHANNEL_LABELS.get(Channel(channel), "其他方式") if channel else ""
    if channel:
        when = f"已于{timefmt.format_moment(voted_at)}" if voted_at else "已"
        outcome = (f"该户{when}通过{label}表决，每户只有一票有效。本票录入后，另一名委员确认时不会计入，"
                   "而是记为冲突，由业委会在“冲突”中核实后决定保留原投票或改以本书面票为准。")
    elif pending:
        outcome = (f"该户已有 {pending} 张书面表决票待另一名委员复核。若两张都被确认，先确认的一张计入，"
                   "后确认的一张记为冲突，由业委会核实处理；如是同一张票，请勿重复录入。")
    else:
        outcome = "该户尚未投票。本票录入后，经另一名委员核对扫描件确认即计入。"
    if conflicts:
        outcome += f"该户另有 {conflicts} 条冲突待处理。"
    return Standing(
        subject_id=subject_id, label=subject.label, area_hundredths=subject.area_hundredths,
        serial=serial_of(compound_id=ballot.compound_id, ballot_id=ballot.id or 0, subject_id=subject_id),
        voted=channel is not None, channel=channel, channel_label=label, voted_at=voted_at,
        pending_paper=pending, open_conflicts=conflicts, outcome=outcome,
        warning=bool(channel or pending or conflicts),
    )


# --- what the paper ballots print ---------------------------------------------------------------


@dataclass(frozen=True)
class PrintedMatter:
    position: int
    title: str
    is_election: bool
    seats: int | None
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class PrintedSubject:
    subject_id: int
    label: str
    area_hundredths: int
    serial: str


@dataclass(frozen=True)
class PaperBallots:
    """Everything the paper ballots of one ballot print, resolved from the database."""

    compound_name: str
    ballot_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    matters: tuple[PrintedMatter, ...]
    subjects: tuple[PrintedSubject, ...]

    def version(self) -> str:
        """The fingerprint of everything printed: a kept print is reused only while it holds."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()


def _require_frozen(ballot: Ballot) -> None:
    # The subjects and their areas are frozen when voting opens; before that there is nothing
    # fixed to print, and after closing a paper ballot can no longer be entered.
    if ballot.opened_at is None:
        raise Conflict("开始投票后（名册冻结时）才能打印书面表决票", code="paper_print_not_open")
    if ballot.closed_at is not None:
        raise Conflict("表决已结束，不能再打印书面表决票", code="paper_print_closed")


def paper_ballots(session: Session, *, ballot: Ballot) -> PaperBallots:
    _require_frozen(ballot)
    compound = roster_service.get_compound(session, compound_id=ballot.compound_id)
    matters = session.execute(
        select(BallotMatter).where(BallotMatter.ballot_id == ballot.id).order_by(BallotMatter.position)
    ).scalars().all()
    candidates: dict[int, list[BallotCandidate]] = service.candidates_by_matter(session, ballot_id=ballot.id or 0)
    subjects = session.execute(
        select(BallotSubject).where(BallotSubject.ballot_id == ballot.id).order_by(BallotSubject.subject_id)
    ).scalars().all()
    return PaperBallots(
        compound_name=compound.name, ballot_id=ballot.id or 0, title=ballot.title,
        starts_at=ballot.starts_at, ends_at=ballot.ends_at,
        matters=tuple(
            PrintedMatter(position=m.position, title=m.title, is_election=m.seats is not None,
                          seats=m.seats, candidates=tuple(c.name for c in candidates.get(m.id or 0, [])))
            for m in matters),
        subjects=tuple(_ordered_subjects(session, ballot, subjects)),
    )


def _ordered_subjects(session: Session, ballot: Ballot, subjects: list[BallotSubject]) -> list[PrintedSubject]:
    """By building, entrance and room of the subject's first unit (the order a visitor walks),
    subjects the roster no longer places last."""
    place: dict[int, int] = {}
    for i, unit in enumerate(roster_service.subject_units(
            session, compound_id=ballot.compound_id, subject_ids=[s.subject_id for s in subjects])):
        place.setdefault(unit.subject_id, i)
    ordered = sorted(subjects, key=lambda s: (place.get(s.subject_id, len(place)), s.subject_id))
    return [PrintedSubject(subject_id=s.subject_id, label=s.label, area_hundredths=s.area_hundredths,
                           serial=serial_of(compound_id=ballot.compound_id, ballot_id=ballot.id or 0,
                                            subject_id=s.subject_id))
            for s in ordered]


# --- the door-to-door worklist (扫楼) ----------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    building: str
    entrance: str
    room: str
    subject_label: str
    area_hundredths: int  # the subject's frozen area (what its vote weighs)
    owners: str  # masked names: 张**、李**
    phones: str  # masked phones: 139****0001
    serial: str
    note: str


@dataclass(frozen=True)
class WorklistGroup:
    building: str
    entrance: str
    rows: tuple[WorklistRow, ...]


@dataclass(frozen=True)
class Worklist:
    compound_name: str
    ballot_id: int
    title: str
    ends_at: datetime
    made_at: datetime
    subject_count: int
    groups: tuple[WorklistGroup, ...]


def worklist(session: Session, *, ballot: Ballot, at: datetime) -> Worklist:
    """The flats of every subject that has not voted, by building, then entrance, then room.

    Owners' names and phones are masked (张**, 139****0001): the sheet is printed and carried
    from door to door, where the owner is met in person; the full numbers stay on screen-only
    records. A subject with several flats is listed at each of them; a paper ballot typed in
    and waiting for its second member is noted."""
    if ballot.opened_at is None:
        raise Conflict("开始投票后才有未投票户名单", code="ballot_not_open")
    subjects = {s.subject_id: s for s in session.execute(
        select(BallotSubject).where(BallotSubject.ballot_id == ballot.id,
                                    BallotSubject.effective_cast_id.is_(None))).scalars()}
    pending = set(session.execute(
        select(PaperEntry.subject_id).where(
            PaperEntry.ballot_id == ballot.id, PaperEntry.confirmed_at.is_(None),
            PaperEntry.rejected_at.is_(None))).scalars())
    groups: dict[tuple[str, str], list[WorklistRow]] = defaultdict(list)
    order: list[tuple[str, str]] = []
    placed: set[int] = set()

    def row(s: BallotSubject, building: str, entrance: str, room: str, names: tuple[str, ...],
            phones: tuple[str, ...]) -> WorklistRow:
        notes = []
        if s.is_developer:
            notes.append("开发建设单位")
        if s.subject_id in pending:
            notes.append("书面票待复核")
        return WorklistRow(
            building=building, entrance=entrance, room=room, subject_label=s.label,
            area_hundredths=s.area_hundredths, owners="、".join(mask_name(n) for n in names),
            phones="、".join(mask_phone(p) for p in phones),
            serial=serial_of(compound_id=ballot.compound_id, ballot_id=ballot.id or 0,
                             subject_id=s.subject_id),
            note="；".join(notes))

    for unit in roster_service.subject_units(session, compound_id=ballot.compound_id,
                                             subject_ids=list(subjects)):
        key = (unit.building, unit.entrance)
        if key not in groups:
            order.append(key)
        groups[key].append(row(subjects[unit.subject_id], unit.building, unit.entrance, unit.room,
                               unit.owner_names, unit.owner_phones))
        placed.add(unit.subject_id)
    # Subjects the roster no longer holds (changed since opening): listed by their frozen label.
    for sid in sorted(set(subjects) - placed):
        key = ("名册已变更的表决户", "")
        if key not in groups:
            order.append(key)
        groups[key].append(row(subjects[sid], key[0], "", subjects[sid].label, (), ()))
    return Worklist(
        compound_name=roster_service.get_compound(session, compound_id=ballot.compound_id).name,
        ballot_id=ballot.id or 0, title=ballot.title, ends_at=ballot.ends_at, made_at=at,
        subject_count=len(subjects),
        groups=tuple(WorklistGroup(building=b, entrance=e, rows=tuple(groups[(b, e)])) for b, e in order),
    )
