"""Command line: verify a chain (live database or exported file) and export it.

    python -m app.audit verify --compound 1
    python -m app.audit verify --file audit-1.jsonl [--public-key key.pem]
    python -m app.audit export --compound 1 --output audit-1.jsonl
    python -m app.audit checkpoint            # daily, from cron
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.audit.signing import load_public_key
from app.audit.verify import parse_export, verify_export
from app.models import load_all_models


def _verify_file(path: Path, public_key_path: Path | None) -> dict:
    with path.open(encoding="utf-8") as fh:
        header, events, checkpoints = parse_export(fh)
    pem = public_key_path.read_text() if public_key_path else header.get("public_key_pem")
    key = load_public_key(pem) if pem else None
    report = verify_export(header, events, checkpoints, key).as_dict()
    report["public_key_source"] = (
        "given" if public_key_path else ("export header" if pem else "none")
    )
    report["signed_head"] = bool(header.get("head"))
    return report


def _verify_db(compound_id: int) -> dict:
    from app.audit.service import verify_compound
    from app.db import transaction

    with transaction(write=False) as session:
        return verify_compound(session, compound_id=compound_id)


def _export(compound_id: int, output: Path) -> int:
    from app.audit.service import export_lines
    from app.db import transaction

    with transaction(write=False) as session, output.open("w", encoding="utf-8") as fh:
        n = 0
        for line in export_lines(session, compound_id=compound_id):
            fh.write(line + "\n")
            n += 1
    return n


def _checkpoint_all(reason: str) -> int:
    """Sign a checkpoint for every compound whose chain moved since its last checkpoint."""
    from sqlalchemy import select

    from app.audit.models import AuditChainHead
    from app.audit.service import list_checkpoints, sign_checkpoint
    from app.db import transaction

    signed = 0
    with transaction() as session:
        for head in session.execute(select(AuditChainHead)).scalars().all():
            last = list_checkpoints(session, compound_id=head.compound_id)
            # The signing itself appends one event; nothing else happened since then.
            if last and head.seq <= last[-1].seq + 1:
                continue
            sign_checkpoint(session, compound_id=head.compound_id, reason=reason)
            signed += 1
    return signed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.audit", description="审计链校验与导出")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="verify a chain")
    src = v.add_mutually_exclusive_group(required=True)
    src.add_argument("--compound", type=int, help="compound id in the configured database")
    src.add_argument("--file", type=Path, help="exported JSON Lines file")
    v.add_argument("--public-key", type=Path, help="PEM of the deployment's Ed25519 key")
    e = sub.add_parser("export", help="export a compound's chain as JSON Lines")
    e.add_argument("--compound", type=int, required=True)
    e.add_argument("--output", type=Path, required=True)
    c = sub.add_parser("checkpoint", help="sign checkpoints of every changed chain (run daily)")
    c.add_argument("--reason", default="daily")
    args = parser.parse_args(argv)
    # A job run from a timer imports only its own domain; every table must be known before the
    # first flush (foreign keys to compound), as in the server.
    load_all_models()

    if args.command == "checkpoint":
        print(f"signed {_checkpoint_all(args.reason)} checkpoint(s)")
        return 0
    if args.command == "export":
        n = _export(args.compound, args.output)
        print(f"exported {n} lines to {args.output}")
        return 0
    report = _verify_file(args.file, args.public_key) if args.file else _verify_db(args.compound)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if report.get("signed_head") is False:
        print("WARNING: the export carries no signed head: a cut tail cannot be detected",
              file=sys.stderr)
    if report["ok"]:
        print(f"OK: {report['events']} events, head seq {report['head_seq']}", file=sys.stderr)
        return 0
    problem = report.get("first_problem") or (report.get("checkpoint_problems") or [{}])[0]
    print(f"FAILED: {problem.get('kind')} at position {problem.get('position')}: "
          f"{problem.get('message')}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
