"""Backing up and restoring a deployment: the database, the uploaded files, and the identity of
the checkpoint signing key (the private key itself only when asked for).

A backup is a directory:

    manifest.json            what was backed up: chain heads, row counts, checksums, key id
    database.sqlite3         SQLite: a copy made with SQLite's online backup API
    database.pgdump          PostgreSQL: `pg_dump --format=custom` of one exported snapshot
    files/                   the uploaded files (content-addressed, never overwritten)
    checkpoint_ed25519.pem   only with --with-signing-key

The manifest's heads and counts are read from the very snapshot that was copied, so a backup
taken while the server writes is consistent with its own summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import URL, make_url

from app.audit.signing import key_id, load_public_key, public_key_pem
from app.clock import now
from app.db import normalize_url

FORMAT = "gongjue-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
KEY_FILE = "checkpoint_ed25519.pem"
FILES = "files"
# Bookkeeping tables that do not make a database "in use".
IGNORED_TABLES = {"alembic_version"}


class OpsError(Exception):
    """A refusal or failure the operator has to act on; nothing was changed."""


# --- what a database holds ----------------------------------------------------------------------


def _tables(cur: Any, *, sqlite: bool) -> list[str]:
    if sqlite:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema ="
                    " current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
    return [str(row[0]) for row in cur.fetchall()]


def _row_counts(cur: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cur.execute(f'SELECT count(*) FROM "{table}"')  # nosec B608 - names from the database catalog, never from input
        counts[table] = int(cur.fetchone()[0])
    return counts


def _facts(cur: Any, *, sqlite: bool) -> dict[str, Any]:
    """Chain heads, published ballots per compound, row counts and the schema revision."""
    tables = _tables(cur, sqlite=sqlite)
    facts: dict[str, Any] = {"tables": _row_counts(cur, tables), "compounds": [],
                             "alembic_revision": None}
    if "alembic_version" in tables:
        cur.execute("SELECT version_num FROM alembic_version")
        row = cur.fetchone()
        facts["alembic_revision"] = row[0] if row else None
    if {"audit_chain_head", "compound"} <= set(tables):
        published: dict[int, int] = {}
        if "ballot" in tables:
            cur.execute("SELECT compound_id, count(*) FROM ballot WHERE published_at IS NOT NULL"
                        " GROUP BY compound_id")
            published = {int(c): int(n) for c, n in cur.fetchall()}
        cur.execute("SELECT h.compound_id, c.name, h.seq, h.hash FROM audit_chain_head h"
                    " JOIN compound c ON c.id = h.compound_id ORDER BY h.compound_id")
        facts["compounds"] = [
            {"compound_id": int(cid), "name": name, "head_seq": int(seq), "head_hash": digest,
             "published_ballots": published.get(int(cid), 0)}
            for cid, name, seq, digest in cur.fetchall()
        ]
    return facts


def _in_use(counts: dict[str, int]) -> list[str]:
    return [t for t, n in counts.items() if n and t not in IGNORED_TABLES]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise OpsError("内存数据库无法备份或恢复：GONGJUE_DATABASE_URL 须指向一个 SQLite 文件")
    return Path(url.database)


def _connect_sqlite(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def _backup_sqlite(source: Path, dest: Path) -> dict[str, Any]:
    if not source.exists():
        raise OpsError(f"找不到数据库文件 {source}")
    src = _connect_sqlite(source)
    dst = _connect_sqlite(dest)
    try:
        # The online backup API copies every page under one read lock: a consistent snapshot,
        # while the server's writers carry on in the WAL.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise OpsError("备份副本未通过 SQLite 完整性检查")
        facts = _facts(dst.cursor(), sqlite=True)
    finally:
        src.close()
        dst.close()
    return {**facts, "database": {"kind": "sqlite", "file": SQLITE_FILE,
                                  "sqlite_version": sqlite3.sqlite_version}}


def _sqlite_facts(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"tables": {}, "compounds": [], "alembic_revision": None}
    conn = _connect_sqlite(path)
    try:
        return _facts(conn.cursor(), sqlite=True)
    finally:
        conn.close()


def _restore_sqlite(backup_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = _connect_sqlite(backup_file, read_only=True)
    dst = _connect_sqlite(target)
    try:
        # Page by page into the target through SQLite's own locking: no stale -wal file left
        # behind, as a plain file copy over a WAL database would.
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# --- PostgreSQL ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    uri: str  # libpq URI without the password
    password: str | None
    database: str

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password  # not on the command line, where ps shows it
        return env


def _pg_target(url: URL) -> PgTarget:
    plain = url.set(drivername="postgresql", password=None)
    return PgTarget(uri=plain.render_as_string(hide_password=False),
                    password=str(url.password) if url.password else None,
                    database=url.database or "")


@contextmanager
def _pg_connect(target: PgTarget) -> Iterator[Any]:
    import psycopg

    kwargs = {"password": target.password} if target.password else {}
    with psycopg.connect(target.uri, **kwargs) as conn:
        yield conn


def _tool_major(tool: str) -> int:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise OpsError(f"找不到 {tool}：请安装 postgresql-client（主版本不低于服务器）") from exc
    match = re.search(r"\)\s*(\d+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian …)"
    if not match:
        raise OpsError(f"无法识别 {tool} 的版本：{out.strip()}")
    return int(match.group(1))


def _server_major(conn: Any) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _run(command: list[str], target: PgTarget) -> None:
    done = subprocess.run(command, env=target.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise OpsError(f"{command[0]} 失败（退出码 {done.returncode}）：{done.stderr.strip()}")


def _backup_pg(url: URL, dest: Path) -> dict[str, Any]:
    import psycopg

    target = _pg_target(url)
    dump_major = _tool_major("pg_dump")
    with _pg_connect(target) as conn:
        server_major = _server_major(conn)
        conn.rollback()
        if dump_major < server_major:
            raise OpsError(f"pg_dump {dump_major} 比服务器 PostgreSQL {server_major} 旧："
                           f"请安装 postgresql-client-{server_major}")
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            # pg_dump reads the snapshot this transaction exported, so the dump and the heads
            # and counts below describe the same moment.
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            facts = _facts(conn.cursor(), sqlite=False)
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dest}",
                  f"--dbname={target.uri}"], target)
    return {**facts, "database": {"kind": "postgresql", "file": PG_FILE,
                                  "server_major": server_major, "pg_dump_major": dump_major}}


def _pg_facts(target: PgTarget) -> dict[str, Any]:
    with _pg_connect(target) as conn:
        return _facts(conn.cursor(), sqlite=False)


def _restore_pg(backup_file: Path, target: PgTarget, dump_major: int) -> None:
    restore_major = _tool_major("pg_restore")
    if restore_major < dump_major:
        raise OpsError(f"备份由 pg_dump {dump_major} 生成，pg_restore {restore_major} 无法读取：请安装"
                       f" postgresql-client-{dump_major}")
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={target.uri}", str(backup_file)],
         target)


# --- the signing key ----------------------------------------------------------------------------


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise OpsError(f"{path} 不是 Ed25519 私钥")
    return key


def _key_info(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    public = _load_private_key(path).public_key()
    return {"key_id": key_id(public), "public_key_pem": public_key_pem(public), "included": False}


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# --- files --------------------------------------------------------------------------------------


_CONTENT_NAME = re.compile(r"[0-9a-f]{64}")


def _file_list(root: Path) -> list[Path]:
    """Stored files (named by their SHA-256); a write still in progress (*.tmp) is not one."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and _CONTENT_NAME.fullmatch(p.name))


def _restore_files(source: Path, files_dir: Path) -> int:
    """Copy back every file the deployment lacks; each name is the SHA-256 of its content."""
    restored = 0
    for path in _file_list(source):
        if _sha256(path) != path.name:
            raise OpsError(f"备份中的文件 {path} 内容与其名称（SHA-256）不符：备份已损坏")
        dest = files_dir / path.relative_to(source)
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        restored += 1
    return restored


# --- backup -------------------------------------------------------------------------------------


def backup(target: Path, *, database_url: str, files_dir: Path, key_path: Path,
           include_key: bool = False, include_files: bool = True) -> dict[str, Any]:
    """Write a backup directory and return its manifest."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OpsError(f"{target} 已存在且不是空目录：请指定一个新的备份目录")
    url = make_url(normalize_url(database_url))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed at the end: an interrupted backup never looks like a whole one.
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if url.get_backend_name() == "sqlite":
            facts = _backup_sqlite(_sqlite_path(url), work / SQLITE_FILE)
        else:
            facts = _backup_pg(url, work / PG_FILE)
        db_file = work / facts["database"]["file"]
        facts["database"] |= {"sha256": _sha256(db_file), "bytes": db_file.stat().st_size}
        # After the database snapshot: every file it refers to was written before it.
        files = _file_list(files_dir) if include_files else []
        for path in files:
            dest = work / FILES / path.relative_to(files_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        key = _key_info(key_path)
        if key and include_key:
            _write_private(work / KEY_FILE, key_path.read_bytes())
            key["included"] = True
        manifest = {
            "format": FORMAT,
            "created_at": now().isoformat(),
            **facts,
            "files": {"included": include_files, "count": len(files),
                      "bytes": sum(p.stat().st_size for p in files)},
            "signing_key": key,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.exists():
        raise OpsError(f"{source} 不是备份目录：缺少 {MANIFEST}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise OpsError(f"不支持的备份格式：{manifest.get('format')}")
    return manifest


# --- restore ------------------------------------------------------------------------------------


def _key_status(manifest_key: dict[str, Any] | None, key_path: Path, allow_different: bool) -> str:
    """How the configured key relates to the backup's; a different one only when allowed."""
    if manifest_key is None:
        return "none_at_backup"
    if key_path.exists():
        current = key_id(_load_private_key(key_path).public_key())
        if current == manifest_key["key_id"]:
            return "match"
        if not allow_different:
            raise OpsError(
                f"{key_path} 的签名密钥（{current}）与备份时的（{manifest_key['key_id']}）不同："
                "已签名的检查点将无法用它验证。请放回原密钥，或确认后加 --allow-different-key")
        return "different"
    return "install" if manifest_key.get("included") else "missing"


def restore(source: Path, *, database_url: str, files_dir: Path, key_path: Path,
            force: bool = False, allow_different_key: bool = False) -> dict[str, Any]:
    """Restore a backup into the configured database and check the result against the manifest.

    Every check that can refuse runs before anything is overwritten.
    """
    manifest = read_manifest(source)
    db_info = manifest["database"]
    db_file = source / db_info["file"]
    if not db_file.exists() or _sha256(db_file) != db_info["sha256"]:
        raise OpsError(f"{db_file} 缺失或校验和与清单不符：备份已损坏")
    key_status = _key_status(manifest.get("signing_key"), key_path, allow_different_key)
    url = make_url(normalize_url(database_url))
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    if kind != db_info["kind"]:
        raise OpsError(f"备份来自 {db_info['kind']}，而目标数据库是 {kind}")
    if kind == "sqlite":
        path = _sqlite_path(url)
        before = _sqlite_facts(path)
    else:
        target = _pg_target(url)
        before = _pg_facts(target)
    in_use = _in_use(before["tables"])
    if in_use and not force:
        raise OpsError(f"目标数据库不是空的（{', '.join(in_use[:5])} 等表中有数据）："
                       "恢复会覆盖它。确认后加 --force")

    if kind == "sqlite":
        _restore_sqlite(db_file, path)
        after = _sqlite_facts(path)
    else:
        _restore_pg(db_file, target, int(db_info.get("pg_dump_major", 0)))
        after = _pg_facts(target)
    files_restored = _restore_files(source / FILES, files_dir)
    if key_status == "install":
        _write_private(key_path, (source / KEY_FILE).read_bytes())

    verified = _verify_chains(database_url, after["compounds"], manifest.get("signing_key"))
    backed_up = {c["compound_id"]: c for c in manifest["compounds"]}
    compounds = []
    for c in after["compounds"]:
        report = verified[c["compound_id"]]
        compounds.append({**c, "matches_backup": backed_up.get(c["compound_id"]) == c,
                          "chain_ok": report["ok"],
                          "problem": report["first_problem"] or
                          (report["checkpoint_problems"] or [None])[0]})
    missing = sorted(set(backed_up) - {c["compound_id"] for c in after["compounds"]})
    tables_match = after["tables"] == manifest["tables"]
    ok = (not missing and tables_match
          and all(c["matches_backup"] and c["chain_ok"] for c in compounds))
    return {"ok": ok, "database": kind, "compounds": compounds, "missing_compounds": missing,
            "tables_match": tables_match, "tables": len(after["tables"]),
            "files_restored": files_restored, "signing_key": key_status,
            "key_id": (manifest.get("signing_key") or {}).get("key_id"),
            "backup_created_at": manifest["created_at"]}


def _verify_chains(database_url: str, compounds: list[dict[str, Any]],
                   manifest_key: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    """Verify each restored chain against the key recorded at backup time (not the local one)."""
    from sqlmodel import Session

    from app.audit.service import verify_compound
    from app.db import make_engine

    public: Ed25519PublicKey = (
        load_public_key(manifest_key["public_key_pem"]) if manifest_key
        # No key was known: any signed checkpoint fails to verify, as it should.
        else Ed25519PrivateKey.generate().public_key()
    )
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return {c["compound_id"]: verify_compound(session, compound_id=c["compound_id"],
                                                      public_key=public)
                    for c in compounds}
    finally:
        engine.dispose()


# --- retention ----------------------------------------------------------------------------------


def dated_target(into: Path) -> Path:
    """A new directory under `into` named by the time of the backup (Asia/Shanghai)."""
    from app.calendar import SHANGHAI

    stamp = now().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    target = into / f"gongjue-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = into / f"gongjue-{stamp}-{n}"
    return target


def _backups_in(into: Path) -> list[tuple[datetime, Path]]:
    """Whole backups directly under `into`, newest first; anything else is never touched."""
    found = []
    for path in into.iterdir() if into.is_dir() else []:
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            manifest = read_manifest(path)
            created = datetime.fromisoformat(manifest["created_at"])
        except (OpsError, ValueError, KeyError, json.JSONDecodeError):
            continue
        found.append((created, path))
    return sorted(found, key=lambda item: (item[0], item[1].name), reverse=True)


def prune(into: Path, *, keep_daily: int, keep_weekly: int,
          dry_run: bool = False) -> dict[str, list[str]]:
    """Keep the newest backup of each of the last `keep_daily` days that have one and of each of
    the last `keep_weekly` ISO weeks that have one (days and weeks in Asia/Shanghai); delete the
    other backups under `into`. Directories that are not backups are left alone."""
    from app.calendar import SHANGHAI

    if keep_daily < 1 or keep_weekly < 0:
        raise OpsError("--keep-daily 至少为 1（最新的备份总是保留），--keep-weekly 不能为负数")
    backups = _backups_in(into)
    keep: set[Path] = set()
    days: set[date] = set()
    weeks: set[tuple[int, int]] = set()
    for created, path in backups:  # newest first: the first of a day or week is its newest
        day = created.astimezone(SHANGHAI).date()
        iso = day.isocalendar()
        week = (iso.year, iso.week)
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(path)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(path)
    deleted = [path for _, path in backups if path not in keep]
    if not dry_run:
        for path in deleted:
            shutil.rmtree(path)
    return {"kept": sorted(p.name for p in keep), "deleted": sorted(p.name for p in deleted)}
