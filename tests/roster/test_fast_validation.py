"""The per-file shortcuts of roster validation (issue 17 goal 3) give what the plain rules give."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.roster import importer
from app.roster.importer.parsing import _ResidentIds
from app.roster.importer.reading import RawTable

DIGITS = "0123456789"
# ASCII digits mostly, with the other characters an ID cell can hold: X, full-width and
# Arabic-Indic digits (which \d matches and int() reads), letters.
ID_CHARS = st.sampled_from(list(DIGITS * 6 + "Xx١٢３ A"))


@given(st.lists(st.text(ID_CHARS, min_size=16, max_size=19), min_size=1, max_size=30),
       st.sampled_from(["110105", "440305", "11010５"]), st.sampled_from(["19770519", "20000229",
                                                                          "19000101", "18991231",
                                                                          "20230230"]))
def test_remembered_id_parts_check_as_resident_id_valid(
    tails: list[str], region: str, born: str
) -> None:
    checker = _ResidentIds()
    numbers = [*tails, *(region + born + tail[:4] for tail in tails)]
    numbers += [n[:17] + importer.resident_id_check_char(n[:17]) for n in numbers
                if len(n) >= 17 and n[:17].isdigit() and n[:17].isascii()]
    for number in numbers * 2:  # the second time from what was remembered
        assert checker.valid(number) == importer.resident_id_valid(number), number


def test_cells_equal_as_numbers_but_of_other_types_are_read_apart() -> None:
    """One remembered result per distinct cell value, told apart by type: 1, 1.0 and True are
    one key to a dict, but 1 and 1.0 read as room "1" and True as "是"."""
    header = list(importer.COLUMNS)

    def row(building: str, room: Any) -> list[Any]:
        return [building, "1", room, 90, "", "", "未售", "", "", "", ""]

    table = RawTable(header=header, rows=[(2, row("1栋", 1)), (3, row("2栋", 1.0)),
                                          (4, row("3栋", True)), (5, row("4栋", "1"))])
    roster = importer.validate_table(table)
    assert [(r.building, r.room) for r in roster.rows] == [
        ("1栋", "1"), ("2栋", "1"), ("3栋", "是"), ("4栋", "1")]
