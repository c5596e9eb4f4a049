"""Page weight of the owner's voting page over the wire (gzip), and Lighthouse's mobile scores."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from bench.context import BENCH_DIR, FRONTEND_DIST, ROOT
from bench.server import Server

LIGHTHOUSE_DIR = BENCH_DIR / "lighthouse"
LIGHTHOUSE_CLI = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
# A route of frontend/src/router.js: its path and its lazy view's module (./<domain>/views/X.vue).
_ROUTE = re.compile(r"path:\s*'([^']+)'[^}]*?import\('\./((?:[\w-]+/)*views/(\w+)\.vue)'\)")


def ensure_frontend_built() -> str | None:
    """Build frontend/dist when it is missing; an error text if that is impossible."""
    if (FRONTEND_DIST / "index.html").is_file():
        return None
    frontend = ROOT / "frontend"
    if shutil.which("npm") is None:
        return "frontend/dist is missing and npm is not installed"
    for cmd in (["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], ["npm", "run", "build"]):
        done = subprocess.run(cmd, cwd=frontend, capture_output=True, timeout=600, check=False)
        if done.returncode != 0:
            return f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')[-500:]}"
    return None


def voting_route() -> tuple[str, str, str, bool]:
    """The SPA route of the owner's ballot page: (path pattern, view, module under src/, found);
    the compound page when there is no ballot page."""
    source = (ROOT / "frontend" / "src" / "router.js").read_text(encoding="utf-8")
    routes = _ROUTE.findall(source)
    for path, module, view in routes:
        if re.search(r"ballot|vote", path + view, re.IGNORECASE) and ":ballotId" in path.replace("(\\\\d+)", ""):
            return path, view, module, True
    for path, module, view in routes:
        if re.search(r"ballot|vote", path + view, re.IGNORECASE):
            return path, view, module, True
    for path, module, view in routes:
        if view == "CompoundView":
            return path, view, module, False
    return "/c/:compoundId(\\d+)", "CompoundView", "roster/views/CompoundView.vue", False


def fill_route(pattern: str, compound_id: int, ballot_id: int) -> str:
    path = re.sub(r"\([^)]*\)", "", pattern)
    path = path.replace(":compoundId", str(compound_id)).replace(":ballotId", str(ballot_id))
    return re.sub(r":\w+", "1", path)


def _manifest_files(module: str) -> list[str] | None:
    manifest_path = FRONTEND_DIST / ".vite" / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key not in manifest:
            return
        seen.add(key)
        chunk = manifest[key]
        files.append(chunk["file"])
        files.extend(chunk.get("css", []))
        for dep in chunk.get("imports", []):
            visit(dep)

    visit("index.html")
    visit(f"src/{module}")
    # What index.html loads beside the bundle's entry (the early start, frontend/early.js).
    html = (FRONTEND_DIST / "index.html").read_text(encoding="utf-8")
    files.extend(m.lstrip("/") for m in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html))
    return list(dict.fromkeys(files))


def _parsed_files(view: str) -> list[str]:
    """Without a manifest: index.html's entry, preloads and styles, and the view's chunk graph."""
    html = (FRONTEND_DIST / "index.html").read_text(encoding="utf-8")
    files = [m.lstrip("/") for m in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)]
    views = sorted((FRONTEND_DIST / "assets").glob(f"{view}-*.js"))
    pending = [f"assets/{p.name}" for p in views]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        files.append(name)
        text = (FRONTEND_DIST / name).read_text(encoding="utf-8", errors="replace")
        pending += [f"assets/{m}" for m in re.findall(r'from\s*"\./([^"]+\.js)"', text)]
    for js in [f for f in files if f.endswith(".js")]:
        stem = Path(js).stem.split("-")[0]
        files += [f"assets/{p.name}" for p in (FRONTEND_DIST / "assets").glob(f"{stem}-*.css")]
    return list(dict.fromkeys(files))


def wire_bytes(server: Server, page_path: str, files: list[str]) -> tuple[int, int, list[dict[str, Any]]]:
    """Bytes received for the page and its files with Accept-Encoding: gzip (and uncompressed)."""
    total = raw_total = 0
    listing = []
    with httpx.Client(base_url=server.base_url, headers={"Accept-Encoding": "gzip"}) as client:
        for path in [page_path, *(f"/{f}" for f in files)]:
            with client.stream("GET", path) as response:
                body = b"".join(response.iter_raw())  # as received: compressed
            size = len(body)
            plain = len(client.get(path, headers={"Accept-Encoding": "identity"}).content)
            total += size
            raw_total += plain
            listing.append({"path": path, "status": response.status_code, "gzip_bytes": size,
                            "bytes": plain,
                            "encoding": response.headers.get("content-encoding", "identity")})
    return total, raw_total, listing


def install_lighthouse() -> str | None:
    """Lighthouse in bench/lighthouse/ (`npm ci`) and Debian's Chromium; an error text if missing."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not LIGHTHOUSE_CLI.is_file():
        npm = shutil.which("npm")
        if npm is None:
            return "Lighthouse is not installed and npm is missing"
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=LIGHTHOUSE_DIR, capture_output=True, timeout=600, check=False)
        if done.returncode != 0 or not LIGHTHOUSE_CLI.is_file():
            return f"npm ci in bench/lighthouse failed: {done.stderr.decode(errors='replace')[-400:]}"
    if not Path(CHROME_PATH).exists():
        return f"no Chromium at {CHROME_PATH} (apt-get install chromium)"
    return None


def _num(audits: dict[str, Any], audit_id: str, digits: int = 0) -> float | None:
    value = audits.get(audit_id, {}).get("numericValue")
    return None if value is None else round(float(value), digits) if digits else round(float(value))


def _lcp_element(audits: dict[str, Any]) -> tuple[str | None, dict[str, int]]:
    """The element Lighthouse took as the largest paint, and the LCP's phases (ms)."""
    details = audits.get("largest-contentful-paint-element", {}).get("details") or {}
    tables = details.get("items", []) if details.get("type") == "list" else [details]
    element: str | None = None
    phases: dict[str, int] = {}
    for table in tables:
        for item in table.get("items", []):
            node = item.get("node")
            if isinstance(node, dict) and element is None:
                label = (node.get("nodeLabel") or "").strip().replace("\n", " ")
                element = f"{node.get('selector', '?')} «{label[:60]}»"
            if "phase" in item and "timing" in item:
                phases[str(item["phase"])] = round(float(item["timing"]))
    return element, phases


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of one Lighthouse report that say where the performance score was won or lost."""
    cats = report["categories"]
    audits = report["audits"]
    perf, a11y = cats["performance"]["score"], cats["accessibility"]["score"]
    element, phases = _lcp_element(audits)
    shifts = [
        {"element": ((item.get("node") or {}).get("selector")), "score": round(float(item.get("score", 0)), 4)}
        for item in (audits.get("layout-shifts", {}).get("details") or {}).get("items", [])
    ]
    long_tasks = [
        {"url": item.get("url"), "start_ms": round(float(item.get("startTime", 0))),
         "duration_ms": round(float(item.get("duration", 0)))}
        for item in (audits.get("long-tasks", {}).get("details") or {}).get("items", [])
    ]
    return {
        "performance": round(perf * 100) if perf is not None else None,
        "accessibility": round(a11y * 100) if a11y is not None else None,
        "first_contentful_paint_ms": _num(audits, "first-contentful-paint"),
        "largest_contentful_paint_ms": _num(audits, "largest-contentful-paint"),
        "total_blocking_time_ms": _num(audits, "total-blocking-time"),
        "cumulative_layout_shift": _num(audits, "cumulative-layout-shift", 4),
        "speed_index_ms": _num(audits, "speed-index"),
        "metric_scores": {key: audits.get(key, {}).get("score") for key in (
            "first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
            "cumulative-layout-shift", "speed-index")},
        "lcp_element": element,
        "lcp_phases_ms": phases,
        "layout_shifts": shifts,
        "long_tasks": long_tasks,
        "total_byte_weight": audits.get("total-byte-weight", {}).get("numericValue"),
        # Lighthouse's own measure of the CPU during the run (higher is faster): the simulated
        # 4x slower phone is derived from what this machine did, so a loaded machine scores lower.
        "benchmark_index": (report.get("environment") or {}).get("benchmarkIndex"),
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "form_factor": report["configSettings"]["formFactor"],
        "throttling": report["configSettings"]["throttlingMethod"],
        "lighthouse_version": report.get("lighthouseVersion"),
        "failed_a11y_audits": [
            a["id"] for a in (audits[ref["id"]] for ref in cats["accessibility"]["auditRefs"])
            if a.get("score") is not None and a["score"] < 1
        ],
    }


def lighthouse(url: str, cookie: str, out_dir: Path, timeout_s: int = 240,
               name: str = "lighthouse", save_assets: bool = False) -> dict[str, Any]:
    """One mobile Lighthouse run (its default form factor and throttling) with the owner's
    session cookie; the report stays in out_dir/<name>.json."""
    missing = install_lighthouse()
    if missing:
        return {"error": missing}
    report_path = out_dir / f"{name}.json"
    headers_path = out_dir / "lighthouse-headers.json"
    headers_path.write_text(json.dumps({"Cookie": cookie}))
    node = shutil.which("node") or "node"
    cmd = [node, str(LIGHTHOUSE_CLI), url, "--output=json", f"--output-path={report_path}",
           "--only-categories=performance,accessibility", f"--chrome-flags={CHROME_FLAGS}",
           f"--extra-headers={headers_path}", "--quiet", "--max-wait-for-load=60000"]
    if save_assets:  # the trace and DevTools log beside the report (<name>-0.trace.json)
        cmd.append("--save-assets")
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    # Lighthouse sometimes loses the trace of the page load (NO_NAVSTART, "run Lighthouse again"):
    # one more try then, and the JSON says how many it took.
    for attempt in (1, 2):
        report_path.unlink(missing_ok=True)
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=env, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"Lighthouse did not finish within {timeout_s} s"}
        if done.returncode != 0 or not report_path.is_file():
            error = f"Lighthouse exited {done.returncode}: {done.stderr.decode(errors='replace')[-600:]}"
        else:
            report = json.loads(report_path.read_text(encoding="utf-8"))
            runtime = report.get("runtimeError")
            error = f"Lighthouse runtime error: {runtime.get('message')}" if runtime else ""
        if not error:
            break
        if "again" not in error or attempt == 2:
            return {"error": error, "attempts": attempt}
    return {"attempts": attempt, "report": str(report_path), **summarize(report)}


def lighthouse_runs(url: str, cookie: str, out_dir: Path, runs: int,
                    log: Any = None, save_assets: bool = False) -> dict[str, Any]:
    """`runs` consecutive Lighthouse runs; the page's figures are the worst run's scores."""
    done: list[dict[str, Any]] = []
    for i in range(1, runs + 1):
        one = lighthouse(url, cookie, out_dir, name=f"lighthouse-{i}", save_assets=save_assets)
        done.append(one)
        if log is not None:
            log(describe_run(i, one))
        if "node is not installed" in one.get("error", "") or "no Chromium" in one.get("error", ""):
            break
    ok = [r for r in done if "error" not in r]
    if not ok:
        return {"error": done[-1]["error"], "runs": done}
    first = ok[0]
    perf = [r.get("performance") for r in done]
    a11y = [r.get("accessibility") for r in done]
    return {
        "runs": done,
        "runs_requested": runs,
        "performance_runs": perf,
        "accessibility_runs": a11y,
        # The worst run: a target "in each of N runs" is met when this one meets it.
        "performance": None if None in perf else min(p for p in perf if p is not None),
        "accessibility": None if None in a11y else min(a for a in a11y if a is not None),
        **{key: first[key] for key in ("final_url", "form_factor", "throttling",
                                       "lighthouse_version", "total_byte_weight")},
        "largest_contentful_paint_ms": max(r["largest_contentful_paint_ms"] or 0 for r in ok),
        "first_contentful_paint_ms": max(r["first_contentful_paint_ms"] or 0 for r in ok),
        "failed_a11y_audits": sorted({a for r in ok for a in r["failed_a11y_audits"]}),
        # Lighthouse's CPU benchmark in each run (about 2,000 on this machine when it is quiet):
        # a low one says the machine was busy, and the simulated phone four times slower still.
        "benchmark_index_runs": [r.get("benchmark_index") for r in done],
    }


def describe_run(i: int, one: dict[str, Any]) -> str:
    """One line per Lighthouse run: score, the five metrics, and the LCP element with its phases."""
    if "error" in one:
        return f"run {i}: error: {one['error']}"
    phases = ", ".join(f"{k} {v}" for k, v in one["lcp_phases_ms"].items())
    return (f"run {i}: performance {one['performance']}, accessibility {one['accessibility']} | "
            f"FCP {one['first_contentful_paint_ms']} ms, LCP {one['largest_contentful_paint_ms']} ms, "
            f"TBT {one['total_blocking_time_ms']} ms, CLS {one['cumulative_layout_shift']}, "
            f"SI {one['speed_index_ms']} ms | LCP element {one['lcp_element']} ({phases}) | "
            f"benchmarkIndex {one['benchmark_index']}")


def run(server: Server, *, compound_id: int, ballot_id: int, owner_token: str, out_dir: Path,
        with_lighthouse: bool, lighthouse_runs_count: int = 3, log: Any = None,
        save_assets: bool = False) -> dict[str, Any]:
    build_error = ensure_frontend_built()
    if build_error:
        return {"error": build_error, "bytes_gzip": None,
                "lighthouse": {"error": "no built front end"}}
    pattern, view, module, found = voting_route()
    page_path = fill_route(pattern, compound_id, ballot_id)
    files = _manifest_files(module)
    source = "frontend/dist/.vite/manifest.json"
    if files is None:
        files, source = _parsed_files(view), "index.html and the chunks' imports (no manifest)"
    total, plain, listing = wire_bytes(server, page_path, files)
    out: dict[str, Any] = {
        "route": pattern,
        "url_path": page_path,
        "view": view,
        "ballot_view_present": found,
        "note": None if found else "the front end has no ballot page yet: measured the owner's "
                                   "compound page, where a ballot page would start from",
        "files_from": source,
        "bytes_gzip": total,
        "bytes_uncompressed": plain,
        "files": listing,
    }
    if with_lighthouse:
        out["lighthouse"] = lighthouse_runs(f"{server.base_url}{page_path}", f"gj_access={owner_token}",
                                            out_dir, lighthouse_runs_count, log, save_assets)
    else:
        out["lighthouse"] = {"error": "skipped (--smoke or --no-lighthouse)"}
    return out


# --- `python -m bench.workloads.page`: the page alone, measured again and again ------------------


def main(argv: list[str] | None = None) -> int:
    """Seed one compound with an open ballot, start the real server, and run Lighthouse on the
    owner's ballot page `--runs` times in a row (the same measurement as `python -m bench`)."""
    import argparse
    import sys
    import time
    from datetime import UTC, datetime

    parser = argparse.ArgumentParser(prog="python -m bench.workloads.page", description=main.__doc__)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs in a row (3)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                        help="database behind the server (sqlite: 1 worker; postgres: 2 workers, "
                             "as the full bench's page measurement)")
    parser.add_argument("--subjects", type=int, default=10_000,
                        help="owners in the compound (10,000 as in the full bench)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="server for --db postgres (a database gongjue_bench_page is created "
                             "and dropped)")
    parser.add_argument("--out", type=Path, default=None, help="JSON of the runs (default: the run folder)")
    parser.add_argument("--save-assets", action="store_true",
                        help="keep each run's trace and DevTools log (Lighthouse --save-assets)")
    args = parser.parse_args(argv)

    from bench import context

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    stamp = datetime.now(UTC)
    run_dir = context.RUNS_DIR / f"page-{stamp:%Y%m%dT%H%M%S}-{os.getpid()}"
    ctx = context.prepare(run_dir)  # before anything reads app settings

    from app.db import set_engine
    from bench import databases, seed

    db = (databases.sqlite_database(run_dir) if args.db == "sqlite"
          else databases.postgres_database(args.postgres_url, "gongjue_bench_page"))
    engine = db.engine()
    set_engine(engine)
    try:
        databases.create_schema(engine)
        world = seed.seed_cast_world(subjects=args.subjects, voters=1)
        log(f"compound of {args.subjects:,} owners with an open ballot ({args.db})")
        with Server(env=ctx.server_env(db.url), workers=db.workers,
                    log_path=run_dir / "server.log") as server:
            result = run(server, compound_id=world.compound_id, ballot_id=world.ballot_id,
                         owner_token=world.voters[0].token, out_dir=run_dir, with_lighthouse=True,
                         lighthouse_runs_count=args.runs, log=log, save_assets=args.save_assets)
    finally:
        set_engine(None)
        engine.dispose()
        if args.db == "postgres":
            databases.drop_postgres(args.postgres_url, "gongjue_bench_page")
        for path in run_dir.glob("bench.db*"):
            path.unlink(missing_ok=True)
    lh = result["lighthouse"]
    out = args.out or run_dir / "page.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{result['view']} {result['url_path']}: {result['bytes_gzip']:,} B gzip over the wire "
          f"({len(result['files'])} files)")
    for i, one in enumerate(lh.get("runs", []), 1):
        print(describe_run(i, one))
    if "error" in lh:
        print(f"Lighthouse: {lh['error']}")
        return 1
    print(f"performance {' / '.join(str(p) for p in lh['performance_runs'])} "
          f"(worst {lh['performance']}); accessibility {lh['accessibility']}; reports and JSON in {run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
