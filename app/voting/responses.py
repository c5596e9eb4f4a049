"""Response shapes of the voting API: the contract each route in app/voting/router.py declares.

The presenters (app/voting/views.py and the read functions of app/voting/results.py) build these
from the models; the models refuse a key they do not declare (`extra="forbid"`), so a presenter
and its contract cannot drift apart silently. Names start with Ballot/Vote/Voting so that they
stay unique among the application's OpenAPI schemas.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from app.roster.schemas import EntranceOut
from app.schemas import DatetimeOut, OutputModel

# Times go out as `datetime.isoformat()` ("+00:00"), as the untyped responses always sent them.
Instant = DatetimeOut


class Out(OutputModel):
    """Base of the voting responses: every key the presenter sends is declared here."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- rules ------------------------------------------------------------------------------------


class VotingThresholdsOut(Out):
    quorum: str = Field(examples=[">=2/3"])
    simple_majority: str = Field(examples=[">1/2"])
    special_majority: str = Field(examples=[">=3/4"])


class BallotRulesOut(Out):
    """The rules one ballot is decided by (frozen at its notice)."""

    notice_days: int
    min_voting_days: int
    max_voting_days: int
    objection_days: int
    proxy_limit: int
    publish_unit_record: bool
    thresholds: dict[str, str]


class BallotFrozenRulesOut(BallotRulesOut):
    frozen: bool = Field(description="false for a draft: it follows the compound's current rules")


class VotingRunningBallotOut(Out):
    id: int
    title: str
    status: str
    status_label: str
    noticed_at: Instant | None
    rules_differ: bool
    rules: BallotRulesOut


class VotingSettingsOut(Out):
    notice_days: int
    min_voting_days: int
    max_voting_days: int
    objection_days: int
    proxy_limit: int
    publish_unit_record: bool
    thresholds: VotingThresholdsOut
    running_ballots: list[VotingRunningBallotOut]
    applies_to_note: str


# --- ballots ----------------------------------------------------------------------------------


class BallotSummaryOut(Out):
    id: int
    title: str
    status: str
    status_label: str
    starts_at: Instant
    ends_at: Instant
    noticed_at: Instant | None
    opened_at: Instant | None
    closed_at: Instant | None
    tallied_at: Instant | None
    objection_ends_at: Instant | None
    published_at: Instant | None
    notice_id: int | None
    preliminary_notice_id: int | None
    result_notice_id: int | None
    scope_building_ids: list[int] = Field(description="whole buildings in scope; with no entrances either: the whole compound")
    scope_entrances: list[EntranceOut] = Field(description="entrances (单元) in scope besides the whole buildings")
    scope_label: str = Field(description="the scope in words: 全体业主, or 3号楼2单元、5号楼")
    cancelled_at: Instant | None = None
    cancel_reason: str | None = None
    cancel_notice_id: int | None = None
    postponed_at: Instant | None = None
    postpone_reason: str | None = None
    postpone_notice_id: int | None = None


class BallotCandidateOut(Out):
    id: int
    name: str
    intro: str


class BallotDocumentOut(Out):
    id: int
    file_name: str
    content_type: str
    size_bytes: int


class BallotMatterOut(Out):
    id: int
    position: int
    title: str
    description: str
    category: str
    category_label: str
    needs_special_majority: bool
    seats: int | None
    candidates: list[BallotCandidateOut]
    affected_building_ids: list[int]
    affected_entrances: list[EntranceOut]
    document_file_ids: list[int]
    documents: list[BallotDocumentOut]
    rule_text: str = Field(description="the rule applied to this matter, from the ballot's frozen thresholds")


class BallotMySubjectOut(Out):
    subject_id: int
    label: str
    as_: Literal["owner", "co_owner", "proxy"] = Field(alias="as")
    may_vote: bool
    voted: bool
    voted_channel: str | None


class BallotReviewOut(Out):
    """A matter that needs the compound's procedure review (三议一审), and where it stands."""

    matter_id: int
    position: int
    matter_title: str
    major_label: str = Field(description="the major-matter type it falls under, empty if only linked")
    item_id: int | None
    item_title: str
    step_name: str
    item_status_label: str
    state: Literal["approved", "pending", "returned", "rejected", "unlinked"]
    state_label: str
    ready: bool


class BallotDetailOut(BallotSummaryOut):
    description: str
    total_area_hundredths: int | None
    total_headcount: int | None
    rules: BallotFrozenRulesOut
    matters: list[BallotMatterOut]
    my_subjects: list[BallotMySubjectOut]
    can_vote: bool
    # To the committee only (empty/None for others): the matters that need review, and why the
    # scheduler could not open or close the ballot by itself (recorded once).
    review: list[BallotReviewOut] = Field(default_factory=list)
    schedule_problem: str | None = None
    schedule_problem_at: Instant | None = None


# --- votes ------------------------------------------------------------------------------------


class VoteReceiptOut(Out):
    receipt_code: str
    receipt_short: str = Field(description="the short code owners keep, derived from receipt_code",
                               examples=["7KQ4-M2XD-9P"])
    audit_seq: int
    audit_hash: str
    cast_at: str = Field(description="the time as written into the audit event (canonical form)")
    cast_id: int
    channel: str


class VoteChoiceOut(Out):
    matter_id: int
    title: str
    choice: str
    choice_label: str


class VoteApprovalOut(Out):
    matter_id: int
    title: str
    approve: list[int]


class VoteCastRecordOut(Out):
    cast_id: int
    channel: str
    cast_at: Instant
    receipt_code: str
    receipt_short: str = Field(examples=["7KQ4-M2XD-9P"])
    audit_seq: int | None
    audit_hash: str | None
    effective: bool
    choices: list[VoteChoiceOut | VoteApprovalOut]


class VoteSubjectRecordOut(Out):
    """查票: one of the caller's subjects and every vote recorded for it."""

    subject_id: int
    label: str
    is_representative: bool
    casts: list[VoteCastRecordOut]


# --- progress ---------------------------------------------------------------------------------


class BallotRatioOut(Out):
    fraction: str = Field(examples=["2/3"])
    percent: str = Field(examples=["66.67%"])


class BallotBuildingProgressOut(Out):
    building_id: int
    building: str
    subjects: int
    voted: int
    area: int
    voted_area: int
    headcount_ratio: BallotRatioOut | None


class BallotProgressOut(Out):
    ballot_id: int
    total_area_hundredths: int
    total_headcount: int
    voted_area_hundredths: int
    voted_headcount: int
    area_ratio: BallotRatioOut | None
    headcount_ratio: BallotRatioOut | None
    quorum: str
    quorum_area_met: bool
    quorum_headcount_met: bool
    by_building: list[BallotBuildingProgressOut]


class BallotTurnoutOut(Out):
    """Participation so far against the quorum: what owners see while a ballot runs."""

    ballot_id: int
    total_area_hundredths: int
    total_headcount: int
    voted_area_hundredths: int
    voted_headcount: int
    area_ratio: BallotRatioOut | None
    headcount_ratio: BallotRatioOut | None
    quorum: str
    quorum_label: str = Field(examples=["三分之二以上"])
    quorum_percent: str = Field(examples=["66.67%"])
    quorum_area_met: bool
    quorum_headcount_met: bool


class BallotNonVoterOut(Out):
    subject_id: int
    label: str
    area: str = Field(examples=["123.45"])


class BallotNonVoterPage(Out):
    total: int
    items: list[BallotNonVoterOut]
    buildings: list[str] = Field(default=[], description="可筛选的楼栋（有未投票户的）")
    entrances: list[str] = Field(default=[], description="所选楼栋中可筛选的单元")


# --- proxies, paper ballots, conflicts, objections ---------------------------------------------


class VoteProxyFilerOut(Out):
    role: str | None
    label: str
    phone_masked: str


class VoteProxyOut(Out):
    id: int
    subject_id: int
    subject_label: str
    proxy_name_masked: str
    proxy_phone_masked: str
    document_file_id: int
    submitted_at: Instant
    submitted_by: VoteProxyFilerOut
    state: Literal["pending", "accepted", "rejected"]
    accepted_at: Instant | None
    rejected_at: Instant | None
    rejection_reason: str


class VotePaperEntryOut(Out):
    id: int
    subject_id: int
    choices: dict[str, Any]
    scan_file_id: int
    entered_by: int
    entered_at: Instant
    confirmed_by: int | None
    confirmed_at: Instant | None
    state: Literal["pending", "confirmed", "rejected"]
    counted: bool
    rejection_reason: str


class VotePaperStandingOut(Out):
    """A subject's standing before a paper ballot for it is typed in (found by serial or id)."""

    subject_id: int
    label: str
    area: str = Field(examples=["123.45"])
    serial: str = Field(examples=["B12-S345-K7QM2X"])
    voted: bool = Field(description="the subject already has an effective vote")
    channel: Literal["online", "proxy", "paper"] | None
    channel_label: str
    voted_at: Instant | None
    pending_paper: int = Field(description="paper ballots typed in and not yet confirmed or returned")
    open_conflicts: int
    warning: bool = Field(description="true when the entry would not simply count")
    outcome: str = Field(description="what confirming a paper ballot for this subject will do")


class VotePaperEntryHiddenOut(VotePaperEntryOut):
    """A paper ballot whose choices stay hidden until the close (DOMAIN §3)."""

    choices: None  # type: ignore[assignment]
    choices_hidden: Literal[True]


class VoteConflictOut(Out):
    id: int
    subject_id: int
    label: str
    existing_cast_id: int
    existing_channel: str | None
    incoming_channel: str
    incoming_channel_label: str
    created_at: Instant
    resolved_at: Instant | None
    resolution: str | None
    note: str


class BallotObjectionOut(Out):
    id: int
    subject_id: int
    text: str
    raised_at: Instant
    answer: str | None
    answered_at: Instant | None


# --- results ----------------------------------------------------------------------------------


class BallotAuditHeadOut(Out):
    seq: int | None
    hash: str | None


class BallotMatterResultOut(Out):
    matter_id: int
    position: int
    title: str
    category: str
    category_label: str
    passed: bool | None
    headline: str
    summary: str = Field(description="the outcome in one plain sentence, percentages to two decimals "
                                     "and no fractions, as the result notices print it")
    result: dict[str, Any] = Field(description="every figure the matter was decided on (rules.py result)")
    rule_text: str


class BallotResultsOut(Out):
    ballot_id: int
    final: bool
    total_area_hundredths: int | None
    total_headcount: int | None
    closing_audit: BallotAuditHeadOut
    objection_ends_at: Instant | None
    matters: list[BallotMatterResultOut]


class BallotReceiptCodesOut(Out):
    ballot_id: int
    count: int
    receipt_codes: list[str]
    short_codes: list[str] = Field(description="the same votes' short codes, sorted on their own")


class BallotReceiptCheckOut(Out):
    ballot_id: int
    code: str = Field(description="the code as read: a grouped short code or a 32-digit receipt")
    kind: str = Field(examples=["short", "full"])
    found: bool = Field(description="a vote of this ballot has this code")
    counted: bool = Field(description="that vote is its flat's effective (counted) vote")
    receipt_code: str | None
    short_code: str | None


class BallotUnitRecordOut(Out):
    label: str
    choices: dict[str, Any] | None
    channel: str | None
