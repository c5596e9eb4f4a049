"""The downloadable roster template (XLSX with instructions, or CSV) with example rows."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from app.roster import importer as imp

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SHEET_NAME = "名册"
INSTRUCTIONS_SHEET = "填写说明"


def _resident_id(first17: str) -> str:
    return first17 + imp.resident_id_check_char(first17)


# Synthetic people: the ID numbers carry a valid check digit but belong to nobody.
EXAMPLE_ROWS: tuple[tuple[str, ...], ...] = (
    ("1栋", "1", "101", "89.12", "不动产登记", "住宅", "已交付", "个人", "张三",
     _resident_id("11010519800101001"), "13912340001"),
    ("1栋", "1", "102", "120.50", "测绘", "住宅", "已交付", "个人", "李四；王五",
     _resident_id("11010519820202002") + "；" + _resident_id("11010519850303003"),
     "13912340002；13912340003"),
    ("2栋", "1", "101", "95.00", "合同", "住宅", "未售", "", "", "", ""),
)

INSTRUCTIONS: tuple[tuple[str, str, str], ...] = (
    (imp.COL_BUILDING, "必填", "楼栋名称，如“1栋”“2号楼”。同一楼栋请始终使用同一写法。"),
    (imp.COL_ENTRANCE, "选填", "单元号，如“1”或“1单元”（系统统一保存为“1”）；没有单元的楼栋留空。"),
    (imp.COL_ROOM, "必填", "房号，如“101”“S101”（商铺）“B1-001”（车位）。同一楼栋同一单元内房号不能重复。"),
    (imp.COL_AREA, "必填", "专有部分面积，单位平方米，须为正数，最多两位小数，如 89.12。"
     "按不动产登记簿面积填写；没有登记面积的，填测绘面积；再没有的，填购房合同面积。"),
    (imp.COL_AREA_SOURCE, "选填", "面积的来源：不动产登记 / 测绘 / 合同。留空视为“不动产登记”。"),
    (imp.COL_USAGE, "选填", "住宅 / 商业 / 车位 / 车库 / 其他。留空视为“住宅”。车位、车库默认不计入表决面积和人数。"),
    (imp.COL_STATUS, "选填", "已交付 / 未售 / 已售未交付。留空视为“已交付”。"
     "未售和已售未交付的房屋由开发建设单位计为一人表决；未售房屋的业主列留空。"),
    (imp.COL_OWNER_KIND, "选填", "个人 / 单位。留空视为“个人”。共有人类型不同时，可用“；”按顺序分别填写。"),
    (imp.COL_OWNER_NAME, "已交付房屋必填", "业主姓名或单位名称。共有人用“；”分隔，如“李四；王五”。"),
    (imp.COL_ID_NUMBER, "证件号码、手机号至少填一项",
     "个人填18位居民身份证号码，单位填18位统一社会信用代码；共有人按姓名顺序用“；”分隔。"
     "请将本列设为“文本”格式，以免末几位丢失。系统只保存证件号码的加密摘要和末4位。"),
    (imp.COL_PHONE, "证件号码、手机号至少填一项",
     "11位手机号码，业主凭此号码接收验证码登录；共有人按姓名顺序用“；”分隔。"),
)

GENERAL_NOTES: tuple[str, ...] = (
    "每行填写一套房屋（专有部分）；一人有多套房屋的，每套各占一行，姓名与证件号码保持一致，表决时只计一人。",
    "上传后系统先校验全部行并显示与现有名册的差异，确认后才写入；有任何错误时不写入任何数据。",
    "导入只新增和修改：现有名册中有、而本文件中没有的房屋和业主，导入时不会删除；"
    "确需移除的，导入后在名册页面另行核对清单、输入套数并填写理由后移除。",
    "从名册页面导出的文件与本模板格式相同，修改后可直接导入；其中已登记的证件号码只显示末4位和加密摘要，请勿改动。",
    "表头须在第1行，列名不可修改；可增加其他列（如“备注”），系统会忽略。",
    "示例行仅供参考，请删除后填写本小区的真实数据。",
)


def template_csv() -> bytes:
    """The template as UTF-8 CSV with a BOM, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(imp.COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """The template workbook: the roster sheet with example rows, and the instructions sheet."""
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    sheet.append(list(imp.COLUMNS))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    text_columns = {imp.COL_ENTRANCE, imp.COL_ROOM, imp.COL_ID_NUMBER, imp.COL_PHONE}
    area_index = imp.COLUMNS.index(imp.COL_AREA)
    for example in EXAMPLE_ROWS:
        values: list[object] = list(example)
        values[area_index] = float(Decimal(example[area_index]))
        sheet.append(values)
    widths = {imp.COL_ID_NUMBER: 44, imp.COL_PHONE: 28, imp.COL_OWNER_NAME: 16, imp.COL_AREA: 14}
    for index, column in enumerate(imp.COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(column, 11)
        for row in range(2, 2 + len(EXAMPLE_ROWS)):
            cell = sheet.cell(row=row, column=index)
            if column in text_columns:
                cell.number_format = "@"
            elif column == imp.COL_AREA:
                cell.number_format = "0.00"
        if column in text_columns:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    for column, choices in (
        (imp.COL_AREA_SOURCE, "不动产登记,测绘,合同"),
        (imp.COL_USAGE, ",".join(imp.USAGES)),
        (imp.COL_STATUS, ",".join(imp.STATUSES)),
        (imp.COL_OWNER_KIND, "个人,单位"),
    ):
        letter = get_column_letter(imp.COLUMNS.index(column) + 1)
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        validation.error = f"请从下拉列表中选择{column}"
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{imp.MAX_ROWS + 1}")

    notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["列名", "是否必填", "填写说明"])
    for cell in notes[1]:
        cell.font = bold
        cell.fill = fill
    for line in INSTRUCTIONS:
        notes.append(list(line))
    notes.append([])
    notes.append(["注意事项"])
    notes.cell(row=notes.max_row, column=1).font = bold
    for number, note in enumerate(GENERAL_NOTES, start=1):
        notes.append([f"{number}.", "", note])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 24
    notes.column_dimensions["C"].width = 90
    for row in notes.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def content_disposition(file_name: str, fallback: str) -> str:
    """An attachment header with an ASCII fallback and the UTF-8 (RFC 5987) file name."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


def render_template(fmt: str) -> tuple[bytes, str, str]:
    """The template's bytes, media type and Content-Disposition for 'xlsx' or 'csv'."""
    if fmt == "csv":
        return template_csv(), CSV_MEDIA_TYPE, content_disposition("业主名册模板.csv", "roster-template.csv")
    return (template_xlsx(), XLSX_MEDIA_TYPE,
            content_disposition("业主名册模板.xlsx", "roster-template.xlsx"))
