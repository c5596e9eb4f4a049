"""A4 pages in Chinese for every PDF the product prints (notices, ledger statements).

One place for the embedded CJK font, the page template with its footer and page numbers, text
markup and grid tables whose long cells wrap and continue on the next page.

Prints render concurrently: no lock is held across a build. reportlab keeps a document's font
subset in per-document state (`TTFont.state`, keyed by the document), but writes the subset by
moving one read cursor over the shared font file (`TTFontFile.makeSubset` seeks and reads
`face._pos`); two documents finishing at once could read each other's glyph data. The font
registered here makes each subset through its own cursor (`_ThreadSafeFace`), which is what
the process-wide render lock used to guard.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.textsplit import ALL_CANNOT_START
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.errors import DomainError

# Embedded TrueType font: reportlab's built-in STSong-Light CID font is not embedded and prints
# as empty boxes wherever the reader lacks it. WenQuanYi Micro Hei comes with the Python install
# (the wheel paperang-p2-fonts-cjk ships the very file Debian's fonts-wqy-microhei installs, byte
# for byte: FONT_SHA256); Debian's copy is the fallback. Noto CJK wheels carry OpenType CFF
# outlines, which reportlab cannot embed.
SYSTEM_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"


def bundled_font_path() -> Path | None:
    """The font file of the installed wheel, if the wheel is installed."""
    spec = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "wqy-microhei.ttc"
    return path if path.is_file() else None


FONT_PATH = bundled_font_path() or SYSTEM_FONT_PATH
FONT_NAME = "WenQuanYiMicroHei"
ACCENT = colors.HexColor("#B71C1C")
MUTED = colors.HexColor("#555555")
HEADER_FILL = colors.HexColor("#EEEEEE")
TOTAL_FILL = colors.HexColor("#F6F6F6")
CREATOR = "共决 Gongjue"

_registered: set[str] = set()
_font_lock = threading.Lock()


class _ThreadSafeFace(TTFontFace):
    """The font file as reportlab parsed it, subset through a cursor of the caller's own: the
    parsed tables are only read while subsetting, the cursor `_pos` is what moves, and a
    shallow copy gives each subset its own."""

    def makeSubset(self, subset: Any) -> bytes:
        return bytes(TTFontFace.makeSubset(copy.copy(self), subset))


def _font(name: str, path: str) -> TTFont:
    font = TTFont(name, path, subfontIndex=0)
    font.face.__class__ = _ThreadSafeFace  # same layout: only makeSubset differs
    return font


class PdfFontMissing(DomainError):
    code = "pdf_font_missing"
    status = 500


def font_name() -> str:
    """Register the embedded CJK font once, or raise a clear error if it is not installed."""
    key = str(FONT_PATH)
    with _font_lock:
        if key not in _registered:
            if not FONT_PATH.is_file():
                raise PdfFontMissing(
                    f"未找到中文字体文件 {FONT_PATH}，无法生成PDF；请重新安装依赖"
                    "（pip install -c constraints.txt -e .，含 paperang-p2-fonts-cjk）"
                    "或安装 fonts-wqy-microhei"
                )
            pdfmetrics.registerFont(_font(FONT_NAME, key))
            _registered.add(key)
    return FONT_NAME


def require_pdf_font() -> None:
    """Startup check of a production server: PDFs must not fail on their first request."""
    try:
        font_name()
    except PdfFontMissing as exc:
        raise RuntimeError(
            f"{exc.message}。Refusing to start: the CJK font for notice PDFs is missing "
            f"({FONT_PATH}); reinstall the Python dependencies (paperang-p2-fonts-cjk) or "
            "apt-get install fonts-wqy-microhei."
        ) from exc


def base_style(font: str, *, size: float, leading: float) -> ParagraphStyle:
    """Body text that wraps Chinese anywhere, as a printed page does."""
    return ParagraphStyle("base", fontName=font, fontSize=size, leading=leading, wordWrap="CJK")


def markup(value: object) -> str:
    """Escape text for reportlab's paragraph markup, keeping leading indentation."""
    text = str(value)
    stripped = text.lstrip(" \u3000\t")
    indent = text[: len(text) - len(stripped)]
    # Paragraphs collapse whitespace; a full-width space is two ordinary ones wide.
    pad = "".join("&nbsp;&nbsp;" if ch == "\u3000" else "&nbsp;" for ch in indent)
    return pad + escape(stripped)


def paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    """One paragraph per line; a blank line is half a line of space."""
    out: list[Flowable] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            out.append(Paragraph(markup(line), style))
        else:
            out.append(Spacer(1, style.leading / 2))
    return out


_WHITESPACE = re.compile(r"\s+")


class TextCell(Flowable):
    """A table cell of plain text in one paragraph style: what `Paragraph(markup(text), style)`
    prints for it (indentation kept, other whitespace runs as one space, Chinese wrapped
    anywhere, a closing punctuation mark never starting a line), without parsing markup and
    with its lines broken once per width. A 2,000-row table has 10,000 cells, measured several
    times while the table splits over pages; as Paragraphs they took most of the render."""

    def __init__(self, value: object, style: ParagraphStyle,
                 broken: tuple[float, list[str]] | None = None) -> None:
        super().__init__()
        text = str(value)
        stripped = text.lstrip(" \u3000\t")
        self.text = text[: len(text) - len(stripped)] + _WHITESPACE.sub(" ", stripped).rstrip()
        self.style = style
        self._broken = broken  # (width, its lines): the last breaking, reused while it holds

    def _lines(self, width: float) -> list[str]:
        if self._broken is not None and self._broken[0] == width:
            return self._broken[1]
        style = self.style
        font, size = style.fontName, style.fontSize
        text = self.text
        if not text:
            lines: list[str] = []
        elif pdfmetrics.stringWidth(text, font, size) <= width:
            lines = [text]
        else:
            lines = [text[a:b] for a, b in _break_lines(text, font, size, width)]
        self._broken = (width, lines)
        return lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = len(self._lines(availWidth)) * self.style.leading
        return availWidth, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        # A table splitting a row passes its column's width; the text is broken where it was
        # measured (the width inside the cell's padding), so the parts keep those lines.
        width = self.width or availWidth
        text, style = self.text, self.style
        if not text or pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= width:
            spans = [(0, len(text))]
        else:
            spans = _break_lines(text, style.fontName, style.fontSize, width)
        fits = int(availHeight // style.leading)
        if fits <= 0:
            return []
        if fits >= len(spans):
            return [self]
        head, tail = spans[:fits], spans[fits:]
        cut = tail[0][0]
        return [
            TextCell(text[:head[-1][1]], style, (width, [text[a:b] for a, b in head])),
            TextCell(text[cut:], style, (width, [text[a:b] for a, b in tail])),
        ]

    def draw(self) -> None:
        lines = self._lines(self.width)
        if not lines:
            return
        style, canvas = self.style, self.canv
        canvas.setFont(style.fontName, style.fontSize, style.leading)
        canvas.setFillColor(style.textColor)
        y = self.height - style.fontSize
        for line in lines:
            if style.alignment == TA_RIGHT:
                canvas.drawRightString(self.width, y, line)
            elif style.alignment == TA_CENTER:
                canvas.drawCentredString(self.width / 2, y, line)
            else:
                canvas.drawString(0, y, line)
            y -= style.leading


def _break_lines(text: str, font: str, size: float, width: float) -> list[tuple[int, int]]:
    """Greedy breaking by character widths, as reportlab's CJK wrapping does: a line ends
    before the character that would overflow it, except that a mark that cannot start a line
    (reportlab's list: 。、」 etc.) stays on the line it closes; a space at a break is dropped.
    The lines as (start, end) offsets into the text."""
    face = pdfmetrics.getFont(font).face
    widths, default = face.charWidths, face.defaultWidth
    scale = size / 1000.0
    spans: list[tuple[int, int]] = []
    start, used = 0, 0.0
    for i, ch in enumerate(text):
        if i < start:
            continue
        w = widths.get(ord(ch), default) * scale
        if used + w > width and i > start and ch not in ALL_CANNOT_START:
            end = i
            while end > start and text[end - 1] == " ":
                end -= 1
            spans.append((start, end))
            start, used = i, 0.0
            if ch == " ":
                start = i + 1
                continue
        used += w
    if start < len(text):
        spans.append((start, len(text)))
    return spans


# Table's own paddings (reportlab's CellStyle defaults), which grid_table keeps left and right.
_CELL_SIDE_PADDING = 6.0
_CELL_PADDING = 3.0
# Rows up to this tall are measured here, once; a taller one (a long cell that may continue on
# the next page) leaves the whole table to reportlab's own measuring and in-row splitting.
_FIXED_ROW_MAX = 200.0


def _row_heights(data: list[list[TextCell]], widths: Sequence[float],
                 padding: float | None) -> list[float] | None:
    """Each row's height as reportlab's Table computes it (the tallest cell wrapped inside its
    padding, plus the top and bottom padding), measured once: given the heights, a table that
    splits over many pages no longer measures every remaining row again on each page (its
    measuring loop looks for the next unmeasured row from the top, quadratic in the rows)."""
    vertical = 2 * (_CELL_PADDING if padding is None else padding)
    inner = [w - 2 * _CELL_SIDE_PADDING for w in widths]
    heights: list[float] = []
    for row in data:
        height = max((c.wrap(w, 1e9)[1] for c, w in zip(row, inner, strict=True)), default=0.0)
        height += vertical
        if height > _FIXED_ROW_MAX:
            return None
        heights.append(height)
    return heights


def grid_table(
    columns: Sequence[Any], rows: Sequence[Sequence[Any]], *, style: ParagraphStyle,
    widths: Sequence[float], column_styles: dict[int, ParagraphStyle] | None = None,
    repeat_header: bool = True, total_row: bool = False, padding: float | None = None,
) -> Table:
    """A grid with a shaded header; every cell wraps, and a row taller than a page (a
    3,000-character cell) continues on the next page instead of failing the whole print."""
    column_styles = column_styles or {}

    def cell(i: int, value: Any) -> TextCell:
        return TextCell(value, column_styles.get(i, style))

    data = [[cell(i, c) for i, c in enumerate(columns)]]
    data += [[cell(i, v) for i, v in enumerate(row)] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=1 if repeat_header else 0, splitInRow=1,
                  rowHeights=_row_heights(data, widths, padding))
    commands: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), style.fontName),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if padding is not None:
        commands += [("TOPPADDING", (0, 0), (-1, -1), padding),
                     ("BOTTOMPADDING", (0, 0), (-1, -1), padding)]
    if total_row:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL))
    table.setStyle(TableStyle(commands))
    return table


@dataclass(frozen=True)
class PageSetup:
    """An A4 document: its metadata, margins and the footer line printed on every page."""

    title: str
    author: str
    subject: str
    footer: str
    margin: float = 20 * mm  # left and right
    top_margin: float = 18 * mm
    bottom_margin: float = 20 * mm
    footer_y: float = 10 * mm


def render_a4(setup: PageSetup, story: Callable[[float], list[Flowable]]) -> bytes:
    """Build the story (given the text width) on A4 pages with the footer and page numbers."""
    font = font_name()

    def on_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(setup.margin, setup.footer_y, setup.footer)
        canvas.drawRightString(A4[0] - setup.margin, setup.footer_y, f"第 {document.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=setup.margin, rightMargin=setup.margin,
        topMargin=setup.top_margin, bottomMargin=setup.bottom_margin, title=setup.title,
        author=setup.author, subject=setup.subject, creator=CREATOR, initialFontName=font,
    )
    doc.build(story(doc.width), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
