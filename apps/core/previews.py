"""Drawing a preview of an uploaded file: the image, or a PDF's first pages, as one PNG.

Shared by every context that shows uploads to a person (KYC documents, dispute evidence).
Pure functions on bytes, no database or storage. They parse files strangers uploaded, so the
application never calls them in a web request or in a worker's own process:
`apps.core.preview_sandbox` runs them in a child process with memory and CPU limits (a PDF of a
few kilobytes can ask PDFium for gigabytes and minutes). Tests call them directly.
"""

from __future__ import annotations

import io
import logging
import threading

import pypdfium2
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
# The types a preview is drawn for; a caller records "no preview" for any other without
# starting the sandbox.
PREVIEWABLE_CONTENT_TYPES = frozenset({PDF, JPEG, PNG})

# PDFium may not be entered from two threads at once, even for different documents
# (pypdfium2 docs, "Incompatibility with Threading"); thread pools would.
PDFIUM_LOCK = threading.Lock()

# A page or an image is drawn at most this many times taller than wide, and no PDF page is
# larger than 14,400 points (200 inches, the PDF reference's limit): a bigger one is not a scan
# of a paper.
MAX_HEIGHT_PER_WIDTH = 4
MAX_PAGE_POINTS = 14_400
# A PNG or JPEG of a few MB can hold a hundred million pixels; drawing it takes gigabytes.
MAX_SOURCE_PIXELS = 64_000_000


class PreviewRefused(Exception):
    """The file is beyond the preview's limits; the message says which, for the reviewer."""


def _png_bytes(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _image_preview(data: bytes, content_type: str, max_width: int) -> bytes:
    # Only the decoder of the type the upload check identified: none of Pillow's other formats
    # gets to parse the bytes.
    with Image.open(io.BytesIO(data), formats=["PNG" if content_type == PNG else "JPEG"]) as opened:
        pixels = opened.width * opened.height
        if pixels > MAX_SOURCE_PIXELS:
            raise PreviewRefused(
                f"The image has {pixels:,} pixels; previews are drawn for images of at most {MAX_SOURCE_PIXELS:,}."
            )
        box = (max_width, max_width * MAX_HEIGHT_PER_WIDTH)
        # A JPEG can be decoded at a fraction of its size: far less memory for a phone photo.
        opened.draft("RGB", box)
        # Phone photos store their orientation in EXIF; without this they show sideways.
        image = ImageOps.exif_transpose(opened)
        image.thumbnail(box, Image.Resampling.LANCZOS)
        return _png_bytes(image)


def _render_page(document: pypdfium2.PdfDocument, index: int, max_width: int) -> Image.Image:
    page = document[index]
    try:
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise PreviewRefused(f"Page {index + 1} has no size.")
        if width > MAX_PAGE_POINTS or height > MAX_PAGE_POINTS:
            raise PreviewRefused(
                f"Page {index + 1} is {width:,.0f} by {height:,.0f} points; a PDF page is at most "
                f"{MAX_PAGE_POINTS:,} points (200 inches) on a side."
            )
        scale = min(max_width / width, max_width * MAX_HEIGHT_PER_WIDTH / height)
        bitmap = page.render(scale=scale)
        try:
            return bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
    finally:
        page.close()


def _pdf_preview(data: bytes, max_width: int, max_pages: int, max_pixels: int) -> bytes:
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(data)
        try:
            images: list[Image.Image] = []
            # Only the first pages: a file of a hundred thousand pages costs what its first ones cost.
            for index in range(min(len(document), max_pages)):
                image = _render_page(document, index, max_width)
                drawn = sum(page.width * page.height for page in images)
                if images and drawn + image.width * image.height > max_pixels:
                    break  # the pages so far fill the preview's pixel budget
                images.append(image)
        finally:
            document.close()
    if not images:
        raise PreviewRefused("The PDF has no pages.")
    sheet = Image.new("RGB", (max(image.width for image in images), sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        sheet.paste(image, (0, top))
        top += image.height
    return _png_bytes(sheet)


def render_preview_png(
    data: bytes, content_type: str, *, max_width: int = 800, max_pages: int = 1, max_pixels: int = 8_000_000
) -> bytes | None:
    """A PNG at most `max_width` pixels wide of the image or the PDF's first `max_pages` pages
    (stacked, within `max_pixels`); None when the file cannot be drawn.

    Raises PreviewRefused when the file is beyond a limit (page size, source pixels).
    """
    try:
        if content_type == PDF:
            return _pdf_preview(data, max_width, max_pages, max_pixels)
        if content_type in (JPEG, PNG):
            return _image_preview(data, content_type, max_width)
    except PreviewRefused:
        raise
    # A preview is a convenience: a file Pillow or PDFium cannot draw gets none.
    except Exception:
        logger.info("file_preview.unreadable", extra={"content_type": content_type}, exc_info=True)
    return None
