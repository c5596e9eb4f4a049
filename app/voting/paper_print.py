"""The paper ballots (one pre-filled ballot per voting subject) and the door-to-door worklist,
as A4 PDFs in Chinese, and the worklist as a spreadsheet."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, PageBreak, Paragraph, Spacer, Table, TableStyle

from app import timefmt
from app.files import service as files_service
from app.pdf_pages import (
    ACCENT,
    HEADER_FILL,
    MUTED,
    PageSetup,
    base_style,
    font_name,
    grid_table,
    markup,
    render_a4,
)
from app.roster.labels import format_area
from app.spreadsheets import neutralize_formulas, sheet_row
from app.voting.paper import PaperBallots, PrintedMatter, PrintedSubject, Worklist

PRINT_KIND = "paper-ballots"
BOX = 4.2 * mm


class TickBox(Flowable):
    """An empty square to tick by hand, centred in the width it is given."""

    def __init__(self, width: float = BOX, size: float = BOX) -> None:
        super().__init__()
        self.box_width, self.size = width, size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.box_width, self.size

    def draw(self) -> None:
        self.canv.setLineWidth(0.8)
        self.canv.rect((self.box_width - self.size) / 2, 0, self.size, self.size)


class QrCode(Flowable):
    """A QR code drawn as filled squares, one row run at a time: no image to encode and embed
    per page, so 300 ballots render in seconds."""

    def __init__(self, text: str, size: float) -> None:
        super().__init__()
        # A fixed mask: choosing the best of eight costs more than drawing the code.
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2, mask_pattern=0)
        code.add_data(text)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        n = len(self.matrix)
        cell = self.size / n
        path = self.canv.beginPath()
        for y, row in enumerate(self.matrix):
            x = 0
            while x < n:
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < n and row[x]:
                    x += 1
                path.rect(start * cell, (n - 1 - y) * cell, (x - start) * cell, cell)
        self.canv.drawPath(path, stroke=0, fill=1)


class SharedBlock(Flowable):
    """Flowables that print the same on every ballot (instructions, matters, choice boxes,
    signature line): laid out once and drawn once, as a PDF form each page refers to."""

    def __init__(self, name: str, flowables: list[Flowable]) -> None:
        super().__init__()
        self.hAlign = "CENTER"  # as the tables around it
        self.name = name
        self.table = Table([[f] for f in flowables], style=TableStyle([
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        self.size: tuple[float, float] | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if self.size is None:
            self.size = self.table.wrap(available_width, available_height)
        return self.size

    def draw(self) -> None:
        assert self.size is not None
        if not self.canv.hasForm(self.name):
            self.canv.beginForm(self.name, lowerx=0, lowery=0, upperx=self.size[0], uppery=self.size[1])
            self.table.drawOn(self.canv, 0, 0)
            self.canv.endForm()
        self.canv.doForm(self.name)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = base_style(font, size=11, leading=17)
    return {
        "body": base,
        "compound": ParagraphStyle("compound", parent=base, fontSize=12, leading=16,
                                   alignment=TA_CENTER, textColor=MUTED),
        "kind": ParagraphStyle("kind", parent=base, fontSize=22, leading=30, alignment=TA_CENTER,
                               textColor=ACCENT),
        "title": ParagraphStyle("title", parent=base, fontSize=15, leading=22, alignment=TA_CENTER,
                                spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10.5, leading=15),
        "center": ParagraphStyle("center", parent=base, fontSize=10.5, leading=15, alignment=TA_CENTER),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=18, spaceBefore=8,
                                  spaceAfter=3),
        "serial": ParagraphStyle("serial", parent=base, fontSize=13, leading=18),
    }


def _grid(data: list[list[Any]], widths: list[float], font: str, header: bool = True) -> Table:
    table = Table(data, colWidths=widths)
    commands: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    table.setStyle(TableStyle(commands))
    return table


def _boxed(styles: dict[str, ParagraphStyle]) -> TickBox:
    """A tick box centred in its cell (of the 17 mm choice columns, less the padding)."""
    return TickBox(width=17 * mm - 12)


def _matters(matters: tuple[PrintedMatter, ...], styles: dict[str, ParagraphStyle], width: float,
             font: str) -> list[Flowable]:
    out: list[Flowable] = []
    plain = [m for m in matters if not m.is_election]
    if plain:
        head = [Paragraph(t, styles["center"]) for t in ("序号", "表决事项", "同意", "反对", "弃权")]
        rows: list[list[Any]] = [head]
        for m in plain:
            rows.append([Paragraph(str(m.position), styles["center"]), Paragraph(markup(m.title), styles["cell"]),
                         _boxed(styles), _boxed(styles), _boxed(styles)])
        box = 17 * mm
        out += [_grid(rows, [13 * mm, width - 13 * mm - 3 * box, box, box, box], font), Spacer(1, 3 * mm)]
    for m in matters:
        if not m.is_election:
            continue
        out.append(Paragraph(markup(f"第{m.position}项（选举）：{m.title}——应选 {m.seats} 名，"
                                    f"至多勾选 {m.seats} 人，在同意的候选人后打“√”"), styles["heading"]))
        rows = [[Paragraph("序号", styles["center"]), Paragraph("候选人", styles["center"]),
                 Paragraph("同意", styles["center"])]]
        rows += [[Paragraph(str(i), styles["center"]), Paragraph(markup(name), styles["cell"]), _boxed(styles)]
                 for i, name in enumerate(m.candidates, start=1)]
        out += [_grid(rows, [13 * mm, width - 30 * mm, 17 * mm], font), Spacer(1, 3 * mm)]
    return out


def _common(data: PaperBallots, styles: dict[str, ParagraphStyle], width: float, font: str) -> list[Flowable]:
    """What every subject's ballot prints alike, below its facts."""
    signature = Table([[
        Paragraph("业主（或受托人）签名：", styles["cell"]), "",
        Paragraph("日期：______年____月____日", styles["cell"]),
    ]], colWidths=[48 * mm, width - 48 * mm - 56 * mm, 56 * mm], rowHeights=[14 * mm])
    signature.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("LINEBELOW", (1, 0), (1, 0), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]))
    return [
        Paragraph("填写说明：每项表决事项只能在“同意”“反对”“弃权”中勾选一项；多选、涂改不清的，该项无效；"
                  "未勾选的，该项视为未表决。由业主本人签名，委托他人的须附书面委托书。"
                  "请在投票时间结束前交回业主委员会。", styles["small"]),
        Spacer(1, 3 * mm),
        *_matters(data.matters, styles, width, font),
        Spacer(1, 4 * mm),
        signature,
        Spacer(1, 6 * mm),
    ]


def _ballot_page(data: PaperBallots, subject: PrintedSubject, styles: dict[str, ParagraphStyle],
                 width: float, font: str, common: list[Flowable]) -> list[Flowable]:
    facts = [
        [Paragraph("房屋", styles["cell"]), Paragraph(markup(subject.label), styles["cell"])],
        [Paragraph("专有部分面积", styles["cell"]),
         Paragraph(f"{format_area(subject.area_hundredths)} ㎡", styles["cell"])],
        [Paragraph("投票时间", styles["cell"]),
         Paragraph(markup(timefmt.format_period(data.starts_at, data.ends_at)), styles["cell"])],
        [Paragraph("表决票编号", styles["cell"]), Paragraph(markup(subject.serial), styles["serial"])],
    ]
    fact_table = _grid(facts, [32 * mm, width - 32 * mm], font, header=False)
    fact_table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)]))
    qr_block = Table([[
        QrCode(subject.serial, 26 * mm),
        [Paragraph(markup(f"编号 {subject.serial}"), styles["serial"]),
         Paragraph("业委会录入时扫描二维码或输入编号，自动选中本户。"
                   "编号仅对应本次表决的本户，复印或改写无效。", styles["small"])],
    ]], colWidths=[30 * mm, width - 30 * mm])
    qr_block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                  ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return [
        Paragraph(markup(data.compound_name), styles["compound"]),
        Paragraph("业主大会书面表决票", styles["kind"]),
        HRFlowable(width="100%", thickness=1.5, color=ACCENT, spaceBefore=2, spaceAfter=6),
        Paragraph(markup(data.title), styles["title"]),
        fact_table,
        Spacer(1, 4 * mm),
        *common,
        qr_block,
    ]


# Room on a page for the shared block: A4 less the margins, the heading, facts and QR block.
SHARED_MAX_HEIGHT = 297 * mm - 30 * mm - 120 * mm


def render_paper_ballots(data: PaperBallots) -> bytes:
    """One A4 ballot per subject, in walking order."""
    font = font_name()
    styles = _styles(font)
    setup = PageSetup(
        title=f"{data.title} 书面表决票", author=data.compound_name, subject="书面表决票",
        footer=f"{data.compound_name} · {data.title} · 书面表决票（共 {len(data.subjects)} 户）",
        top_margin=14 * mm, bottom_margin=16 * mm,
    )

    def story(width: float) -> list[Flowable]:
        shared = SharedBlock("ballot_common", _common(data, styles, width, font))
        # A block taller than the room left on a page (many matters or candidates) cannot be one
        # form: then each ballot lays its own out and may run over to a second page.
        fits = shared.wrap(width, SHARED_MAX_HEIGHT * 4)[1] <= SHARED_MAX_HEIGHT
        out: list[Flowable] = []
        for i, subject in enumerate(data.subjects):
            if i:
                out.append(PageBreak())
            common = [shared] if fits else _common(data, styles, width, font)
            out += _ballot_page(data, subject, styles, width, font, common)
        if not out:
            out.append(Paragraph("本次表决没有表决户。", styles["body"]))
        return out

    return render_a4(setup, story)


def paper_ballots_pdf(data: PaperBallots, *, compound_id: int) -> bytes:
    """The print of this version of the ballot, rendered once and kept (app/files)."""
    return files_service.kept_render(compound_id=compound_id, kind=PRINT_KIND, version=data.version(),
                                     render=lambda: render_paper_ballots(data))


# --- the worklist -------------------------------------------------------------------------------

WORKLIST_COLUMNS = ("房号", "业主", "电话", "面积（㎡）", "表决票编号", "已上门", "已收票", "备注")


def _group_title(building: str, entrance: str, count: int) -> str:
    return f"{building}{entrance + '单元' if entrance else ''}（{count} 套未投票）"


def render_worklist(data: Worklist) -> bytes:
    font = font_name()
    styles = _styles(font)
    cell = ParagraphStyle("wcell", parent=styles["cell"], fontSize=9, leading=12)
    setup = PageSetup(
        title=f"{data.title} 未投票户上门名单", author=data.compound_name, subject="未投票户上门名单",
        footer=(f"{data.compound_name} · {data.title} · 未投票户上门名单 · "
                f"制表于 {timefmt.format_moment(data.made_at)}"),
    )

    def story(width: float) -> list[Flowable]:
        out: list[Flowable] = [
            Paragraph(markup(data.compound_name), styles["compound"]),
            Paragraph("未投票户上门名单（扫楼）", styles["title"]),
            Paragraph(markup(f"{data.title} · 投票截止 {timefmt.format_moment(data.ends_at, end=True)} · "
                             f"制表时尚有 {data.subject_count} 户未投票 · 姓名、电话已部分隐藏"),
                      styles["small"]),
            Spacer(1, 3 * mm),
        ]
        weights = [14, 16, 20, 13, 26, 10, 10, 16]
        widths = [width * w / sum(weights) for w in weights]
        last_building = None
        for group in data.groups:
            if group.building != last_building and last_building is not None:
                out.append(Spacer(1, 2 * mm))
            last_building = group.building
            out.append(Paragraph(markup(_group_title(group.building, group.entrance, len(group.rows))),
                                 styles["heading"]))
            rows = [[r.room, r.owners, r.phones, format_area(r.area_hundredths), r.serial, "□", "□", r.note]
                    for r in group.rows]
            out.append(grid_table(WORKLIST_COLUMNS, rows, style=cell, widths=widths, padding=2))
        if not data.groups:
            out.append(Paragraph("所有表决户均已投票。", styles["body"]))
        return out

    return render_a4(setup, story)


def worklist_xlsx(data: Worklist) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "未投票户"
    ws.append(["楼栋", "单元", "房号", "表决户", "专有面积（㎡）", "业主", "电话", "表决票编号",
               "已上门", "已收票", "备注"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for group in data.groups:
        for r in group.rows:
            ws.append(sheet_row([r.building, r.entrance, r.room, r.subject_label, format_area(r.area_hundredths),
                       r.owners, r.phones, r.serial, "", "", r.note]))
    ws.auto_filter.ref = ws.dimensions
    ws.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJK", (10, 8, 10, 28, 14, 14, 16, 20, 8, 8, 16), strict=True):
        ws.column_dimensions[column].width = width
    neutralize_formulas(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
