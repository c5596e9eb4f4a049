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
_ROUTE = re.compile(r"path:\s*'([^']+)'[^}]*?import\('\./views/(\w+)\.vue'\)")


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


def voting_route() -> tuple[str, str, bool]:
    """The SPA route of the owner's ballot page (path pattern, view), or the compound page."""
    source = (ROOT / "frontend" / "src" / "router.js").read_text(encoding="utf-8")
    routes = _ROUTE.findall(source)
    for path, view in routes:
        if re.search(r"ballot|vote", path + view, re.IGNORECASE) and ":ballotId" in path.replace("(\\\\d+)", ""):
            return path, view, True
    for path, view in routes:
        if re.search(r"ballot|vote", path + view, re.IGNORECASE):
            return path, view, True
    return "/c/:compoundId(\\d+)", "CompoundView", False


def fill_route(pattern: str, compound_id: int, ballot_id: int) -> str:
    path = re.sub(r"\([^)]*\)", "", pattern)
    path = path.replace(":compoundId", str(compound_id)).replace(":ballotId", str(ballot_id))
    return re.sub(r":\w+", "1", path)


def _manifest_files(view: str) -> list[str] | None:
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
    visit(f"src/views/{view}.vue")
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


def lighthouse(url: str, cookie: str, out_dir: Path, timeout_s: int = 240) -> dict[str, Any]:
    """Mobile Lighthouse (its default form factor and throttling) with the owner's session cookie."""
    node = shutil.which("node")
    if node is None:
        return {"error": "node is not installed"}
    if not LIGHTHOUSE_CLI.is_file():
        npm = shutil.which("npm")
        if npm is None:
            return {"error": "Lighthouse is not installed and npm is missing"}
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=LIGHTHOUSE_DIR, capture_output=True, timeout=600, check=False)
        if done.returncode != 0 or not LIGHTHOUSE_CLI.is_file():
            return {"error": f"npm ci in bench/lighthouse failed: {done.stderr.decode(errors='replace')[-400:]}"}
    if not Path(CHROME_PATH).exists():
        return {"error": f"no Chromium at {CHROME_PATH} (apt-get install chromium)"}
    report_path = out_dir / "lighthouse.json"
    headers_path = out_dir / "lighthouse-headers.json"
    headers_path.write_text(json.dumps({"Cookie": cookie}))
    cmd = [node, str(LIGHTHOUSE_CLI), url, "--output=json", f"--output-path={report_path}",
           "--only-categories=performance,accessibility", f"--chrome-flags={CHROME_FLAGS}",
           f"--extra-headers={headers_path}", "--quiet", "--max-wait-for-load=60000"]
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
    cats = report["categories"]
    audits = report["audits"]
    perf, a11y = cats["performance"]["score"], cats["accessibility"]["score"]
    return {
        "attempts": attempt,
        "performance": round(perf * 100) if perf is not None else None,
        "accessibility": round(a11y * 100) if a11y is not None else None,
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "form_factor": report["configSettings"]["formFactor"],
        "throttling": report["configSettings"]["throttlingMethod"],
        "total_byte_weight": audits.get("total-byte-weight", {}).get("numericValue"),
        "first_contentful_paint_ms": audits.get("first-contentful-paint", {}).get("numericValue"),
        "largest_contentful_paint_ms": audits.get("largest-contentful-paint", {}).get("numericValue"),
        "lighthouse_version": report.get("lighthouseVersion"),
        "failed_a11y_audits": [
            a["id"] for a in (audits[ref["id"]] for ref in cats["accessibility"]["auditRefs"])
            if a.get("score") is not None and a["score"] < 1
        ],
    }


def run(server: Server, *, compound_id: int, ballot_id: int, owner_token: str, out_dir: Path,
        with_lighthouse: bool) -> dict[str, Any]:
    build_error = ensure_frontend_built()
    if build_error:
        return {"error": build_error, "bytes_gzip": None,
                "lighthouse": {"error": "no built front end"}}
    pattern, view, found = voting_route()
    page_path = fill_route(pattern, compound_id, ballot_id)
    files = _manifest_files(view)
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
        out["lighthouse"] = lighthouse(f"{server.base_url}{page_path}", f"gj_access={owner_token}", out_dir)
    else:
        out["lighthouse"] = {"error": "skipped (--smoke or --no-lighthouse)"}
    return out
