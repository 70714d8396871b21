"""Reading back the PDFs: text per page, and the glyphs the embedded fonts actually hold."""

import io
import re

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def _to_unicode(font) -> dict[int, str]:
    """CID -> text from the font's ToUnicode CMap (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for cid, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            out[int(cid, 16)] = bytes.fromhex(uni).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, start in re.findall(
            r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            first = ord(bytes.fromhex(start).decode("utf-16-be"))
            for i, cid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[cid] = chr(first + i)
    return out


def embedded_fonts(data: bytes) -> dict[str, dict[str, bool]]:
    """BaseFont name -> {character: whether its glyph in the embedded font draws something}.

    The character comes from the ToUnicode map (what text extraction returns); the glyph is
    looked up in the embedded font program itself, by the same CID (Identity CIDToGIDMap).
    """
    reader = PdfReader(io.BytesIO(data))
    fonts: dict[str, dict[str, bool]] = {}
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            name = str(font["/BaseFont"])
            if name in fonts or "/DescendantFonts" not in font:
                continue
            cid_font = font["/DescendantFonts"][0].get_object()
            descriptor = cid_font["/FontDescriptor"].get_object()
            stream = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            program = TTFont(io.BytesIO(stream.get_object().get_data()))
            order, glyphs = program.getGlyphOrder(), program.getGlyphSet()
            drawn = {}
            for cid, text in _to_unicode(font).items():
                if cid >= len(order) or not text.strip():
                    drawn[text] = False
                    continue
                pen = BoundsPen(glyphs)
                glyphs[order[cid]].draw(pen)
                drawn[text] = pen.bounds is not None and order[cid] != ".notdef"
            fonts[name] = drawn
    return fonts


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
