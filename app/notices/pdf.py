"""The A4 print of a published notice for the compound's notice board, in Chinese, with a QR code."""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Image,
    KeepTogether,
    LayoutError,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app import timefmt
from app.config import get_settings
from app.files import service as files_service
from app.pdf_pages import (
    ACCENT,
    FONT_NAME,
    FONT_PATH,
    MUTED,
    PageSetup,
    PdfFontMissing,
    base_style,
    font_name,
    grid_table,
    markup,
    paragraphs,
    render_a4,
)

if TYPE_CHECKING:
    from app.notices.schemas import StructuredContent

__all__ = ["FONT_NAME", "FONT_PATH", "PdfFontMissing", "font_name"]  # the shared page scaffolding

@dataclass(frozen=True)
class NoticeRef:
    """Another notice named on the print: the one corrected, or the correction."""

    notice_id: int
    title: str
    published_at: datetime


@dataclass(frozen=True)
class PrintableNotice:
    """Everything printed on a notice, already resolved from the database."""

    compound_name: str
    issuer: str  # the issuing body printed above the seal, e.g. 阳光花园业主委员会
    notice_id: int
    kind_label: str
    title: str
    body: str
    audience_label: str
    published_at: datetime
    display_days: int
    display_until: date
    structured: StructuredContent | None
    attachment_names: tuple[str, ...]
    corrects: NoticeRef | None
    corrected_by: NoticeRef | None
    url: str
    content_sha256: str


def notice_url(compound_id: int, notice_id: int) -> str:
    """The public address a notice's QR code opens."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/c/{compound_id}/notices/{notice_id}"


def issuer_of(compound_name: str) -> str:
    """The body that issues a compound's notices: its owners' committee (业主委员会)."""
    return f"{compound_name}业主委员会"


def cn_date(value: datetime | date) -> str:
    """YYYY年M月D日, in Asia/Shanghai for datetimes."""
    return timefmt.format_date(value)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = base_style(font, size=11.5, leading=20)
    return {
        "body": base,
        "compound": ParagraphStyle("compound", parent=base, fontSize=13, leading=18,
                                   alignment=TA_CENTER, textColor=MUTED),
        "kind": ParagraphStyle("kind", parent=base, fontSize=24, leading=32, alignment=TA_CENTER,
                               textColor=ACCENT),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=25,
                                alignment=TA_CENTER, spaceBefore=6, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base, fontSize=10, leading=15, alignment=TA_CENTER,
                               textColor=MUTED),
        "warning": ParagraphStyle("warning", parent=base, fontSize=11, leading=17,
                                  textColor=ACCENT, borderColor=ACCENT, borderWidth=1,
                                  borderPadding=6, spaceBefore=6, spaceAfter=10),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12.5, leading=20,
                                  spaceBefore=10, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=14),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
        "issuer": ParagraphStyle("issuer", parent=base, fontSize=13, leading=20, alignment=TA_RIGHT),
        "small_right": ParagraphStyle("small_right", parent=base, fontSize=8.5, leading=12,
                                      textColor=MUTED, alignment=TA_RIGHT, spaceBefore=4),
    }


def _table(columns: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle],
           width: float, repeat_header: bool) -> Table:
    # Column widths follow the longest text of each column, within bounds.
    weights = [
        min(max([len(str(columns[i]))] + [len(str(r[i])) for r in rows]), 30) + 2
        for i in range(len(columns))
    ]
    total = sum(weights)
    return grid_table(columns, rows, style=styles["cell"], widths=[width * w / total for w in weights],
                      repeat_header=repeat_header, padding=3)


def _structured(content: StructuredContent, styles: dict[str, ParagraphStyle],
                width: float, repeat_header: bool) -> list[Flowable]:
    out: list[Flowable] = []
    for section in content.sections:
        if section.heading:
            out.append(Paragraph(markup(section.heading), styles["heading"]))
        if section.type == "table":
            out.append(_table(section.columns, section.rows, styles, width, repeat_header))
        elif section.type == "list":
            out += [Paragraph(f"{i}. " + markup(item), styles["body"])
                    for i, item in enumerate(section.items, start=1)]
        else:
            out += paragraphs(section.text, styles["body"])
        out.append(Spacer(1, 4 * mm))
    return out


def qr_png(url: str) -> bytes:
    """A QR code for the url, as PNG bytes."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer)
    return buffer.getvalue()


def _story(notice: PrintableNotice, styles: dict[str, ParagraphStyle], width: float,
           repeat_header: bool = True) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph(markup(notice.compound_name), styles["compound"]),
        Paragraph(markup(notice.kind_label), styles["kind"]),
        HRFlowable(width="100%", thickness=1.5, color=ACCENT, spaceBefore=2, spaceAfter=6),
        Paragraph(markup(notice.title), styles["title"]),
    ]
    if notice.corrects is not None:
        story.append(Paragraph(
            markup(f"（本公告更正{cn_date(notice.corrects.published_at)}发布的"
                  f"《{notice.corrects.title}》，公告编号 {notice.corrects.notice_id}）"),
            styles["note"],
        ))
    if notice.corrected_by is not None:
        story.append(Paragraph(
            markup(f"本公告已于{cn_date(notice.corrected_by.published_at)}更正，以更正公告"
                  f"《{notice.corrected_by.title}》（公告编号 {notice.corrected_by.notice_id}）为准。"),
            styles["warning"],
        ))
    story.append(Spacer(1, 4 * mm))
    story += paragraphs(notice.body, styles["body"])
    if notice.structured is not None and notice.structured.sections:
        story.append(Spacer(1, 3 * mm))
        story += _structured(notice.structured, styles, width, repeat_header)
    if notice.attachment_names:
        story.append(Paragraph("附件：", styles["heading"]))
        story += [Paragraph(f"{i}. " + markup(name), styles["body"])
                  for i, name in enumerate(notice.attachment_names, start=1)]
    story.append(Spacer(1, 6 * mm))
    # The QR code sits beside the date block, so a short notice stays on one sheet.
    qr_cell = [
        Image(io.BytesIO(qr_png(notice.url)), width=30 * mm, height=30 * mm),
        Paragraph("扫码查看原文、附件及更正", styles["small"]),
    ]
    # The issuing block: who issues the notice and when, right-aligned, with room above it for
    # the committee's seal, as a paper notice on the board is signed.
    dates_cell = [
        Paragraph(markup(f"发布范围：{notice.audience_label}"), styles["right"]),
        Paragraph(markup(f"公示期：{notice.display_days}日（自发布次日起算，至"
                        f"{cn_date(notice.display_until)}止）"), styles["right"]),
        Spacer(1, 16 * mm),  # the seal
        Paragraph(markup(notice.issuer), styles["issuer"]),
        Paragraph(markup(cn_date(notice.published_at)), styles["issuer"]),
        Paragraph(markup(notice.url), styles["small_right"]),
    ]
    block = Table([[qr_cell, dates_cell]], colWidths=[46 * mm, width - 46 * mm])
    block.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), styles["body"].fontName),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("LEFTPADDING", (0, 0), (0, 0), 0),
        ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
    ]))
    story.append(KeepTogether([block]))
    return story


def render_notice_pdf(notice: PrintableNotice) -> bytes:
    """Render the notice as an A4 PDF with the CJK font embedded."""
    styles = _styles(font_name())
    setup = PageSetup(
        title=notice.title, author=notice.compound_name, subject=notice.kind_label,
        footer=(f"{notice.compound_name} · 公告编号 {notice.notice_id} · "
                f"内容指纹 SHA-256 {notice.content_sha256[:16]}"),
    )
    try:
        return render_a4(setup, lambda width: _story(notice, styles, width, repeat_header=True))
    except LayoutError:
        # What splitting rows cannot fix is a table header taller than a page (it would
        # repeat on every page): then each header is printed once, where its table starts.
        return render_a4(setup, lambda width: _story(notice, styles, width, repeat_header=False))


# --- rendered prints, kept per notice version -------------------------------------------------
#
# A published notice never changes, but rendering a large one takes seconds under the one
# render lock, so every print request would queue behind every other. The print is rendered
# once per version and kept on disk beside the compound's files (`files.service.kept_render`),
# so another worker process, or this one after a restart, serves the kept file instead of
# rendering again; the most recent prints are also kept in memory in front of it. The version is
# everything printed on it: a correction (which adds the "已被更正" mark to the original), a
# renamed compound or building, or another public address gives a new one.

KEPT_KIND = "notice-print"
CACHE_MAX_BYTES = 64 * 1024 * 1024
CACHE_MAX_ENTRIES = 256
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_bytes = 0
_cache_lock = threading.Lock()
_in_flight: dict[str, threading.Lock] = {}
_stats = {"hits": 0, "renders": 0, "kept_reads": 0}


def print_key(notice: PrintableNotice) -> str:
    """The version of a print: notice id, content fingerprint and every other printed field."""
    printed = [(f.name, getattr(notice, f.name)) for f in fields(notice)
               if f.name not in {"body", "structured"}]  # both are in content_sha256
    digest = hashlib.sha256(repr(printed).encode("utf-8")).hexdigest()
    return f"{notice.notice_id}:{notice.content_sha256}:{digest}"


def cache_stats() -> dict[str, int]:
    """Memory hits, renders and kept files read so far, and what the memory cache holds (for
    tests and the ops page)."""
    with _cache_lock:
        return {**_stats, "entries": len(_cache), "bytes": _cache_bytes}


def clear_cache() -> None:
    """Empty the memory cache (the kept files stay): as a newly started process finds it."""
    global _cache_bytes
    with _cache_lock:
        _cache.clear()
        _cache_bytes = 0
        _stats.update(hits=0, renders=0, kept_reads=0)


def _cached(key: str) -> bytes | None:
    with _cache_lock:
        content = _cache.get(key)
        if content is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
        return content


def _keep(key: str, content: bytes, *, rendered: bool) -> None:
    global _cache_bytes
    with _cache_lock:
        _stats["renders" if rendered else "kept_reads"] += 1
        if len(content) > CACHE_MAX_BYTES // 4:
            return  # one print must not evict everything else
        _cache[key] = content
        _cache_bytes += len(content)
        while _cache_bytes > CACHE_MAX_BYTES or len(_cache) > CACHE_MAX_ENTRIES:
            _, dropped = _cache.popitem(last=False)
            _cache_bytes -= len(dropped)


def notice_pdf_bytes(notice: PrintableNotice, *, compound_id: int) -> bytes:
    """The print of this notice version, rendered once and kept: concurrent requests for it wait
    for the one render instead of each rendering again, later ones read the kept file."""
    key = print_key(notice)
    content = _cached(key)
    if content is not None:
        return content
    with _cache_lock:
        flight = _in_flight.setdefault(key, threading.Lock())
    try:
        with flight:
            content = _cached(key)
            if content is None:
                rendered: list[bool] = []

                def render() -> bytes:
                    rendered.append(True)
                    return render_notice_pdf(notice)

                content = files_service.kept_render(
                    compound_id=compound_id, kind=KEPT_KIND,
                    version=hashlib.sha256(key.encode("utf-8")).hexdigest(), render=render)
                _keep(key, content, rendered=bool(rendered))
    finally:
        with _cache_lock:
            _in_flight.pop(key, None)
    return content
