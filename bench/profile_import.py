"""The roster import of one large file, preview then apply, with where its time goes.

    python -m bench.profile_import [--db postgres|sqlite] [--units 50000] [--format xlsx|xls|csv]
                                   [--profile apply|preview] [--repeat 1]

Not part of `python -m bench` (whose roster_import workload reports the same preview and apply
seconds): a developer's tool for the import path. It times reading the file alone
(`read_table`), then `create_preview` and `apply_import` each in its own transaction as over
HTTP, in this process; `--profile` prints cProfile's top functions of one phase.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from bench import context


def _xls(rows: list[tuple[str, ...]]) -> bytes:
    """The roster as a legacy .xls workbook (xlwt; one sheet holds at most 65,535 rows)."""
    import xlwt  # dev dependency: only the tests and this tool write .xls

    from app.roster import importer as imp

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名册")
    for c, name in enumerate(imp.COLUMNS):
        sheet.write(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, float(value) if c == 3 else value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _server_cpu(session) -> tuple[int | None, float]:  # type: ignore[no-untyped-def]
    """The PostgreSQL backend serving this session, and its CPU seconds so far (from /proc: the
    server runs on this machine). (None, 0.0) on SQLite, where the database runs in-process."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None, 0.0
    pid = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
    return pid, _pid_cpu(pid)


def _pid_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database-name", default="gongjue_bench_import")
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--format", choices=("xlsx", "xls", "csv"), default="xlsx")
    parser.add_argument("--profile", choices=("preview", "apply"))
    parser.add_argument("--repeat", type=int, default=1, help="imports, each into a new compound")
    parser.add_argument("--reimport", action="store_true",
                        help="import each file a second time into the same compound (the "
                             "re-import of an unchanged roster: every unit compared, none added)")
    args = parser.parse_args(argv)

    run_dir = Path(tempfile.mkdtemp(prefix="gj-import-"))
    ctx = context.prepare(run_dir)
    from bench import databases

    db = (databases.sqlite_database(run_dir) if args.db == "sqlite"
          else databases.postgres_database(args.postgres_url, args.database_name))
    os.environ.update(ctx.app_env(db.url))
    from app.config import get_settings

    get_settings.cache_clear()
    from app.db import set_engine
    from app.roster import importer
    from bench import rosterfile, seed

    engine = db.engine()
    set_engine(engine)
    databases.create_schema(engine)
    if args.format == "xlsx":
        content = rosterfile.cached_xlsx(context.CACHE_DIR, args.units)
    else:
        rows = rosterfile.roster_rows(args.units, seed=6, phone_prefix="137",
                                      multi_unit_share=0.03)
        content = _xls(rows) if args.format == "xls" else rosterfile.to_csv(rows)
    name = f"roster-{args.units}.{args.format}"
    print(f"{args.db}, {args.units:,} units, {name}: {len(content):,} bytes", flush=True)
    try:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            table = importer.read_table(content, name)
            read_s = time.perf_counter() - t0
            assert len(table.rows) == args.units, len(table.rows)
            compound_id, committee_id = seed.create_compound(f"导入剖析{time.time_ns()}")
            for again in ((False, True) if args.reimport else (False,)):
                _import_once(args, content, name, compound_id, committee_id, read_s, again=again)
    finally:
        engine.dispose()
        if args.db == "postgres":
            databases.drop_postgres(args.postgres_url, args.database_name)
    return 0


def _import_once(args: argparse.Namespace, content: bytes, name: str, compound_id: int,
                 committee_id: int, read_s: float, *, again: bool) -> None:
    """Preview and apply of one file into one compound, timed: one line of figures."""
    from app.audit.service import Actor
    from app.auth.models import Role
    from app.db import transaction
    from app.roster import importer

    actor = Actor(user_id=committee_id, role=Role.COMMITTEE.value)
    profiler = cProfile.Profile()
    c0, t0 = time.process_time(), time.perf_counter()
    with transaction() as session:
        pid, s0 = _server_cpu(session)
        if args.profile == "preview":
            profiler.enable()
        record = importer.create_preview(session, compound_id=compound_id, content=content,
                                         file_name=name, uploaded_by=committee_id)
        profiler.disable()
        import_id = record.id or 0
    c1, t1 = time.process_time(), time.perf_counter()
    preview_server = _pid_cpu(pid) - s0
    with transaction() as session:
        pid, s1 = _server_cpu(session)
        a1, u1 = time.process_time(), time.perf_counter()
        if args.profile == "apply":
            profiler.enable()
        importer.apply_import(session, compound_id=compound_id, import_id=import_id, actor=actor)
        profiler.disable()
    c2, t2 = time.process_time(), time.perf_counter()
    apply_server = _pid_cpu(pid) - s1
    server = (f" | database server CPU: preview {preview_server:.2f} s, apply "
              f"{apply_server:.2f} s" if pid is not None else "")
    print(f"{'re-import: ' if again else ''}read {read_s:.2f} s | preview {t1 - t0:.2f} s "
          f"(CPU {c1 - c0:.2f}) | apply {t2 - u1:.2f} s (CPU {c2 - a1:.2f}) | "
          f"preview+apply {t1 - t0 + t2 - u1:.2f} s{server}", flush=True)
    if args.profile:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    raise SystemExit(main())
