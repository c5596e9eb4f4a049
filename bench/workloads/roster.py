"""Roster import from XLSX through app/roster/importer: preview, then apply, as the committee does."""

from __future__ import annotations

from typing import Any

from bench import rosterfile, seed
from bench.context import CACHE_DIR


def run(sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"what": "create_preview (read, validate, diff) and apply_import (write, "
                                   "derive subjects, audit event), each in its own transaction",
                           "sizes": {}}
    for units in sizes:
        content = rosterfile.cached_xlsx(CACHE_DIR, units)
        compound_id, committee_id = seed.create_compound(f"导入基准{units}")
        preview_s, apply_s, cpu_s = seed.import_roster(compound_id, content, f"roster-{units}.xlsx",
                                                       committee_id)
        out["sizes"][str(units)] = {
            "units": units,
            "xlsx_bytes": len(content),
            "preview_seconds": round(preview_s, 2),
            "apply_seconds": round(apply_s, 2),
            "seconds": round(preview_s + apply_s, 2),
            "app_cpu_seconds": round(cpu_s, 2),  # this process only (not the database server's)
        }
    return out
