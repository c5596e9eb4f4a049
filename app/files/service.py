"""Storing and reading files; content is addressed by SHA-256 and never overwritten."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from pathlib import Path

from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.config import get_settings
from app.errors import DomainError, NotFound
from app.files.models import StoredFile

ALLOWED_TYPES = {
    "application/pdf": b"%PDF",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG",
    "image/webp": b"RIFF",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK",
    "text/csv": b"",
}
# Office Open XML files are ZIP archives: the part that makes one a workbook or a document.
OOXML_MAIN_PART = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/document.xml",
}
PURPOSES = {"attachment", "proxy_authorization", "paper_ballot", "board_photo", "voucher",
            "minutes", "audit_report", "document", "delivery_evidence"}


def _path(compound_id: int, sha256: str) -> Path:
    return get_settings().files_dir / str(compound_id) / sha256[:2] / sha256


def safe_name(name: str) -> str:
    name = os.path.basename(name or "").strip() or "file"
    return re.sub(r'[\x00-\x1f"\\/]', "_", name)[:200]


def content_matches(content_type: str, data: bytes) -> bool:
    """Whether the bytes are what the declared type says: magic bytes, and for WebP its RIFF form
    type, for XLSX/DOCX a readable ZIP directory with the package's main part."""
    if not data.startswith(ALLOWED_TYPES[content_type]):
        return False
    if content_type == "image/webp":
        return data[8:12] == b"WEBP"
    main_part = OOXML_MAIN_PART.get(content_type)
    if main_part is None:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())  # the central directory only: nothing is inflated
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False
    return "[Content_Types].xml" in names and main_part in names


def store_file(
    session: Session, *, compound_id: int, data: bytes, file_name: str, content_type: str,
    purpose: str, actor: Actor,
) -> StoredFile:
    """Validate type and size, write the bytes once, record the file and its audit event."""
    settings = get_settings()
    if purpose not in PURPOSES:
        raise DomainError("文件用途不正确", code="file_purpose_invalid", status=422)
    if not data:
        raise DomainError("文件为空", code="file_empty", status=422)
    if len(data) > settings.max_upload_bytes:
        raise DomainError(
            f"文件超过{settings.max_upload_bytes // (1024 * 1024)}MB上限", code="file_too_large",
            status=413,
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise DomainError("仅支持 PDF、JPG、PNG、WEBP、XLSX、DOCX、CSV 文件", code="file_type_refused",
                          status=415)
    if not content_matches(content_type, data):
        raise DomainError("文件内容与类型不符", code="file_type_mismatch", status=415)
    sha = hashlib.sha256(data).hexdigest()
    path = _path(compound_id, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    record = StoredFile(
        compound_id=compound_id, sha256=sha, file_name=safe_name(file_name),
        content_type=content_type, size_bytes=len(data), purpose=purpose,
        uploaded_by=actor.user_id,
    )
    session.add(record)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="file.stored",
        object_type="stored_file", object_id=record.id or 0,
        payload={"sha256": sha, "file_name": record.file_name, "size_bytes": len(data),
                 "purpose": purpose},
    )
    return record


def get_file(session: Session, *, compound_id: int, file_id: int) -> StoredFile:
    record = session.get(StoredFile, file_id)
    if record is None or record.compound_id != compound_id:
        raise NotFound("文件不存在", code="file_not_found")
    return record


def read_bytes(record: StoredFile) -> bytes:
    path = _path(record.compound_id, record.sha256)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise DomainError("文件已损坏", code="file_corrupted", status=500)
    return data


# Signed authorizations and paper ballots carry owners' personal data: never notice attachments.
PRIVATE_PURPOSES = frozenset({"proxy_authorization", "paper_ballot", "delivery_evidence"})
_STAFF_READERS = frozenset({"committee", "platform_admin", "observer", "reviewer"})
# Files carrying personal data or unpublished accounts: who may read them besides the uploader.
PRIVATE_READERS: dict[str, frozenset[str]] = {
    "proxy_authorization": _STAFF_READERS,
    "paper_ballot": _STAFF_READERS,
    "delivery_evidence": _STAFF_READERS,  # signed delivery receipts
    # Owners read vouchers through the ledger, which shows them once their period is published.
    "voucher": _STAFF_READERS | {"clerk"},
}


def check_can_read(record: StoredFile, *, user_id: int, roles: frozenset[str] | set[str]) -> None:
    """Authorizations, paper ballots and vouchers are not for every member of the compound."""
    readers = PRIVATE_READERS.get(record.purpose)
    if readers is None or record.uploaded_by == user_id or {str(r) for r in roles} & readers:
        return
    from app.errors import Forbidden

    raise Forbidden("该文件含个人信息或未公开的账目，您无权查看", code="file_private")


def file_path(record: StoredFile) -> Path:
    return _path(record.compound_id, record.sha256)
