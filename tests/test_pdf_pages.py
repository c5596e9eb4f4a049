"""Prints render concurrently in one process (issue 17 goal 4): no lock is held across a build,
and what two builds at once produce is what each produces alone."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from reportlab import rl_config
from reportlab.platypus import Flowable, Paragraph

from app import pdf_pages


@pytest.fixture(autouse=True)
def _invariant_pdfs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No creation date or random document id: the same story gives the same bytes."""
    monkeypatch.setattr(rl_config, "invariant", 1)
    yield


def _setup() -> pdf_pages.PageSetup:
    return pdf_pages.PageSetup(title="测试", author="测试花园", subject="公示", footer="测试花园 · 第一页脚")


def _text(seed: int, length: int = 600) -> str:
    """Chinese text whose characters differ with the seed, so each print has its own subset."""
    return "".join(chr(0x4E00 + (seed * 37 + k * 101) % 20000) for k in range(length))


class _Meet(Flowable):
    """A zero-size flowable that waits, while its document is being built, until the other
    build reaches its own: it passes only if both builds are under way at the same time."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.barrier.wait(timeout=30)


def _story(seed: int, rows: int, meet: Flowable) -> Callable[[float], list[Flowable]]:
    font = pdf_pages.font_name()
    style = pdf_pages.base_style(font, size=10, leading=14)

    def build(width: float) -> list[Flowable]:
        table = pdf_pages.grid_table(
            ["序号", "说明"], [[i, _text(seed + i, 12)] for i in range(rows)], style=style,
            widths=[width * 0.2, width * 0.8])
        flowables: list[Flowable] = [Paragraph(_text(seed), style), table]
        return [*flowables, meet]

    return build


def test_two_prints_render_at_the_same_time_and_each_is_what_it_is_alone() -> None:
    alone = [pdf_pages.render_a4(_setup(), _story(seed, rows, _Meet(threading.Barrier(1))))
             for seed, rows in ((1, 300), (2, 20))]
    barrier = threading.Barrier(2)
    together: dict[int, bytes] = {}
    failures: list[BaseException] = []

    def render(index: int, seed: int, rows: int) -> None:
        try:
            together[index] = pdf_pages.render_a4(_setup(), _story(seed, rows, _Meet(barrier)))
        except BaseException as exc:  # a broken barrier: the other build never got under way
            failures.append(exc)

    threads = [threading.Thread(target=render, args=(0, 1, 300)),
               threading.Thread(target=render, args=(1, 2, 20))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert together[0] == alone[0] and together[1] == alone[1]
    assert alone[0] != alone[1]


def test_font_subsets_made_at_the_same_time_are_the_ones_made_alone() -> None:
    """reportlab subsets the font by moving one read cursor over the shared font file; without
    a cursor per subset, concurrent prints came out broken (KeyError/IndexError in
    makeSubset, or wrong glyphs) in 15 of 40 such renders before the fix."""
    seeds = range(8)

    def render(seed: int) -> bytes:
        return pdf_pages.render_a4(_setup(), lambda width: [
            Paragraph(_text(seed), pdf_pages.base_style(pdf_pages.font_name(), size=10,
                                                        leading=14))])

    alone = {seed: render(seed) for seed in seeds}
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for _ in range(3):
            out: dict[int, bytes | BaseException] = {}

            def run(seed: int, out: dict[int, bytes | BaseException] = out) -> None:
                try:
                    out[seed] = render(seed)
                except BaseException as exc:
                    out[seed] = exc

            threads = [threading.Thread(target=run, args=(seed,)) for seed in seeds]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert all(out[seed] == alone[seed] for seed in seeds), out
    finally:
        sys.setswitchinterval(interval)


def test_no_render_lock_is_left() -> None:
    assert not hasattr(pdf_pages, "render_lock")


def test_a_cell_splits_where_it_was_measured_and_keeps_every_character() -> None:
    style = pdf_pages.base_style(pdf_pages.font_name(), size=10, leading=14)
    text = "经业主委员会核实，本项维修资金使用方案" * 20
    cell = pdf_pages.TextCell(text, style)
    _, height = cell.wrap(100, 10_000)
    parts = cell.split(112, height / 2)  # a table passes its column width, padding included
    assert len(parts) == 2
    widths = [p.wrap(100, 10_000) for p in parts]
    assert sum(h for _, h in widths) == height
    joined = "".join(line for p in parts for line in p._lines(100))  # type: ignore[attr-defined]
    assert joined == text
