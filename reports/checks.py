"""`manage.py check` warns when the machine cannot render Chinese PDFs well."""

import ctypes.util
import shutil
import subprocess

from django.core.checks import Warning, register


def cjk_fonts() -> list[str] | None:
    """Families with Chinese coverage per fontconfig, or None when fc-list is missing."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def has_harfbuzz_subset() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


@register()
def pdf_prerequisites(app_configs=None, **kwargs):
    warnings = []
    fonts = cjk_fonts()
    if not fonts:
        warnings.append(
            Warning(
                "No font with Chinese glyphs is installed (fc-list :lang=zh finds none): "
                "report PDFs would print empty boxes instead of Chinese text.",
                hint="Install fonts-noto-cjk (Debian/Ubuntu: apt-get install fonts-noto-cjk).",
                id="reports.W001",
            )
        )
    elif not any(f.startswith("Noto Serif CJK") or f.startswith("Noto Sans CJK") for f in fonts):
        warnings.append(
            Warning(
                "Chinese fonts are installed, but not Noto Serif/Sans CJK SC, which the report "
                "stylesheets name: another font will be substituted.",
                hint="Install fonts-noto-cjk.",
                id="reports.W002",
            )
        )
    elif "Noto Sans Mono CJK SC" not in fonts:
        warnings.append(
            Warning(
                "Noto Sans Mono CJK SC is not installed: the columns of the yearly payout "
                "report's detail table, laid out for its fixed character widths, would not "
                "line up.",
                hint="Install fonts-noto-cjk (it includes the monospaced face).",
                id="reports.W004",
            )
        )
    if not has_harfbuzz_subset():
        warnings.append(
            Warning(
                "libharfbuzz-subset is not installed: WeasyPrint falls back to fontTools to "
                "embed fonts, 1.2-2.3 times slower for Chinese reports.",
                hint="Install libharfbuzz-subset0 (Debian/Ubuntu).",
                id="reports.W003",
            )
        )
    return warnings
