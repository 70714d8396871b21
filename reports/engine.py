"""WeasyPrint itself: HTML in, PDF out, with its warnings collected.

Kept free of model imports so that report worker processes (started with "spawn") can import
it without setting Django up.
"""

import contextlib
import gc
import logging

from django.conf import settings


class WarningCollector(logging.Handler):
    """Keeps WeasyPrint's warnings (missing fonts, unsupported CSS) of one rendering."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def weasyprint_warnings():
    """WeasyPrint logs to the `weasyprint` logger, which has only a NullHandler by default:
    collect its warnings so a caller can report them (settings.LOGGING also prints them)."""
    logger = logging.getLogger("weasyprint")
    handler = WarningCollector()
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


_font_config = None


def _shared_font_config():
    """One FontConfiguration per process: loading the CJK fonts once, not once per chunk."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def html_to_pdf(html: str, target) -> None:
    """Render one HTML document to `target` (a path or a binary file)."""
    from weasyprint import HTML  # imported late: it loads Pango, which `check` may lack

    # The cyclic collector walks WeasyPrint's huge box trees again and again for nothing
    # during a render (measured about 13% of the time); run it once afterwards instead.
    gc.disable()
    try:
        HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
            target, font_config=_shared_font_config()
        )
    finally:
        gc.enable()
        gc.collect()


def peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it restarts at exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def render_part(html: str, path: str) -> tuple[list[str], int]:
    """Worker-process entry point: one chunk's HTML to one PDF file.

    Returns the chunk's WeasyPrint warnings and the worker's peak memory so far (MB).
    """
    with weasyprint_warnings() as warnings:
        html_to_pdf(html, path)
    return warnings, peak_rss_mb()
