"""The benchmark command runs end to end in its smoke size and writes well-formed JSON.

No timings are asserted: benchmarks are not tests. This only proves that `python -m bench`
works from a clean checkout and that its JSON carries every field README's table is built from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CAST_FIELDS = ("concurrency", "subjects", "matters", "throughput_rps", "p50_ms", "p99_ms",
               "requests", "statuses", "ceiling", "ceiling_nodb", "ratio", "ratio_vs_nodb_ceiling",
               "server_cpu_ms_per_request", "cpu_ratio", "checks")
CEILING_FIELDS = ("endpoint", "reads_account", "throughput_rps", "p50_ms", "p99_ms")
PROGRESS_FIELDS = ("endpoint", "p50_ms", "p99_ms", "during_cast", "idle")
OPEN_LOOP_FIELDS = ("fraction_of_closed_loop", "closed_loop_votes_per_s", "rate_rps", "votes",
                    "progress", "p50_ms", "p99_ms", "progress_p50_ms", "progress_p99_ms", "late",
                    "checks")
OPEN_STREAM_FIELDS = ("arrivals", "offered_rps", "answered", "p50_ms", "p99_ms", "statuses",
                      "unfinished", "late", "waited_for_connection", "send_lag_p99_ms",
                      "connections_opened")
TALLY_SIZE_FIELDS = ("subjects", "seconds", "reference_seconds", "ratio", "sums_match_reference")
AUDIT_FIELDS = ("events", "ok", "verify_seconds", "events_per_s", "events_per_cpu_s",
                "db_read_seconds", "db_end_to_end_events_per_s")
IMPORT_FIELDS = ("units", "preview_seconds", "apply_seconds", "seconds")
STATELESS_FIELDS = ("workers", "otp_login_across_connections", "otp_rate_limit_across_connections",
                    "revoked_token_refused", "ok")
NAIVE_FIELDS = ("endpoint", "runs", "throughput_rps", "server_cpu_ms_per_request", "chain_ok", "ratio",
                "cpu_per_vote_x_ceiling")
PAGE_FIELDS = ("route", "view", "bytes_gzip", "files", "lighthouse")


def _has(data: dict, fields: tuple[str, ...], where: str) -> None:
    missing = [f for f in fields if f not in data]
    assert not missing, f"{where} lacks {missing}"


@pytest.mark.slow
def test_smoke_run_writes_every_field(tmp_path: Path) -> None:
    if os.environ.get("GONGJUE_TEST_DATABASE_URL"):
        pytest.skip("the smoke run uses its own SQLite file: once, in the SQLite pass, is enough")
    out = tmp_path / "smoke.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| workload |" in done.stdout  # the Markdown table

    data = json.loads(out.read_text(encoding="utf-8"))
    _has(data, ("schema", "mode", "command", "date", "commit", "machine", "settings", "results",
                "page", "targets", "audit_verify_file", "duration_s"), "top level")
    assert data["mode"] == "smoke"
    _has(data["machine"], ("cpu", "cores", "memory_bytes"), "machine")
    result = data["results"]["sqlite"]
    _has(result, ("database", "cast", "open_loop", "progress", "tally", "audit_verify",
                  "roster_import", "stateless", "naive"), "sqlite results")
    _has(result["naive"], NAIVE_FIELDS, "naive")
    assert len(result["naive"]["runs"]) == 2 and result["naive"]["chain_ok"] is True
    _has(result["database"], ("kind", "version", "workers"), "database")
    _has(result["cast"], CAST_FIELDS, "cast")
    _has(result["cast"]["ceiling"], CEILING_FIELDS, "ceiling")
    _has(result["cast"]["checks"], ("all_accepted_votes_stored", "one_effective_vote_per_subject",
                                    "audit_chain_ok"), "cast checks")
    _has(result["progress"], PROGRESS_FIELDS, "progress")
    _has(result["open_loop"], OPEN_LOOP_FIELDS, "open_loop")
    for name in ("votes", "progress"):
        _has(result["open_loop"][name], OPEN_STREAM_FIELDS, f"open_loop {name}")
    _has(result["tally"], ("sizes", "growth_10k_to_100k", "reference_growth_10k_to_100k"), "tally")
    for size in result["tally"]["sizes"].values():
        _has(size, TALLY_SIZE_FIELDS, "tally size")
    _has(result["audit_verify"], AUDIT_FIELDS, "audit_verify")
    for size in result["roster_import"]["sizes"].values():
        _has(size, IMPORT_FIELDS, "roster import size")
    _has(result["stateless"], STATELESS_FIELDS, "stateless")
    _has(data["page"], PAGE_FIELDS, "page")
    # The owner's ballot page is found in the router (not the compound page it falls back to).
    assert data["page"]["view"] == "BallotView" and data["page"]["ballot_view_present"] is True
    for target in data["targets"]:
        _has(target, ("name", "target", "value", "met"), "target")
    # Correctness the run checks on its own data (not speed).
    assert result["cast"]["checks"]["all_accepted_votes_stored"] is True
    assert result["cast"]["checks"]["audit_chain_ok"] is True
    # The open loop sent votes and every one it saw accepted is stored once.
    assert result["open_loop"]["votes"]["arrivals"] > 0
    assert result["open_loop"]["checks"]["all_accepted_votes_stored"] is True
    assert result["open_loop"]["checks"]["audit_chain_ok"] is True
    names = [t["name"] for t in data["targets"]]
    assert "vote p99, open loop at half the max votes/s" in names
    assert "progress p99 during the open-loop cast" in names
    assert all(s["sums_match_reference"] for s in result["tally"]["sizes"].values())
    assert result["audit_verify"]["ok"] is True
