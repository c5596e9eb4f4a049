"""`python -m bench`: load the data, start the real server, run every workload on SQLite and
PostgreSQL, write bench/results/latest.json and print a Markdown table.

    python -m bench            # full: 1,000,000-event chain, 50,000-unit import (< 15 min)
    python -m bench --quick    # smaller chain and import, shorter runs (< 2 min)
    python -m bench --smoke    # tiny sizes, SQLite only (the test suite runs this)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import context

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
LIGHTHOUSE_RUNS = 3  # consecutive runs on the owner's page; the performance target holds in each
LIGHTHOUSE_TARGET = 95


@dataclass(frozen=True)
class Sizes:
    subjects: int  # compound of the cast workload
    warmup_s: float
    duration_s: float
    poll_interval_s: float
    tally_subjects: tuple[int, ...]
    tally_repeats: int
    audit_events: int
    import_units: tuple[int, ...]
    lighthouse: bool
    extras: bool  # the no-database ceiling, idle progress and PostgreSQL at 16 owners
    open_duration_s: float  # the open-loop cast's measured window
    open_owners: int  # owners of other flats whose votes arrive in the open loop


MODES = {
    "full": Sizes(subjects=10_000, warmup_s=2, duration_s=15, poll_interval_s=0.2,
                  tally_subjects=(1_000, 10_000, 100_000), tally_repeats=3,
                  audit_events=1_000_000, import_units=(5_000, 50_000), lighthouse=True,
                  extras=True, open_duration_s=20, open_owners=1_000),
    "quick": Sizes(subjects=10_000, warmup_s=0.5, duration_s=3, poll_interval_s=0.2,
                   tally_subjects=(1_000, 10_000, 100_000), tally_repeats=1,
                   audit_events=100_000, import_units=(5_000,), lighthouse=True, extras=False,
                   open_duration_s=5, open_owners=1_000),
    "smoke": Sizes(subjects=300, warmup_s=0.3, duration_s=1, poll_interval_s=0.2,
                   tally_subjects=(100, 1_000), tally_repeats=1,
                   audit_events=2_000, import_units=(200,), lighthouse=False, extras=True,
                   open_duration_s=1, open_owners=100),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs (< 2 min)")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, SQLite only (tests)")
    parser.add_argument("--db", default=None, help="sqlite,postgres (default: both; smoke: sqlite)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="concurrent owners on PostgreSQL (64; smoke 8)")
    parser.add_argument("--sqlite-concurrency", type=int, default=None,
                        help="concurrent owners on SQLite (16; smoke 8): at 64 a one-worker SQLite "
                             "server stalls, see bench/PROFILE.md")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server (a database "
                        "gongjue_bench_<mode> is created on it and dropped afterwards)")
    parser.add_argument("--postgres-db", default=None, help="the database created and dropped on "
                        "the server (default gongjue_bench_<mode>; give another name when someone "
                        "else may run the bench on the same server: the run drops it with FORCE)")
    parser.add_argument("--out", type=Path, default=None, help="JSON output "
                        "(default bench/results/latest.json; smoke: bench/runs/smoke.json)")
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--lighthouse-runs", type=int, default=LIGHTHOUSE_RUNS,
                        help=f"Lighthouse runs in a row on the owner's page ({LIGHTHOUSE_RUNS}; the "
                             "target must hold in each); the page alone: python -m bench.workloads.page")
    parser.add_argument("--report", type=Path, metavar="JSON", default=None,
                        help="only print the table (targets re-evaluated) of an earlier run's JSON")
    return parser.parse_args(argv)


# --- facts about the run --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_bytes": memory,
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
    }


def git_commit() -> str | None:
    """HEAD's commit, read from .git without running git."""
    git = context.ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        common = git / "commondir"
        roots = [git] + ([(git / common.read_text().strip()).resolve()] if common.is_file() else [])
        for root in roots:
            if (root / ref).is_file():
                return (root / ref).read_text().strip()
            if (root / "packed-refs").is_file():
                for line in (root / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
    except OSError:
        return None
    return None


# --- one database -----------------------------------------------------------------------------------


def run_database(kind: str, sizes: Sizes, args: argparse.Namespace, ctx: context.BenchContext,
                 chain_rows: list[tuple], log: Any, with_page: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from app.db import set_engine
    from bench import databases, seed
    from bench.server import Server
    from bench.workloads import audit, cast, naive, page, roster, stateless, tally

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    pg_name = args.postgres_db or f"gongjue_bench_{mode}"
    if "bench" not in pg_name:
        raise SystemExit(f"--postgres-db {pg_name!r}: a bench database's name contains 'bench'")
    db = (databases.sqlite_database(ctx.run_dir) if kind == "sqlite"
          else databases.postgres_database(args.postgres_url, pg_name))
    engine = db.engine()
    set_engine(engine)
    out: dict[str, Any] = {"database": {"kind": kind, "version": databases.version(engine),
                                        "settings": databases.settings(engine),
                                        "workers": db.workers}}
    page_result = None
    try:
        databases.create_schema(engine)
        # The chain was hashed once for compound 1: the first compound of a fresh database.
        audit_compound, _ = seed.create_compound("审计基准")
        assert audit_compound == chain_rows[0][0], "the audit compound must be the database's first"
        t = time.perf_counter()
        seed.load_audit_chain(audit_compound, chain_rows)
        audit_load_s = time.perf_counter() - t
        log(f"[{kind}] audit chain of {len(chain_rows):,} events loaded ({audit_load_s:.1f} s)")
        t = time.perf_counter()
        voters = args.concurrency if kind == "postgres" else args.sqlite_concurrency
        world = seed.seed_cast_world(subjects=sizes.subjects, voters=voters, owners=sizes.open_owners)
        databases.analyze(engine)
        log(f"[{kind}] cast compound of {sizes.subjects} subjects, ballot open now "
            f"({time.perf_counter() - t:.1f} s)")
        # The naive vote endpoint (bench/naive.py) under the same load, just before and just
        # after ours: its own database and server, stopped while ours is measured.
        naive_url = (f"sqlite:///{ctx.run_dir / 'naive.db'}" if kind == "sqlite" else
                     databases.postgres_database(args.postgres_url, f"{pg_name}_naive").url)
        yardstick = naive.Naive(naive_url, users=voters, workers=db.workers,
                                log_path=ctx.run_dir / f"naive-{kind}.log")
        naive_runs = []

        def measure_naive() -> None:
            with yardstick.server() as naive_server:
                naive_runs.append(naive.run(naive_server, yardstick, matter_ids=world.matter_ids,
                                            warmup_s=sizes.warmup_s, duration_s=sizes.duration_s))

        measure_naive()
        with Server(env=ctx.server_env(db.url), workers=db.workers,
                    log_path=ctx.run_dir / f"server-{kind}.log") as server:
            out["server"] = {"command": " ".join(["python", *server.command[1:]]),
                             "workers": db.workers}
            measured = cast.run(server, world, warmup_s=sizes.warmup_s, duration_s=sizes.duration_s,
                                poll_interval_s=sizes.poll_interval_s,
                                extra_levels=(16,) if kind == "postgres" and sizes.extras else (),
                                extras=sizes.extras, open_duration_s=sizes.open_duration_s)
            out.update(measured)
            if voters != args.concurrency:
                out["cast"]["note"] = (
                    f"measured at {voters} concurrent owners, not {args.concurrency}: at "
                    f"{args.concurrency} a one-worker SQLite server stalls (write requests hold "
                    "the write lock across thread-pool hops and fill the 40-thread pool; "
                    "'database is locked' after 30 s), see bench/PROFILE.md")
            out["loadavg_after_cast"] = [round(x, 2) for x in os.getloadavg()]
            log(f"[{kind}] cast {measured['cast']['throughput_rps']} votes/s "
                f"(ceiling {measured['cast']['ceiling']['throughput_rps']} req/s); open loop at "
                f"{measured['open_loop'].get('rate_rps')} votes/s: p99 {measured['open_loop'].get('p99_ms')} ms, "
                f"progress p99 {measured['open_loop'].get('progress_p99_ms')} ms")
            phones = [v.phone for v in world.voters]
            from bench.rosterfile import phone_for

            spare = [phone_for("139", sizes.subjects - i) for i in range(4)]
            revocable = seed.mint_access_token(world.voters[-1].user_id)
            out["stateless"] = stateless.run(server, phones=[p for p in spare if p not in phones],
                                             revocable_token=revocable)
            if with_page:
                page_result = page.run(server, compound_id=world.compound_id,
                                       ballot_id=world.ballot_id, owner_token=world.voters[0].token,
                                       out_dir=ctx.run_dir,
                                       with_lighthouse=sizes.lighthouse and not args.no_lighthouse,
                                       lighthouse_runs_count=args.lighthouse_runs,
                                       log=lambda line: log(f"[{kind}] Lighthouse {line}"))
                log(f"[{kind}] page weight {page_result.get('bytes_gzip')} B gzip")

        measure_naive()  # after ours has stopped: the two servers' pools never add up
        out["naive"] = naive.summarize(naive_runs, yardstick.verify(), out["cast"],
                                       out["cast"]["ceiling"])
        log(f"[{kind}] naive vote endpoint {out['naive']['throughput_rps']} votes/s "
            f"(ours ÷ naive {out['naive']['ratio']})")

        t = time.perf_counter()
        compound_id, committee_id = seed.create_compound("计票基准")
        ballots = [seed.seed_tally_ballot(compound_id=compound_id, committee_id=committee_id,
                                          subjects=n, seed=n) for n in sizes.tally_subjects]
        databases.analyze(engine)
        log(f"[{kind}] tally ballots loaded ({time.perf_counter() - t:.1f} s)")
        out["tally"] = tally.run(ballots, repeats=sizes.tally_repeats)
        out["tally"].setdefault("growth_10k_to_100k", None)
        out["tally"].setdefault("reference_growth_10k_to_100k", None)

        out["audit_verify"] = audit.run(audit_compound, len(chain_rows))
        out["audit_verify"]["load_seconds"] = round(audit_load_s, 2)
        log(f"[{kind}] audit verify {out['audit_verify']['events_per_s']} events/s")

        out["roster_import"] = roster.run(list(sizes.import_units))
        log(f"[{kind}] roster import " + ", ".join(
            f"{k}: {v['seconds']} s" for k, v in out["roster_import"]["sizes"].items()))
    finally:
        set_engine(None)
        engine.dispose()
        if kind == "postgres":
            databases.drop_postgres(args.postgres_url, pg_name)
            databases.drop_postgres(args.postgres_url, f"{pg_name}_naive")
    return out, page_result


# --- targets and the table ---------------------------------------------------------------------------


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    pg = result["results"].get("postgres") or {}
    where = "postgres" if pg else "sqlite"
    pg = pg or result["results"].get("sqlite") or {}
    page = result.get("page") or {}
    lh = page.get("lighthouse") or {}

    def check(name: str, target: str, value: Any, ok: bool | None) -> dict[str, Any]:
        return {"name": name, "target": target, "value": value, "database": where,
                "met": None if value is None else ok}

    ratio = _get(pg, "cast", "ratio")
    p99 = _get(pg, "cast", "p99_ms")
    if _get(pg, "cast", "requests") == 0:  # nothing answered inside the window: a stall
        p99 = "no vote answered within the run (stalled)"
    tally_ratio = _get(pg, "tally", "sizes", "100000", "ratio")
    growth = _get(pg, "tally", "growth_10k_to_100k")
    verify = _get(pg, "audit_verify", "events_per_s")
    verify_cpu = _get(pg, "audit_verify", "events_per_cpu_s")
    imp = _get(pg, "roster_import", "sizes", "50000", "seconds")
    kb = page.get("bytes_gzip")
    open_p99 = _get(pg, "open_loop", "p99_ms")
    open_progress_p99 = _get(pg, "open_loop", "progress_p99_ms")
    vs_naive = _get(pg, "naive", "ratio")
    cpu_x = _get(pg, "naive", "cpu_per_vote_x_ceiling")
    return [
        check("votes/s ÷ naive vote endpoint votes/s (same run)", ">= 1.0", vs_naive,
              vs_naive is not None and vs_naive >= 1.0),
        check("server CPU per vote ÷ per ceiling request", "<= 2.0", cpu_x,
              cpu_x is not None and cpu_x <= 2.0),
        check("cast ratio (votes/s ÷ ceiling req/s)", ">= 0.5", ratio, ratio is not None and ratio >= 0.5),
        check("cast p99 at 64 concurrent", "<= 100 ms", p99, isinstance(p99, int | float) and p99 <= 100),
        check("vote p99, open loop at half the max votes/s", "<= 100 ms", open_p99,
              open_p99 is not None and open_p99 <= 100),
        check("progress p99 during the open-loop cast", "<= 100 ms", open_progress_p99,
              open_progress_p99 is not None and open_progress_p99 <= 100),
        check("tally 100k ÷ raw SQL", "<= 2", tally_ratio, tally_ratio is not None and tally_ratio <= 2),
        check("tally growth 10k → 100k", "<= 10 (linear)", growth, growth is not None and growth <= 10),
        check("audit verify events/s (wall clock)", ">= 200000", verify,
              verify is not None and verify >= 200_000),
        check("audit verify events per CPU second", ">= 200000", verify_cpu,
              verify_cpu is not None and verify_cpu >= 200_000),
        check("roster import 50k units", "<= 30 s", imp, imp is not None and imp <= 30),
        check("owner page gzip bytes", "<= 153600", kb, kb is not None and kb <= 150 * 1024),
        check("Lighthouse performance (mobile)", f">= {LIGHTHOUSE_TARGET} in each of {LIGHTHOUSE_RUNS} runs",
              _lighthouse_runs(lh), _lighthouse_met(lh)),
        check("Lighthouse accessibility (mobile)", ">= 90", lh.get("accessibility"),
              (lh.get("accessibility") or 0) >= 90),
    ]


def _lighthouse_runs(lh: dict[str, Any]) -> str | int | None:
    """The performance score of each run ("96 / 97 / 95"); an earlier single-run JSON's score."""
    runs = lh.get("performance_runs")
    if runs is None:
        return lh.get("performance")
    return " / ".join("—" if p is None else str(p) for p in runs)


def _lighthouse_met(lh: dict[str, Any]) -> bool:
    runs = lh.get("performance_runs")
    if runs is None:  # a JSON from before the runs were repeated: one run cannot meet it
        return False
    return len(runs) >= LIGHTHOUSE_RUNS and all(p is not None and p >= LIGHTHOUSE_TARGET for p in runs)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(result: dict[str, Any]) -> str:
    dbs = [k for k in ("sqlite", "postgres") if k in result["results"]]
    head = ["workload", "metric", *[("SQLite" if d == "sqlite" else "PostgreSQL") for d in dbs]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(workload: str, metric: str, *path: str) -> None:
        lines.append("| " + " | ".join([workload, metric, *[_fmt(_get(result["results"][d], *path)) for d in dbs]]) + " |")

    def pair(workload: str, metric: str, *paths: tuple[str, ...]) -> None:
        """One cell per database holding several figures, `a / b`."""
        lines.append(f"| {workload} | {metric} | " + " | ".join(
            " / ".join(_fmt(_get(result["results"][d], *path)) for path in paths) for d in dbs) + " |")

    c, sc = result["settings"]["concurrency"], result["settings"]["sqlite_concurrency"]
    row(f"cast ({c} owners; SQLite {sc})", "votes/s", "cast", "throughput_rps")
    pair("", "p50 / p99 ms", ("cast", "p50_ms"), ("cast", "p99_ms"))
    row("ceiling (auth + account read)", "req/s", "cast", "ceiling", "throughput_rps")
    row("ceiling (token only, no DB)", "req/s", "cast", "ceiling_nodb", "throughput_rps")
    row("", "ratio cast ÷ ceiling", "cast", "ratio")
    row("", "server CPU ms per vote", "cast", "server_cpu_ms_per_request")
    row("", "server CPU ms per ceiling request", "cast", "ceiling", "server_cpu_ms_per_request")
    row("", "CPU ratio (ceiling ÷ vote)", "cast", "cpu_ratio")
    lines.append("| naive vote endpoint (same load) | votes/s (before, after) | " + " | ".join(
        "{} ({})".format(_fmt(_get(result["results"][d], "naive", "throughput_rps")),
                         ", ".join(_fmt(r.get("throughput_rps")) for r in
                                   (_get(result["results"][d], "naive", "runs") or [])))
        for d in dbs) + " |")
    row("", "server CPU ms per vote", "naive", "server_cpu_ms_per_request")
    row("", "ratio cast ÷ naive", "naive", "ratio")
    row("", "CPU per vote ÷ ceiling's", "naive", "cpu_per_vote_x_ceiling")
    row("", "naive chain ok", "naive", "chain_ok")
    row("", "all accepted votes stored, chain ok", "cast", "checks", "all_accepted_votes_stored")
    lines.append("| cast (16 owners) | votes/s, p99 ms, ratio | " + " | ".join(
        "{} / {} / {}".format(*(_fmt(_get(result["results"][d], "cast", "at_other_concurrency", "16", k))
                                for k in ("throughput_rps", "p99_ms", "ratio")))
        if _get(result["results"][d], "cast", "at_other_concurrency", "16")
        else "{} / {} / {}".format(*(_fmt(_get(result["results"][d], "cast", k))
                                      for k in ("throughput_rps", "p99_ms", "ratio")))
        for d in dbs) + " |")
    lines.append("| cast, open loop at ½ the max | votes/s offered (Poisson) | " + " | ".join(
        _fmt(_get(result["results"][d], "open_loop", "votes", "offered_rps")) for d in dbs) + " |")
    pair("", "vote p50 / p99 ms", ("open_loop", "p50_ms"), ("open_loop", "p99_ms"))
    pair("", "progress p50 / p99 ms", ("open_loop", "progress_p50_ms"), ("open_loop", "progress_p99_ms"))
    pair("", f"arrivals late (> {_fmt(_get(result, 'settings', 'open_loop_late_ms'))} ms), unanswered",
         ("open_loop", "late"), ("open_loop", "votes", "unfinished"))
    row("", "all accepted votes stored, chain ok", "open_loop", "checks", "all_accepted_votes_stored")
    pair("progress (idle)", "p50 / p99 ms", ("progress", "idle", "p50_ms"), ("progress", "idle", "p99_ms"))
    pair("progress (during cast)", "p50 / p99 ms", ("progress", "p50_ms"), ("progress", "p99_ms"))
    for n in result["settings"]["tally_subjects"]:
        lines.append(f"| tally {n:,} subjects | s (raw SQL s, ratio) | " + " | ".join(
            "{} ({}, {}×)".format(*(_fmt(_get(result["results"][d], "tally", "sizes", str(n), k))
                                     for k in ("seconds", "reference_seconds", "ratio")))
            for d in dbs) + " |")
    row("", "growth 10k → 100k", "tally", "growth_10k_to_100k")
    ev = result["settings"]["audit_events"]
    row(f"audit verify {ev:,} events", "events/s", "audit_verify", "events_per_s")
    row("", "events per CPU second", "audit_verify", "events_per_cpu_s")
    row("", "with DB read, events/s", "audit_verify", "db_end_to_end_events_per_s")
    for n in result["settings"]["import_units"]:
        row(f"roster import {n:,} units (XLSX)", "s", "roster_import", "sizes", str(n), "seconds")
        row("", "app CPU s", "roster_import", "sizes", str(n), "app_cpu_seconds")
    row("stateless (2 workers on PG)", "checks ok", "stateless", "ok")
    page = result.get("page") or {}
    lh = page.get("lighthouse") or {}
    lines.append("")
    lines.append(f"Owner page ({page.get('view')}, {page.get('url_path')}): "
                 f"{_fmt(page.get('bytes_gzip'))} B gzip over the wire; Lighthouse mobile "
                 + (f"performance {_lighthouse_runs(lh)}, accessibility {lh.get('accessibility')}"
                    + (f" (LCP {_fmt(lh.get('largest_contentful_paint_ms'))} ms at most)"
                       if lh.get("largest_contentful_paint_ms") else "")
                    + (f"; Lighthouse's CPU benchmark {' / '.join(_fmt(b) for b in lh['benchmark_index_runs'])}"
                       if lh.get("benchmark_index_runs") else "")
                    if "error" not in lh else f"not run: {lh['error']}"))
    af = result.get("audit_verify_file") or {}
    if af:
        lines.append(f"Audit export file ({_fmt(af.get('events'))} events): "
                     f"{_fmt(af.get('file_events_per_s'))} events/s (python -m app.audit verify --file)")
    lines.append("")
    lines.append("| target | value | met |")
    lines.append("|---|---|---|")
    for t in result["targets"]:
        met = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['name']} {t['target']} | {_fmt(t['value'])} | {met} |")
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report is not None:
        earlier = json.loads(args.report.read_text(encoding="utf-8"))
        earlier["targets"] = targets(earlier)
        print(table(earlier))
        return 0
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    args.concurrency = args.concurrency or (8 if args.smoke else 64)
    args.sqlite_concurrency = args.sqlite_concurrency or (8 if args.smoke else 16)
    sizes = MODES[mode]
    kinds = (args.db or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    started = time.perf_counter()
    stamp = datetime.now(UTC)
    run_dir = context.RUNS_DIR / f"{mode}-{stamp:%Y%m%dT%H%M%S}-{os.getpid()}"
    ctx = context.prepare(run_dir)

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    from bench import seed
    from bench.workloads import audit
    from bench.workloads import cast as cast_workload

    t = time.perf_counter()
    chain_rows = seed.audit_chain_records(1, sizes.audit_events, datetime(2026, 1, 1, tzinfo=UTC))
    log(f"audit chain of {sizes.audit_events:,} events hashed ({time.perf_counter() - t:.1f} s)")
    result: dict[str, Any] = {
        "schema": "gongjue-bench/1",
        "mode": mode,
        "command": "python -m bench" + ("" if mode == "full" else f" --{mode}")
        + (f" --db {args.db}" if args.db else "")
        + (f" --concurrency {args.concurrency}" if args.concurrency != (8 if args.smoke else 64) else ""),
        "date": stamp.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
                    "note": "load average counts every process on the machine: other work running "
                            "at the same time slows every figure"},
        "settings": {**asdict(sizes), "concurrency": args.concurrency,
                     "sqlite_concurrency": args.sqlite_concurrency, "databases": kinds,
                     "server": "uvicorn bench.ceiling:create_app --factory (app.main's app plus the "
                               "ceiling routes; httptools, uvloop), "
                               "GONGJUE_ENV=production; SQLite 1 worker, PostgreSQL 2 workers",
                     "loadgen": "bench/loadgen.py: separate process; closed loop: one keep-alive "
                                "connection per owner; open loop: Poisson arrivals at half the "
                                "closed loop's votes/s over a pool of keep-alive connections that "
                                "grows when none is idle, latency from each intended send time",
                     "open_loop_late_ms": cast_workload.OPEN_LOOP_LATE_MS},
        "results": {},
        "page": None,
    }
    for kind in kinds:
        with_page = kind == kinds[-1]
        result["results"][kind], page_result = run_database(kind, sizes, args, ctx, chain_rows, log,
                                                            with_page)
        if page_result is not None:
            result["page"] = {**page_result, "served_by": kind}

    export = run_dir / "audit-export.jsonl"
    audit.write_export(export, chain_rows)
    file_result = audit.run_file(export, len(chain_rows))
    result["audit_verify_file"] = file_result
    export.unlink(missing_ok=True)
    log(f"audit export file verify {file_result['file_events_per_s']} events/s")

    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = targets(result)
    result["duration_s"] = round(time.perf_counter() - started, 1)
    out = args.out or (context.RUNS_DIR / "smoke.json" if args.smoke else context.RESULTS_DIR / "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(table(result))
    print(f"\n{mode} run in {result['duration_s']} s; JSON: {out}")
    _tidy(run_dir)
    return 0


def _tidy(run_dir: Path, keep: int = 5) -> None:
    """Drop this run's database files (logs and the Lighthouse report stay), and old runs."""
    shutil.rmtree(run_dir / "files", ignore_errors=True)
    for path in run_dir.glob("bench.db*"):
        path.unlink(missing_ok=True)
    runs = sorted((p for p in context.RUNS_DIR.glob("*-*T*-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
