"""Storing and reading files; content is addressed by SHA-256 and never overwritten."""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.clock import now
from app.config import get_settings
from app.errors import (
    Invalid,
    NotFound,
    PayloadTooLarge,
    ServerFault,
    TooManyRequests,
    UnsupportedMediaType,
)
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


# Format characters (Unicode Cf) are invisible: bidi overrides and isolates (U+202A-202E,
# U+2066-2069), marks (U+200E/F), zero-width joiners, the BOM. In a name they make
# "发票\u202efdp.exe" read as "发票exe.pdf": they are dropped. Controls (Cc) and line or
# paragraph separators become "_".
_DROPPED = frozenset({"Cf"})
_REPLACED = frozenset({"Cc", "Zl", "Zp"})


def safe_name(name: str) -> str:
    """A file name fit to store and show: no path, no invisible or control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join("_" if unicodedata.category(c) in _REPLACED else c
                   for c in name if unicodedata.category(c) not in _DROPPED)
    name = os.path.basename(name).strip() or "file"
    return re.sub(r'["\\/]', "_", name)[:200]


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
        raise Invalid("文件用途不正确", code="file_purpose_invalid")
    if not data:
        raise Invalid("文件为空", code="file_empty")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"文件超过{settings.max_upload_bytes // (1024 * 1024)}MB上限", code="file_too_large",
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType("仅支持 PDF、JPG、PNG、WEBP、XLSX、DOCX、CSV 文件", code="file_type_refused")
    if not content_matches(content_type, data):
        raise UnsupportedMediaType("文件内容与类型不符", code="file_type_mismatch")
    check_upload_quota(session, actor=actor, size=len(data))
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


def files_by_id(session: Session, *, compound_id: int, file_ids: Iterable[int]) -> dict[int, StoredFile]:
    """The compound's files among the ids (others' files and unknown ids are left out)."""
    ids = sorted(set(file_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(StoredFile).where(StoredFile.compound_id == compound_id, StoredFile.id.in_(ids))
    ).scalars()
    return {f.id or 0: f for f in rows}


def read_bytes(record: StoredFile) -> bytes:
    path = _path(record.compound_id, record.sha256)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise ServerFault("文件已损坏", code="file_corrupted")
    return data


# Signed authorizations, paper ballots and delivery receipts carry owners' personal data: they
# are never notice attachments. Who may read a file is app/policy.py's: it follows the object
# the file is attached to.
PRIVATE_PURPOSES = frozenset({"proxy_authorization", "paper_ballot", "delivery_evidence"})
UPLOAD_WINDOW = timedelta(hours=24)


def check_upload_quota(session: Session, *, actor: Actor, size: int) -> None:
    """At most so many files and bytes per account in any 24 hours (owners fewer than staff), in
    every compound together: one flat cannot fill the disk or the committee's queue."""
    if actor.user_id is None:
        return
    settings = get_settings()
    if actor.role == "owner":
        max_files, max_bytes = settings.owner_uploads_per_day, settings.owner_upload_bytes_per_day
    else:
        max_files, max_bytes = settings.staff_uploads_per_day, settings.staff_upload_bytes_per_day
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(StoredFile.size_bytes), 0)).where(
            StoredFile.uploaded_by == actor.user_id,
            StoredFile.uploaded_at > now() - UPLOAD_WINDOW,
        )
    ).one()
    if count >= max_files:
        raise TooManyRequests(f"24小时内最多上传{max_files}个文件，请稍后再试",
                              code="upload_quota_files", extra={"limit": max_files})
    if total + size > max_bytes:
        raise PayloadTooLarge(
            f"24小时内上传的文件合计不能超过{max_bytes // (1024 * 1024)}MB，请稍后再试",
            code="upload_quota_bytes", extra={"limit_bytes": max_bytes},
        )


def file_path(record: StoredFile) -> Path:
    return _path(record.compound_id, record.sha256)


# --- generated files kept per version ----------------------------------------------------------
#
# A print that takes seconds to render (300 paper ballots) is rendered once per version of what
# it prints and kept on disk beside the uploads; a request for the same version reads it back,
# and concurrent requests for it wait for the one render instead of each rendering again.

_KEPT_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
_kept_locks: dict[str, threading.Lock] = {}
_kept_guard = threading.Lock()


def kept_path(*, compound_id: int, kind: str, version: str) -> Path:
    if not _KEPT_NAME.match(kind) or not re.fullmatch(r"[0-9a-f]{64}", version):
        raise ValueError("kind must be a short slug and version a SHA-256 hex digest")
    return get_settings().files_dir / str(compound_id) / "kept" / f"{kind}-{version}"


def kept_render(*, compound_id: int, kind: str, version: str, render: Callable[[], bytes]) -> bytes:
    """The kept bytes of this version, rendering and keeping them first if there are none."""
    path = kept_path(compound_id=compound_id, kind=kind, version=version)
    if path.is_file():
        return path.read_bytes()
    with _kept_guard:
        lock = _kept_locks.setdefault(str(path), threading.Lock())
    with lock:
        if path.is_file():
            return path.read_bytes()
        data = render()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    with _kept_guard:
        _kept_locks.pop(str(path), None)
    return data
