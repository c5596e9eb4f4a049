"""Pure tally of one ballot: a frozen roster and its effective votes in, per-matter results out."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from app.voting.rules import (
    CandidateId,
    Category,
    Choice,
    DuplicateVoteError,
    ElectionBallot,
    ElectionResult,
    MatterResult,
    RuleSettings,
    SubjectId,
    SubjectVote,
    SurveyResult,
    TallyInputError,
    UnanimityResult,
    UnknownSubjectError,
    evaluate_election,
    evaluate_matter,
    evaluate_survey,
    evaluate_unanimity,
    validate_election_setup,
)

MatterId = int | str
MatterOutcome = MatterResult | SurveyResult | UnanimityResult | ElectionResult


@dataclass(frozen=True)
class RosterEntry:
    """One voting subject of the ballot's frozen roster, with its area in hundredths of m²."""

    subject_id: SubjectId
    area: int


@dataclass(frozen=True)
class Matter:
    """A matter on the ballot; elections set seats and candidates, Art. 279 sets who is affected."""

    matter_id: MatterId
    category: Category
    seats: int | None = None
    candidates: tuple[CandidateId, ...] = ()
    affected_subject_ids: frozenset[SubjectId] | None = None

    @property
    def is_election(self) -> bool:
        """Return whether this matter is a committee election rather than a yes/no question."""
        return self.seats is not None or bool(self.candidates)


@dataclass(frozen=True)
class Vote:
    """A subject's one effective choice on a yes/no matter (同意, 反对, 弃权 or invalid)."""

    subject_id: SubjectId
    matter_id: MatterId
    choice: Choice


@dataclass(frozen=True)
class ElectionVote:
    """A subject's one effective election ballot: the candidates it approves, or invalid."""

    subject_id: SubjectId
    matter_id: MatterId
    approvals: frozenset[CandidateId] = frozenset()
    invalid: bool = False


@dataclass(frozen=True)
class BallotTally:
    """The totals of a ballot's scope and the result of each matter, in ballot order."""

    total_area: int
    total_headcount: int
    results: Mapping[MatterId, MatterOutcome] = field(hash=False)


class UnknownMatterError(TallyInputError):
    """A vote names a matter that is not on the ballot."""

    code = "vote_matter_unknown"


class VoteOutOfScopeError(TallyInputError):
    """A vote does not fit its matter: wrong kind, or a subject not affected under Art. 279."""

    code = "vote_out_of_scope"


def _index_roster(roster: Sequence[RosterEntry]) -> dict[SubjectId, RosterEntry]:
    index: dict[SubjectId, RosterEntry] = {}
    for entry in roster:
        if isinstance(entry.area, bool) or not isinstance(entry.area, int) or entry.area < 0:
            raise TallyInputError(
                f"表决主体 {entry.subject_id} 的面积必须是非负整数（百分之一平方米）"
            )
        if entry.subject_id in index:
            raise TallyInputError(
                f"冻结名册中表决主体 {entry.subject_id} 出现多次", code="roster_duplicate_subject"
            )
        index[entry.subject_id] = entry
    return index


def _check_matters(
    matters: Sequence[Matter], roster: Mapping[SubjectId, RosterEntry]
) -> dict[MatterId, Matter]:
    index: dict[MatterId, Matter] = {}
    for matter in matters:
        if matter.matter_id in index:
            raise TallyInputError(f"事项 {matter.matter_id} 在表决中出现多次")
        if matter.is_election:
            if matter.category is not Category.COMMITTEE_ELECTION:
                raise TallyInputError(
                    f"只有{Category.COMMITTEE_ELECTION.label}可以设置候选人和席位"
                )
            validate_election_setup(matter.seats or 0, matter.candidates)
        if (matter.affected_subject_ids is not None) != (matter.category is Category.ART279):
            raise TallyInputError("有利害关系的表决主体只能且必须为第二百七十九条事项指定")
        for subject_id in matter.affected_subject_ids or ():
            if subject_id not in roster:
                raise UnknownSubjectError(f"有利害关系的表决主体 {subject_id} 不在冻结名册中")
        index[matter.matter_id] = matter
    return index


def _index_votes(
    votes: Iterable[Vote | ElectionVote],
    roster: Mapping[SubjectId, RosterEntry],
    matters: Mapping[MatterId, Matter],
) -> dict[MatterId, dict[SubjectId, Vote | ElectionVote]]:
    by_matter: dict[MatterId, dict[SubjectId, Vote | ElectionVote]] = {m: {} for m in matters}
    for vote in votes:
        if vote.subject_id not in roster:
            raise UnknownSubjectError(f"表决主体 {vote.subject_id} 不在本次表决的冻结名册中")
        matter = matters.get(vote.matter_id)
        if matter is None:
            raise UnknownMatterError(f"事项 {vote.matter_id} 不在本次表决中")
        if isinstance(vote, ElectionVote) != matter.is_election:
            raise VoteOutOfScopeError(
                f"表决主体 {vote.subject_id} 对事项 {vote.matter_id} 的票型不符"
            )
        affected = matter.affected_subject_ids
        if affected is not None and vote.subject_id not in affected:
            raise VoteOutOfScopeError(
                f"表决主体 {vote.subject_id} 与第二百七十九条事项 {vote.matter_id} 无利害关系"
            )
        if vote.subject_id in by_matter[vote.matter_id]:
            raise DuplicateVoteError(
                f"表决主体 {vote.subject_id} 对事项 {vote.matter_id} 有多张有效票"
            )
        by_matter[vote.matter_id][vote.subject_id] = vote
    return by_matter


def _tally_matter(
    matter: Matter,
    *,
    roster: Sequence[RosterEntry],
    votes: Mapping[SubjectId, Vote | ElectionVote],
    settings: RuleSettings | None = None,
) -> MatterOutcome:
    """Compute one matter's result over the whole roster from its already checked votes."""
    total_area = sum(entry.area for entry in roster)
    total_headcount = len(roster)
    if matter.is_election:
        ballots = []
        for entry in roster:
            vote = votes.get(entry.subject_id)
            if vote is not None and not isinstance(vote, ElectionVote):
                raise VoteOutOfScopeError(f"表决主体 {entry.subject_id} 的选票票型不符")
            ballots.append(
                ElectionBallot(
                    subject_id=entry.subject_id,
                    area=entry.area,
                    approvals=None if vote is None else vote.approvals,
                    invalid=vote is not None and vote.invalid,
                )
            )
        return evaluate_election(
            total_area=total_area,
            total_headcount=total_headcount,
            seats=matter.seats or 0,
            candidates=matter.candidates,
            ballots=ballots,
            settings=settings,
        )
    choices: list[SubjectVote] = []
    for entry in roster:
        vote = votes.get(entry.subject_id)
        if vote is not None and not isinstance(vote, Vote):
            raise VoteOutOfScopeError(f"表决主体 {entry.subject_id} 的表决票票型不符")
        choices.append(
            SubjectVote(entry.subject_id, entry.area, None if vote is None else vote.choice)
        )
    if matter.category is Category.SURVEY:
        return evaluate_survey(
            total_area=total_area, total_headcount=total_headcount, votes=choices
        )
    if matter.category is Category.ART279:
        affected = matter.affected_subject_ids or frozenset()
        return evaluate_unanimity(affected=[c for c in choices if c.subject_id in affected])
    return evaluate_matter(
        matter.category,
        total_area=total_area,
        total_headcount=total_headcount,
        votes=choices,
        settings=settings,
    )


def affected_subject_ids(
    subjects: Iterable[tuple[SubjectId, Collection[int]]], affected_building_ids: Collection[int],
    *, affected_entrances: Collection[tuple[int, str]] = (),
    subject_places: Mapping[SubjectId, Collection[tuple[int, str]]] | None = None,
) -> frozenset[SubjectId]:
    """The subjects with a unit in one of the buildings or entrances (单元) an Art. 279 matter
    concerns (`subject_places`: each subject's (building, entrance) pairs, for the entrances)."""
    wanted = set(affected_building_ids)
    entrances = {(int(b), str(e)) for b, e in affected_entrances}
    places = subject_places or {}
    return frozenset(sid for sid, buildings in subjects
                     if wanted & set(buildings)
                     or entrances & {(int(b), str(e)) for b, e in places.get(sid, ())})


def matter_of(
    *,
    matter_id: MatterId,
    category: str | Category,
    seats: int | None,
    candidate_ids: Sequence[CandidateId],
    affected_building_ids: Collection[int],
    subjects: Iterable[tuple[SubjectId, Collection[int]]],
    affected_entrances: Collection[tuple[int, str]] = (),
    subject_places: Mapping[SubjectId, Collection[tuple[int, str]]] | None = None,
) -> Matter:
    """A stored matter as the pure tally takes it (Art. 279: who is affected, from the buildings
    and entrances)."""
    kind = Category(category)
    affected = (affected_subject_ids(subjects, affected_building_ids,
                                     affected_entrances=affected_entrances, subject_places=subject_places)
                if kind is Category.ART279 else None)
    return Matter(matter_id=matter_id, category=kind, seats=seats, candidates=tuple(candidate_ids),
                  affected_subject_ids=affected)


def votes_of(
    subject_id: SubjectId, choices: Mapping[str, Any], matters: Sequence[Matter]
) -> list[Vote | ElectionVote]:
    """One subject's recorded choices ({"<matter id>": choice or {"approve": [ids]}}) as votes.

    A matter left blank is no vote; an Art. 279 matter counts only affected subjects; an election
    ballot marked invalid is invalid (one approving more candidates than seats is spoilt by
    rules.evaluate_election, for the production close and this tally alike).
    """
    by_key = {str(m.matter_id): m for m in matters}
    out: list[Vote | ElectionVote] = []
    for key, value in choices.items():
        matter = by_key.get(str(key))
        if matter is None:
            raise UnknownMatterError(f"事项 {key} 不在本次表决中")
        if value is None or (matter.affected_subject_ids is not None
                             and subject_id not in matter.affected_subject_ids):
            continue
        if matter.is_election:
            invalid = value == Choice.INVALID.value
            approvals = frozenset(value["approve"]) if isinstance(value, Mapping) else frozenset()
            out.append(ElectionVote(subject_id=subject_id, matter_id=matter.matter_id,
                                    approvals=frozenset() if invalid else approvals, invalid=invalid))
        else:
            out.append(Vote(subject_id=subject_id, matter_id=matter.matter_id, choice=Choice(value)))
    return out


def decided(outcome: MatterOutcome) -> bool | None:
    """Whether a matter passed (an election: every seat filled); None for a survey."""
    if isinstance(outcome, ElectionResult):
        return outcome.all_seats_filled
    if isinstance(outcome, SurveyResult):
        return None
    return outcome.passed


def tally_ballot(
    *,
    roster: Sequence[RosterEntry],
    matters: Sequence[Matter],
    votes: Iterable[Vote | ElectionVote],
    settings: RuleSettings | None = None,
) -> BallotTally:
    """Tally every matter of a ballot from its frozen roster and exactly one vote per voter."""
    roster_index = _index_roster(roster)
    matter_index = _check_matters(matters, roster_index)
    by_matter = _index_votes(votes, roster_index, matter_index)
    results = {
        matter.matter_id: _tally_matter(
            matter, roster=roster, votes=by_matter[matter.matter_id], settings=settings
        )
        for matter in matters
    }
    return BallotTally(
        total_area=sum(entry.area for entry in roster),
        total_headcount=len(roster),
        results=MappingProxyType(results),
    )
