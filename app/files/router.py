"""Upload and download of a compound's files."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel

from app import policy
from app.auth.roles import GRID_WORKERS, OBSERVERS, OWNERS, STAFF
from app.config import get_settings
from app.deps import CompoundAccess, SessionDep, compound_access
from app.files import service
from app.schemas import only_form_fields

router = APIRouter(tags=["files"])

Uploader = Annotated[
    CompoundAccess,
    Depends(compound_access(*(STAFF - OBSERVERS), *GRID_WORKERS, *OWNERS)),
]
Member = Annotated[
    CompoundAccess,
    Depends(compound_access(*STAFF, *GRID_WORKERS, *OWNERS)),
]


class FileOut(BaseModel):
    id: int
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    purpose: str


@router.post("/compounds/{compound_id}/files", response_model=FileOut, status_code=201)
def upload(
    access: Uploader,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[str, Form()] = "attachment",
    _form: Annotated[None, Depends(only_form_fields("file", "purpose"))] = None,
) -> FileOut:
    data = file.file.read(get_settings().max_upload_bytes + 1)
    record = service.store_file(
        session, compound_id=access.compound_id, data=data, file_name=file.filename or "file",
        content_type=file.content_type or "", purpose=purpose, actor=access.actor,
    )
    return FileOut.model_validate(record, from_attributes=True)


@router.get("/compounds/{compound_id}/files/{file_id}",
            responses={200: {"content": {t: {} for t in service.ALLOWED_TYPES}}})
def download(file_id: int, access: Member, session: SessionDep) -> FileResponse:
    """The file, if an object it is attached to is readable by the caller now (app/policy.py)."""
    record = service.get_file(session, compound_id=access.compound_id, file_id=file_id)
    policy.check_can_read_file(session, record=record, access=access)
    return FileResponse(
        service.file_path(record),
        media_type=record.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(record.file_name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )
