"""Independent recount of a closed ballot from its exported tally inputs (no database needed).

    python -m app.voting recount tally-12.json

Checks every vote's commitment against the audit trail's hashes, recounts every matter with the
pure rules (app/voting/tally.py) and compares with the published results. Exit 1 on mismatch.

    python -m app.voting tick

Opens the ballots whose voting start has come and closes those whose end has passed (the
gongjue-tick timer; the same pass the server processes run, app/voting/schedule.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from app.audit.canonical import canonical_json
from app.voting import rules, tally
from app.voting.settings import rule_settings


def recount(data: dict[str, Any]) -> dict[str, Any]:
    """Recount from the export; returns per-matter recount and mismatches."""
    roster = [tally.RosterEntry(subject_id=s["subject_id"], area=s["area_hundredths"]) for s in data["subjects"]]
    problems: list[str] = []
    buildings = [(s["subject_id"], s["building_ids"]) for s in data["subjects"]]
    places = {s["subject_id"]: [tuple(p) for p in s.get("places", [])] for s in data["subjects"]}
    matters = [
        tally.matter_of(matter_id=m["matter_id"], category=m["category"], seats=m.get("seats"),
                        candidate_ids=[c["id"] for c in m.get("candidates", [])],
                        affected_building_ids=m["affected_building_ids"], subjects=buildings,
                        affected_entrances=[(e["building_id"], e["entrance"])
                                            for e in m.get("affected_entrances", [])],
                        subject_places=places)
        for m in data["matters"]
    ]
    votes: list[tally.Vote | tally.ElectionVote] = []
    for s in data["subjects"]:
        choices = s.get("choices")
        if choices is None:
            continue
        expected = hashlib.sha256(canonical_json({
            "ballot_id": data["ballot_id"], "subject_id": s["subject_id"], "choices": choices,
            "nonce": s["nonce"]}).encode()).hexdigest()
        if expected != s.get("commitment"):
            problems.append(f"subject {s['subject_id']}: choices do not match the committed hash")
        votes += tally.votes_of(s["subject_id"], choices, matters)
    settings = rule_settings(json.dumps(data.get("settings", {}).get("thresholds") or {}))
    result = tally.tally_ballot(roster=roster, matters=matters, votes=votes, settings=settings)
    published = {r["matter_id"]: r for r in data.get("results", [])}
    rows = []
    for matter in matters:
        outcome = result.results[matter.matter_id]
        passed = tally.decided(outcome)
        pub = published.get(matter.matter_id)
        same = pub is None or pub["passed"] == passed
        if isinstance(outcome, rules.ElectionResult) and pub is not None:
            same = same and sorted(outcome.elected) == sorted(pub["result"]["elected"])
        if not same:
            problems.append(f"matter {matter.matter_id}: recount {passed} differs from published {pub['passed'] if pub else None}")
        rows.append({"matter_id": matter.matter_id, "passed": passed,
                     "explanation": getattr(outcome, "explanation", "")})
    return {"ok": not problems, "problems": problems, "matters": rows,
            "total_area_hundredths": result.total_area, "total_headcount": result.total_headcount}


def tick() -> int:
    from app.main import install_domain_hooks
    from app.models import load_all_models
    from app.voting import schedule

    load_all_models()
    install_domain_hooks()  # procedures' review gate checks the opening, as in the server
    done = schedule.tick()
    for ballot_id in done.opened:
        print(f"表决 {ballot_id}：已按时开始投票")
    for ballot_id in done.closed:
        print(f"表决 {ballot_id}：已按时结束并计票")
    for ballot_id, message in done.refused.items():
        print(f"表决 {ballot_id}：未能按时处理：{message}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.voting", description="独立复核计票")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("recount", help="recount an exported ballot (tally JSON)")
    r.add_argument("file", type=Path)
    sub.add_parser("tick", help="open and close the ballots that are due (for a systemd timer)")
    args = parser.parse_args(argv)
    if args.command == "tick":
        return tick()
    data = json.loads(args.file.read_text(encoding="utf-8"))
    report = recount(data)
    for row in report["matters"]:
        verdict = "—" if row["passed"] is None else ("通过" if row["passed"] else "未通过")
        print(f"事项 {row['matter_id']}: {verdict}")
    for p in report["problems"]:
        print("MISMATCH:", p, file=sys.stderr)
    print("复核一致 (recount matches)" if report["ok"] else "复核不一致 (recount differs)")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
