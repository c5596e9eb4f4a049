"""The board print of a notice with a 2,000-row table (the most a table section takes): render time.

    python -m bench.profile_notice_pdf [--rows 2000] [--repeat 3] [--profile]

Not part of `python -m bench`: a developer's tool for app/notices/pdf.py. It renders in this
process, without a database (the print is built from a `PrintableNotice`), and reports the wall
and CPU seconds of each render and the pages and bytes of the result; `--profile` prints
cProfile's top functions of one render.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path


def printable(rows: int):  # type: ignore[no-untyped-def]
    from app.notices.pdf import PrintableNotice, issuer_of
    from app.notices.schemas import StructuredContent

    table = [[i, f"{i // 240 + 1}栋{(i % 240) // 120 + 1}单元{(i % 120) // 6 + 1}{i % 6 + 1:02d}",
              f"{89 + (i * 7) % 60}.{i % 100:02d}", "已缴纳" if i % 9 else "未缴纳",
              f"{1200 + (i * 37) % 900:,}.00"] for i in range(1, rows + 1)]
    structured = StructuredContent.model_validate({"sections": [
        {"type": "text", "heading": "说明", "text": "下表为本年度物业服务费缴纳情况，按房屋列出。"},
        {"type": "table", "heading": "缴费明细", "columns": ["序号", "房屋", "面积（㎡）", "状态", "金额（元）"],
         "rows": table},
    ]})
    return PrintableNotice(
        compound_name="基准花园", issuer=issuer_of("基准花园"), notice_id=1, kind_label="公示",
        title="2026年度物业服务费缴纳情况公示", body="现将本年度缴费情况公示如下。",
        audience_label="全体业主", published_at=datetime(2026, 12, 1, 2, tzinfo=UTC),
        display_days=7, display_until=date(2026, 12, 8), structured=structured,
        attachment_names=(), corrects=None, corrected_by=None,
        url="https://gongjue.bench.example/c/1/notices/1", content_sha256="0" * 64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    from app.notices.pdf import render_notice_pdf

    notice = printable(args.rows)
    for i in range(args.repeat):
        profiler = cProfile.Profile() if args.profile and i == 0 else None
        c0, t0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        content = render_notice_pdf(notice)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        pages = content.count(b"/Type /Page\n") or content.count(b"/Type /Page ")
        print(f"{args.rows} rows: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(content):,} bytes, "
              f"{pages} pages", flush=True)
        if profiler:
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    # What a request costs once the print is kept: the first request renders and keeps it, a
    # process with an empty memory cache (another worker, a restart) reads the kept file.
    from app.config import get_settings
    from app.notices import pdf

    get_settings().files_dir = Path(tempfile.mkdtemp(prefix="gj-notice-print-"))
    t0 = time.perf_counter()
    first = pdf.notice_pdf_bytes(notice, compound_id=1)
    t1 = time.perf_counter()
    pdf.clear_cache()
    kept = pdf.notice_pdf_bytes(notice, compound_id=1)
    t2 = time.perf_counter()
    assert kept == first and pdf.cache_stats()["renders"] == 0
    print(f"first request (render and keep) {t1 - t0:.2f} s; another process (kept file) "
          f"{(t2 - t1) * 1000:.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
