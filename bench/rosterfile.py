"""Synthetic rosters in the import template's format: valid IDs, phones, co-owners, unsold flats."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from app.roster import importer as imp

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
          "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "志强", "海燕", "玉兰")
UNITS_PER_BUILDING = 240  # 20 floors x 2 entrances x 6 flats


def phone_for(prefix: str, n: int) -> str:
    """The n-th synthetic phone of a roster (11 digits, a mobile prefix)."""
    return f"{prefix}{n:08d}"


def _resident_id(rng: random.Random, n: int) -> str:
    """A valid, distinct ID number for owner n (birth date and sequence number derived from n)."""
    born = date(1950, 1, 1) + timedelta(days=n // 1000 + rng.randint(0, 3) * 5000)
    first17 = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return first17 + imp.resident_id_check_char(first17)


def roster_rows(
    units: int, *, seed: int = 6, phone_prefix: str = "139", co_owned_share: float = 0.02,
    unsold_share: float = 0.01, multi_unit_share: float = 0.0,
) -> list[tuple[str, ...]]:
    """Rows of the template (one flat each); every delivered flat's owner has a distinct phone.

    Owner n (1-based) has phone `phone_for(phone_prefix, n)`; co-owners take the next number.
    """
    rng = random.Random(seed)
    rows: list[tuple[str, ...]] = []
    owner_no = 0
    last_owner: tuple[str, str, str] | None = None
    for i in range(units):
        building = f"{i // UNITS_PER_BUILDING + 1}栋"
        within = i % UNITS_PER_BUILDING
        entrance = str(within // 120 + 1)
        floor, flat = divmod(within % 120, 6)
        room = f"{floor + 1}{flat + 1:02d}"
        area = f"{rng.randint(5500, 16000) / 100:.2f}"
        roll = rng.random()
        if roll < unsold_share:
            rows.append((building, entrance, room, area, "不动产登记", "住宅", "未售", "", "", "", ""))
            continue
        if last_owner and roll < unsold_share + multi_unit_share:
            name, id_number, phone = last_owner  # the same owner buys a second flat
        else:
            owner_no += 1
            name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
            id_number = _resident_id(rng, owner_no)
            phone = phone_for(phone_prefix, owner_no)
            last_owner = (name, id_number, phone)
        if roll > 1 - co_owned_share:
            owner_no += 1
            partner = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
            rows.append((building, entrance, room, area, "不动产登记", "住宅", "已交付", "个人",
                         f"{name}；{partner}", f"{id_number}；{_resident_id(rng, owner_no)}",
                         f"{phone}；{phone_for(phone_prefix, owner_no)}"))
            last_owner = None
            continue
        rows.append((building, entrance, room, area, "测绘" if roll < 0.1 else "不动产登记", "住宅",
                     "已交付", "个人", name, id_number, phone))
    return rows


def to_csv(rows: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imp.COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[tuple[str, ...]]) -> bytes:
    """The roster as an .xlsx workbook (sheet 名册, areas as numbers, IDs as text)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append(list(imp.COLUMNS))
    for row in rows:
        sheet.append([*row[:3], float(row[3]), *row[4:]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cached_xlsx(cache_dir: Path, units: int, seed: int = 6) -> bytes:
    """Generating a 50,000-row workbook takes seconds: keep it between runs."""
    path = cache_dir / f"roster-{units}-{seed}.xlsx"
    if path.exists():
        return path.read_bytes()
    data = to_xlsx(roster_rows(units, seed=seed, phone_prefix="137", multi_unit_share=0.03))
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data
