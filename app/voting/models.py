"""Ballot tables. Lifecycle as timestamps; every cast vote is kept, superseded ones marked."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, Column, Index, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime, str_enum


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Channel(StrEnum):
    ONLINE = "online"
    PROXY = "proxy"
    PAPER = "paper"


CHANNEL_LABELS = {Channel.ONLINE: "线上投票", Channel.PROXY: "委托投票", Channel.PAPER: "书面表决票"}


class VotingSetting(SQLModel, table=True):
    """A compound's own rules (议事规则); never laxer than the law."""

    __tablename__ = "voting_setting"

    compound_id: int = Field(foreign_key="compound.id", primary_key=True)
    notice_days: int = 15
    min_voting_days: int = 5
    max_voting_days: int = 60
    objection_days: int = 3
    proxy_limit: int = 3
    publish_unit_record: bool = False
    thresholds_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Ballot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    scope_building_ids: str = Field(default="[]", max_length=2000)  # JSON; [] = whole compound
    # JSON [{building_id, entrance}]: entrances (单元) in scope besides the whole buildings above;
    # both empty = the whole compound (app.roster.scope.Scope)
    scope_entrances: str = Field(default="[]", max_length=2000, sa_column_kwargs={"server_default": "[]"})
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    notice_id: int | None = Field(default=None, foreign_key="notice.id")
    noticed_at: datetime | None = _ts()
    opened_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    tallied_at: datetime | None = _ts()
    objection_ends_at: datetime | None = _ts()
    published_at: datetime | None = _ts()
    preliminary_notice_id: int | None = Field(default=None, foreign_key="notice.id")
    result_notice_id: int | None = Field(default=None, foreign_key="notice.id")
    total_area_hundredths: int | None = None  # frozen when the ballot opens
    total_headcount: int | None = None
    settings_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closing_seq: int | None = None
    closing_hash: str | None = Field(default=None, max_length=64)
    closing_checkpoint_id: int | None = Field(default=None, foreign_key="audit_checkpoint.id")
    publish_checkpoint_id: int | None = Field(default=None, foreign_key="audit_checkpoint.id")
    # Withdrawn: a draft deleted before any notice (kept, hidden, audited); a noticed or open ballot
    # cancelled with a published notice stating the reason (its votes kept, never counted).
    deleted_at: datetime | None = _ts()
    cancelled_at: datetime | None = _ts()
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cancel_notice_id: int | None = Field(default=None, foreign_key="notice.id")
    # The latest postponement: the voting period moved later by a published notice with the reason.
    postponed_at: datetime | None = _ts()
    postpone_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    postpone_notice_id: int | None = Field(default=None, foreign_key="notice.id")
    # Why the scheduler could not open or close the ballot by itself (recorded once, shown to the
    # committee); cleared when it succeeds or the ballot is postponed.
    schedule_problem: str | None = Field(default=None, max_length=1000)
    schedule_problem_at: datetime | None = _ts()


class BallotMatter(SQLModel, table=True):
    __tablename__ = "ballot_matter"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    position: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: str = Field(max_length=20)  # app.voting.rules.Category value
    seats: int | None = None  # elections
    affected_building_ids: str = Field(default="[]", max_length=2000)  # Art. 279
    # Art. 279 by entrance (单元): JSON [{building_id, entrance}]
    affected_entrances: str = Field(default="[]", max_length=2000, sa_column_kwargs={"server_default": "[]"})
    document_file_ids: str = Field(default="[]", max_length=2000)


class BallotCandidate(SQLModel, table=True):
    __tablename__ = "ballot_candidate"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    matter_id: int = Field(foreign_key="ballot_matter.id", index=True)
    position: int
    name: str = Field(max_length=50)
    intro: str = Field(default="", max_length=1000)


class BallotSubject(SQLModel, table=True):
    """The roster frozen into a ballot when it opens, with the subject's current vote."""

    __tablename__ = "ballot_subject"
    __table_args__ = (Index("ix_ballot_subject_compound_ballot", "compound_id", "ballot_id"),)

    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    subject_id: int = Field(primary_key=True)  # id of the roster subject at opening (no FK)
    compound_id: int = Field(foreign_key="compound.id")
    area_hundredths: int
    label: str = Field(max_length=300)  # 1栋1单元101、… (no names)
    building_ids: str = Field(max_length=500)  # JSON
    # JSON [[building id, entrance], ...] of its units in the ballot's scope (Art. 279 by entrance)
    places: str = Field(default="[]", max_length=2000, sa_column_kwargs={"server_default": "[]"})
    is_developer: bool = False
    effective_cast_id: int | None = None
    effective_channel: str | None = Field(default=None, max_length=10)
    first_voted_at: datetime | None = _ts()
    # The per-subject submission limit (GONGJUE_VOTES_PER_SUBJECT_PER_MINUTE): submissions since
    # the window started, kept on the row every vote locks and updates anyway, so the limit
    # costs no statement and holds exactly across server processes.
    window_started_at: datetime | None = _ts()
    window_submissions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class BallotVoter(SQLModel, table=True):
    """Who may vote for a frozen subject: its owners' phones, and who represents co-owners."""

    __tablename__ = "ballot_voter"
    __table_args__ = (Index("ix_ballot_voter_ballot_phone", "ballot_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    subject_id: int
    owner_id: int
    phone: str | None = Field(default=None, max_length=20)
    is_representative: bool = False


class VoteCast(SQLModel, table=True):
    """One submitted vote (all matters of a ballot) for one subject; never deleted."""

    __tablename__ = "vote_cast"
    __table_args__ = (
        Index("ix_vote_cast_ballot_subject", "ballot_id", "subject_id"),
        UniqueConstraint("receipt_code"),
        # The short code owners keep (casting.short_receipt_code) is unique within its ballot.
        UniqueConstraint("ballot_id", "receipt_short", name="uq_vote_cast_ballot_receipt_short"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    subject_id: int
    channel: Channel = Field(sa_type=str_enum(Channel))
    cast_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cast_by: int | None = Field(default=None, foreign_key="user_account.id")
    proxy_id: int | None = Field(default=None, foreign_key="proxy_authorization.id")
    paper_entry_id: int | None = Field(default=None, foreign_key="paper_entry.id")
    choices_json: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    nonce: str = Field(max_length=32)
    commitment: str = Field(max_length=64)  # SHA-256 of the choices and nonce (in the audit chain)
    receipt_code: str = Field(max_length=32)
    receipt_short: str = Field(max_length=10)  # derived from receipt_code: the code owners keep
    audit_seq: int | None = None
    audit_hash: str | None = Field(default=None, max_length=64)
    superseded_at: datetime | None = _ts()
    superseded_by_id: int | None = None


class EffectiveChoice(SQLModel, table=True):
    """The current choice of each subject on each matter, kept for set-based tallies."""

    __tablename__ = "effective_choice"
    __table_args__ = (Index("ix_effective_choice_ballot_matter", "ballot_id", "matter_id"),)

    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    matter_id: int = Field(foreign_key="ballot_matter.id", primary_key=True)
    subject_id: int = Field(primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    choice: str = Field(max_length=10)  # agree / oppose / abstain / invalid


class EffectiveApproval(SQLModel, table=True):
    """Candidates approved by each subject's current vote in an election."""

    __tablename__ = "effective_approval"

    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    matter_id: int = Field(foreign_key="ballot_matter.id", primary_key=True)
    subject_id: int = Field(primary_key=True)
    candidate_id: int = Field(foreign_key="ballot_candidate.id", primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)


class ProxyAuthorization(SQLModel, table=True):
    """A written authorization (委托书) for one ballot, accepted by the committee."""

    __tablename__ = "proxy_authorization"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    subject_id: int
    proxy_name: str = Field(max_length=50)
    proxy_phone: str = Field(max_length=20)
    document_file_id: int = Field(foreign_key="stored_file.id")
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    # The role the filer acted in: "owner" (for their own flat) or "committee" (on an owner's
    # behalf); None on authorizations filed before it was recorded.
    submitted_role: str | None = Field(default=None, max_length=20)
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    accepted_by: int | None = Field(default=None, foreign_key="user_account.id")
    accepted_at: datetime | None = _ts()
    rejected_by: int | None = Field(default=None, foreign_key="user_account.id")
    rejected_at: datetime | None = _ts()
    rejection_reason: str = Field(default="", max_length=500)


class PaperEntry(SQLModel, table=True):
    """A paper ballot typed in by one committee member and confirmed by a second."""

    __tablename__ = "paper_entry"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    subject_id: int
    choices_json: str = Field(sa_column=Column(Text, nullable=False))
    scan_file_id: int = Field(foreign_key="stored_file.id")
    entered_by: int = Field(foreign_key="user_account.id")
    entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_by: int | None = Field(default=None, foreign_key="user_account.id")
    confirmed_at: datetime | None = _ts()
    rejected_by: int | None = Field(default=None, foreign_key="user_account.id")
    rejected_at: datetime | None = _ts()
    rejection_reason: str = Field(default="", max_length=500)
    cast_id: int | None = None


class VoteConflict(SQLModel, table=True):
    """A second-channel vote for a subject that already voted, held for the committee."""

    __tablename__ = "vote_conflict"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    subject_id: int
    existing_cast_id: int
    incoming_channel: Channel = Field(sa_type=str_enum(Channel))
    incoming_choices_json: str = Field(sa_column=Column(Text, nullable=False))
    incoming_by: int | None = Field(default=None, foreign_key="user_account.id")
    incoming_proxy_id: int | None = None
    incoming_paper_entry_id: int | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    resolved_at: datetime | None = _ts()
    resolved_by: int | None = Field(default=None, foreign_key="user_account.id")
    resolution: str | None = Field(default=None, max_length=20)  # keep_existing / accept_incoming
    note: str = Field(default="", max_length=1000)


class BallotResult(SQLModel, table=True):
    """The computed result of one matter, as canonical JSON, fixed at tallying."""

    __tablename__ = "ballot_result"

    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    matter_id: int = Field(foreign_key="ballot_matter.id", primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    passed: bool | None = None  # None for surveys
    result_json: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BallotObjection(SQLModel, table=True):
    """An owner's objection (询异) during the window, answered by the committee on record."""

    __tablename__ = "ballot_objection"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    subject_id: int
    raised_by: int = Field(foreign_key="user_account.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    raised_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: int | None = Field(default=None, foreign_key="user_account.id")
    answered_at: datetime | None = _ts()


# PostgreSQL: a vote re-reads its ballot's close inside the statement that appends its audit
# event, after that statement was granted the compound's chain lock (audit.service). VOLATILE and
# PL/pgSQL (never inlined), so its query takes a fresh snapshot when it runs and sees a close that
# committed while the vote waited. Created with the tables (tests, bench) and by migration 9f4b8ec3e125.
BALLOT_CLOSED_AT_FUNCTION = """
CREATE OR REPLACE FUNCTION gongjue_ballot_closed_at(p_ballot integer)
RETURNS timestamp with time zone LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT closed_at FROM ballot WHERE id = p_ballot);
END
$$
"""
event.listen(Ballot.__table__, "after_create",
             DDL(BALLOT_CLOSED_AT_FUNCTION).execute_if(dialect="postgresql"))
