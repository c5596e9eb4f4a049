"""Response shapes of the supervision screen (figures only: no personal data)."""

from __future__ import annotations

from pydantic import BaseModel

from app.supervision.service import SupervisionRow


class SupervisionOut(BaseModel):
    satisfaction_line_tenths: int
    rows: list[SupervisionRow]  # the service's row, declared once
