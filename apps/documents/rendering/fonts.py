"""The embedded fonts (DejaVu Sans, from static/fonts/): Cyrillic renders, whatever the machine."""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIRECTORY = Path(__file__).resolve().parents[3] / "static" / "fonts"
REGULAR = "ManifestSans"
BOLD = "ManifestSans-Bold"


@functools.cache
def register_fonts() -> None:
    """Register the embedded fonts with reportlab once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIRECTORY / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIRECTORY / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
