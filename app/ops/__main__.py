"""Command line: back up and restore a deployment.

    python -m app.ops backup /backups/gongjue-2026-11-22          # while the server runs
    python -m app.ops backup DIR --with-signing-key                 # the private key too
    python -m app.ops backup --into /var/backups/gongjue --keep-daily 14 --keep-weekly 8
                                                                    # daily, from a timer
    python -m app.ops prune /var/backups/gongjue --keep-daily 14 --keep-weekly 8 [--dry-run]
    python -m app.ops show DIR                                      # what a backup holds
    python -m app.ops restore DIR [--force]                         # server stopped

The database is GONGJUE_DATABASE_URL (or --database-url): SQLite is copied with SQLite's online
backup API, PostgreSQL with `pg_dump --format=custom` and restored with `pg_restore --clean`.
Uploaded files (GONGJUE_FILES_DIR) go along. The checkpoint signing key does not, unless asked:
a copy of the key lets whoever holds the backup sign checkpoints, so keep it apart.
`--into` names the backup by its time (gongjue-YYYYMMDD-HHMMSS, Asia/Shanghai); with --keep-daily
and --keep-weekly it then deletes the older backups there (see backup.prune), after the new one is
whole. Exit status: 0 done and checked, 1 restored but a check failed, 2 refused (nothing changed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.ops.backup import OpsError, backup, dated_target, prune, read_manifest, restore

KEY_NOTES = {
    "match": "签名密钥与备份时一致",
    "install": "签名密钥已从备份放回",
    "none_at_backup": "备份时没有签名密钥",
    "different": "警告：签名密钥与备份时不同（--allow-different-key），已有检查点须用备份清单中的公钥验证",
    "missing": "警告：签名密钥不在 {path}。请在启动服务前放回备份时的密钥（key_id {key_id}），"
               "否则无法签新的检查点",
}


def _heads(compounds: list[dict[str, Any]]) -> list[str]:
    return [f"  小区 {c['compound_id']} {c['name']}: 链头 seq {c['head_seq']} hash {c['head_hash']}"
            f"，已公告表决 {c['published_ballots']} 次" for c in compounds]


def _print_manifest(manifest: dict[str, Any], where: Path) -> None:
    db = manifest["database"]
    key = manifest.get("signing_key")
    print(f"备份 {where}（{manifest['created_at']}，{db['kind']}，{db['bytes']} 字节，"
          f"{len(manifest['tables'])} 张表，文件 {manifest['files']['count']} 个）")
    print(*_heads(manifest["compounds"]), sep="\n")
    if key is None:
        print("签名密钥：备份时不存在")
    elif key["included"]:
        print(f"签名密钥 {key['key_id']}：私钥在备份中（此备份须按密钥同等保管）")
    else:
        print(f"签名密钥 {key['key_id']}：只记录了公钥；私钥请另行保管")


def _prune(into: Path, keep_daily: int | None, keep_weekly: int | None, *, dry_run: bool,
           as_json: bool) -> int:
    result = prune(into, keep_daily=keep_daily if keep_daily is not None else 14,
                   keep_weekly=keep_weekly if keep_weekly is not None else 8, dry_run=dry_run)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        verb = "将删除" if dry_run else "已删除"
        print(f"保留备份 {len(result['kept'])} 个，{verb} {len(result['deleted'])} 个："
              f"{'、'.join(result['deleted']) or '无'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.ops", description="备份与恢复")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", help="back up the database, files and key id into a new directory")
    where = b.add_mutually_exclusive_group(required=True)
    where.add_argument("target", type=Path, nargs="?", help="a new (or empty) directory")
    where.add_argument("--into", type=Path,
                       help="a folder of backups: the new one is named by its date and time")
    b.add_argument("--with-signing-key", action="store_true",
                   help="also copy the checkpoint signing key (the backup becomes as secret as it)")
    b.add_argument("--no-files", action="store_true", help="leave the uploaded files out")
    pr = sub.add_parser("prune", help="delete old backups in a folder of backups")
    pr.add_argument("into", type=Path)
    pr.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    for parser_ in (b, pr):
        parser_.add_argument("--keep-daily", type=int, default=None,
                             help="keep the newest backup of each of the last N days")
        parser_.add_argument("--keep-weekly", type=int, default=None,
                             help="keep the newest backup of each of the last N weeks")
    s = sub.add_parser("show", help="print what a backup holds")
    s.add_argument("source", type=Path)
    r = sub.add_parser("restore", help="restore a backup into the configured database")
    r.add_argument("source", type=Path)
    r.add_argument("--force", action="store_true", help="overwrite a database that holds data")
    r.add_argument("--allow-different-key", action="store_true",
                   help="go on although the configured signing key is not the backup's")
    for p in (b, r):
        p.add_argument("--database-url", help="instead of GONGJUE_DATABASE_URL")
    for p in (b, s, r, pr):
        p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    settings = get_settings()
    database_url = getattr(args, "database_url", None) or settings.database_url
    try:
        if args.command == "prune":
            return _prune(args.into, args.keep_daily, args.keep_weekly, dry_run=args.dry_run,
                          as_json=args.json)
        if args.command == "backup":
            retention = (args.keep_daily, args.keep_weekly)
            if retention != (None, None) and args.into is None:
                raise OpsError("--keep-daily / --keep-weekly 须与 --into 一起使用")
            target = args.target or dated_target(args.into)
            manifest = backup(target, database_url=database_url,
                              files_dir=settings.files_dir, key_path=settings.signing_key_path,
                              include_key=args.with_signing_key, include_files=not args.no_files)
            if args.json:
                print(json.dumps(manifest, ensure_ascii=False, indent=2))
            else:
                _print_manifest(manifest, target)
            if retention != (None, None):
                return _prune(args.into, args.keep_daily, args.keep_weekly, dry_run=False,
                              as_json=args.json)
            return 0
        if args.command == "show":
            manifest = read_manifest(args.source)
            if args.json:
                print(json.dumps(manifest, ensure_ascii=False, indent=2))
            else:
                _print_manifest(manifest, args.source)
            return 0
        result = restore(args.source, database_url=database_url, files_dir=settings.files_dir,
                         key_path=settings.signing_key_path, force=args.force,
                         allow_different_key=args.allow_different_key)
    except OpsError as exc:
        print(f"拒绝执行：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"已恢复 {result['database']} 数据库（备份于 {result['backup_created_at']}），"
              f"恢复文件 {result['files_restored']} 个")
        print(*_heads(result["compounds"]), sep="\n")
        for c in result["compounds"]:
            if not (c["matches_backup"] and c["chain_ok"]):
                print(f"  小区 {c['compound_id']}：与备份不符或审计链校验失败：{c['problem']}")
        for cid in result["missing_compounds"]:
            print(f"  小区 {cid}：恢复后缺失")
        print("各表行数与备份一致" if result["tables_match"] else "各表行数与备份不一致")
        print(KEY_NOTES[result["signing_key"]].format(path=settings.signing_key_path,
                                                     key_id=result["key_id"]))
    print("OK: 链头与各表行数与备份一致，审计链校验通过" if result["ok"] else "FAILED: 恢复后的检查未通过",
          file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
