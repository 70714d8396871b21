"""HTML -> PDF with WeasyPrint, in bounded memory for long reports.

WeasyPrint keeps the whole laid-out document in memory and its cost per page grows with the
document's length (see shared/docs/pdf-notes.md). Long reports are therefore rendered in
chunks of a few hundred rows, each a small document written to a temporary file and freed,
then merged with pypdf; the page numbers (第 X 页 / 共 Y 页), which only the merged document
knows, are stamped afterwards from one small WeasyPrint document of footers.
"""

import contextlib
import logging
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

from reports import documents, engine, textgrid
from reports.engine import html_to_pdf, weasyprint_warnings
from reports.figures import Period
from unions.models import Union

FONT_SERIF = "Noto Serif CJK SC"
FONT_SANS = "Noto Sans CJK SC"
# Rows per separately rendered piece. With one cell per row (reports/textgrid.py) a piece's
# memory is small, and fewer pieces mean fewer font subsets to build (~0.3 s each).
DEFAULT_CHUNK_ROWS = 1500
GRID_CSS = textgrid.grid_css("table.rows")

log = logging.getLogger(__name__)


def render_template_pdf(template: str, context: dict, target) -> None:
    with translation.override("zh-hans"):
        html = render_to_string(template, context)
    html_to_pdf(html, target)


# --- page numbers -----------------------------------------------------------------------

# One page per page of the report, each with its number written out: literal text is much
# cheaper for WeasyPrint than a page-counter margin box on every page (measured 0.97 -> 0.51 s
# CPU for 169 pages). The line sits where @bottom-center of an 8 mm bottom margin puts it.
_FOOTER_HTML = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: {size}; margin: 0; }}
body {{ margin: 0; }}
div {{ font-family: "{font}"; font-size: 9pt; line-height: 12pt; height: {height};
  box-sizing: border-box; padding-top: calc({height} - 4mm - 6pt); text-align: center;
  break-after: page; }}
</style></head><body>{body}</body></html>"""
_PAGE_HEIGHT = {"A4 landscape": "210mm", "A4 portrait": "297mm", "A4": "297mm"}


# Footers rendered at a time: WeasyPrint's memory grows with the pages of one document (the
# 909 footers of the busiest year's report at once took the process from 299 to 410 MB, more
# than any chunk of rows), so a long report's footers are made and stamped in blocks.
FOOTER_BLOCK = 200


def _footer_pdf(first: int, last: int, pages: int, size: str, target) -> None:
    """Footer pages `first` to `last` (1-based) of a `pages`-page report."""
    body = "".join(f"<div>第 {i} 页 / 共 {pages} 页</div>" for i in range(first, last + 1))
    html = _FOOTER_HTML.format(size=size, font=FONT_SANS, height=_PAGE_HEIGHT[size], body=body)
    html_to_pdf(html, target)


def _stamp(writer: PdfWriter, footers: PdfReader, first: int = 0) -> None:
    """Draw footer page k over page `first` + k, as a form XObject (no re-parsing of the big
    pages)."""
    for k, footer in enumerate(footers.pages):
        i = first + k
        page = writer.pages[i]
        form = DecodedStreamObject()
        form.set_data(footer.get_contents().get_data())
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): footer.mediabox,
                NameObject("/Resources"): footer["/Resources"].clone(writer),
            }
        )
        ref = writer._add_object(form)
        name = NameObject(f"/PgNo{i}")
        resources = page.setdefault(NameObject("/Resources"), DictionaryObject())
        resources = resources.get_object()
        xobjects = resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()
        xobjects[name] = ref
        before = DecodedStreamObject()
        before.set_data(b"q\n")
        after = DecodedStreamObject()
        after.set_data(b"\nQ q " + name.encode() + b" Do Q\n")
        contents = page["/Contents"].get_object()
        parts = list(contents) if isinstance(contents, ArrayObject) else [page["/Contents"]]
        page[NameObject("/Contents")] = ArrayObject(
            [writer._add_object(before), *parts, writer._add_object(after)]
        )


def merge_with_page_numbers(parts: list[Path], target, *, size: str) -> int:
    """Concatenate PDF files, stamp 第 X 页 / 共 Y 页 on every page, write; returns Y."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    pages = len(writer.pages)
    with tempfile.TemporaryDirectory() as tmp:
        for start in range(0, pages, FOOTER_BLOCK):
            end = min(start + FOOTER_BLOCK, pages)
            footer_path = Path(tmp) / f"footers{start:06d}.pdf"
            _footer_pdf(start + 1, end, pages, size, footer_path)
            _stamp(writer, PdfReader(footer_path), start)
        if hasattr(target, "write"):
            writer.write(target)
        else:
            with open(target, "wb") as fh:
                writer.write(fh)
    return pages


# --- documents ----------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def _pool(processes: int):
    # "spawn": a fresh interpreter that inherits no database connection from the parent.
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=processes, mp_context=ctx)


def render_payout_report(
    unit: Union,
    period: Period,
    target,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    processes: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """年度临时救助金发放汇总表 to `target`; returns {"rows", "pages", "warnings",
    "worker_peak_mb"} (the largest worker process's peak memory, 0 without workers).

    The parent reads the database and renders each chunk's HTML; with `processes` > 1 and
    more than one chunk, worker processes turn chunks into PDF files in parallel (at most two
    chunks per worker in flight, so memory stays bounded). `progress(done, total)` is called
    after each chunk with the rows rendered so far.
    """
    if processes is None:
        processes = settings.REPORTS_PDF_PROCESSES
    total_rows = documents.payout_report_row_count(unit, period)
    header = documents.payout_report_header(unit, period)
    parallel = processes > 1 and total_rows > chunk_rows
    with (
        tempfile.TemporaryDirectory() as tmp,
        weasyprint_warnings() as warnings,
        _pool(processes) if parallel else contextlib.nullcontext() as pool,
    ):
        parts: list[Path] = []
        in_flight: deque = deque()
        worker_peaks: list[int] = []
        done = 0

        def finish_oldest():
            nonlocal done
            future, rows = in_flight.popleft()
            part_warnings, worker_mb = future.result()
            warnings.extend(part_warnings)
            worker_peaks.append(worker_mb)
            done += rows
            if progress is not None:
                progress(done, total_rows)

        for index, (blocks, is_last) in enumerate(
            _with_last(documents.payout_report_chunks(unit, period, chunk_rows))
        ):
            context = {
                **header,
                "lines": detail_lines(blocks, header["summary"] if is_last else None),
                "header_line": textgrid.header_row(),
                "grid_css": GRID_CSS,
                "show_summary": index == 0,
                "show_detail_title": index == 0,
                "show_signature": is_last,
            }
            with translation.override("zh-hans"):
                html = render_to_string("reports/pdf/payout_report.html", context)
            part = Path(tmp) / f"part{index:05d}.pdf"
            parts.append(part)
            rows = sum(len(b.rows) for b in blocks)
            if pool is None:
                html_to_pdf(html, part)
                done += rows
                if progress is not None:
                    progress(done, total_rows)
                continue
            in_flight.append((pool.submit(engine.render_part, html, str(part)), rows))
            del html
            while len(in_flight) >= 2 * processes:
                finish_oldest()
        while in_flight:
            finish_oldest()
        pages = merge_with_page_numbers(parts, target, size="A4 landscape")
    return {
        "rows": total_rows,
        "pages": pages,
        "warnings": warnings,
        "worker_peak_mb": max(worker_peaks, default=0),
    }


def detail_lines(blocks, summary=None) -> list[tuple[str, str]]:
    """(row class, pre-formatted text) for one chunk of the detail table: the rows, each
    union's 小计 after its last part and, with the report's `summary`, the 合计."""
    lines = []
    for b in blocks:
        lines.extend(("", textgrid.detail_line(r)) for r in b.rows)
        if b.is_last_part and b.rows:
            line = textgrid.total_line("小计", b.union, b.subtotal_count, b.subtotal_amount)
            lines.append(("sub", line))
    if summary is not None and lines:
        lines.append(("total", textgrid.total_line("合计", "", summary.count, summary.total)))
    return lines


def _with_last(chunks):
    """(chunk, is_last) pairs; an empty report still has one (empty) chunk."""
    previous = None
    for chunk in chunks:
        if previous is not None:
            yield previous, False
        previous = chunk
    yield (previous if previous is not None else []), True


def render_simple(template: str, context: dict, target) -> dict:
    """A short document in one piece; its template numbers its own pages."""
    with weasyprint_warnings() as warnings:
        render_template_pdf(template, context, target)
    return {"warnings": warnings}
