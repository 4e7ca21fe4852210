"""Previews of a case's evidence files for the mediation page: a PNG thumbnail of an image, or of
a PDF's first page, drawn by a worker (`evidence_preview_render` task), never in a request.

A file evidence is stored with its preview pending (`evidence_preview_request`, called by
`evidence_add` before it saves); the task draws it on commit. The files come from the parties,
so the drawing is bounded before anything is decoded: an image's pixels are counted from its
header, a PDF page's size from its dictionary, and the task has a time limit. Whatever the file
does (a decompression bomb, a damaged PDF, an unknown format, the time limit), the preview is
recorded as failed and logged; the worker goes on.
"""

from __future__ import annotations

import io
import logging
import threading
from uuid import UUID

import pypdfium2
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps

from apps.core.uploads import JPEG, PDF, PNG
from apps.disputes.models import DisputeEvidence, PreviewStatus

logger = logging.getLogger(__name__)

# The mediation page shows two columns of evidence side by side: a thumbnail this wide is enough
# to recognise a photo or a document, and the file is a click away.
PREVIEW_WIDTH = 480
# A page is drawn at most this many times taller than wide.
MAX_HEIGHT_PER_WIDTH = 3
# A PNG or JPEG of a few MB can describe a hundred million pixels (gigabytes once decoded).
MAX_SOURCE_PIXELS = 40_000_000
# 200 inches: the PDF reference's largest page; a bigger one is no scan of a paper.
MAX_PAGE_POINTS = 14_400
# PDFium may not be entered from two threads at once, even for different documents.
PDFIUM_LOCK = threading.Lock()


class PreviewRefused(Exception):
    """The file is beyond the preview's limits."""


def _png_bytes(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _image_thumbnail(data: bytes, content_type: str) -> bytes:
    # Only the decoder the upload check identified: no other of Pillow's formats parses the bytes.
    with Image.open(io.BytesIO(data), formats=["PNG" if content_type == PNG else "JPEG"]) as opened:
        pixels = opened.width * opened.height
        if pixels > MAX_SOURCE_PIXELS:
            raise PreviewRefused(f"{pixels} pixels, more than {MAX_SOURCE_PIXELS}")
        # A JPEG can be decoded at a fraction of its size: far less memory for a phone photo.
        opened.draft("RGB", (PREVIEW_WIDTH, PREVIEW_WIDTH * MAX_HEIGHT_PER_WIDTH))
        # Phone photos store their orientation in EXIF; without this they show sideways.
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * MAX_HEIGHT_PER_WIDTH), Image.Resampling.LANCZOS)
        return _png_bytes(image)


def _pdf_first_page(data: bytes) -> bytes:
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(data)
        try:
            if len(document) == 0:
                raise PreviewRefused("the PDF has no pages")
            page = document[0]
            try:
                width, height = page.get_size()
                if not (0 < width <= MAX_PAGE_POINTS and 0 < height <= MAX_PAGE_POINTS):
                    raise PreviewRefused(f"a first page of {width:.0f} by {height:.0f} points")
                scale = min(PREVIEW_WIDTH / width, PREVIEW_WIDTH * MAX_HEIGHT_PER_WIDTH / height)
                bitmap = page.render(scale=scale)
                try:
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    return _png_bytes(image)


def preview_png(data: bytes, content_type: str) -> bytes | None:
    """A PNG thumbnail of the image or the PDF's first page; None for a type without one.
    Raises whatever the file makes Pillow or PDFium raise, or PreviewRefused beyond a limit."""
    if content_type == PDF:
        return _pdf_first_page(data)
    if content_type in (JPEG, PNG):
        return _image_thumbnail(data, content_type)
    return None


def evidence_preview_request(*, evidence: DisputeEvidence) -> None:
    """Mark a file evidence (not saved yet) as waiting for its preview, and ask a worker to draw
    it once the evidence is committed (a rolled-back upload asks for nothing)."""
    from apps.disputes import tasks

    evidence.preview_status = PreviewStatus.PENDING
    evidence_id, organization_id = str(evidence.id), str(evidence.client_organization_id)
    transaction.on_commit(lambda: tasks.evidence_preview_render.delay(evidence_id, organization_id))


@transaction.atomic
def evidence_preview_render(*, evidence_id: UUID) -> DisputeEvidence:
    """Draw and store the preview of a file evidence whose preview is pending: `ready` with the
    PNG stored beside the file, `none` for a type without preview, `failed` (logged) when the
    file cannot or may not be drawn. Does nothing to an evidence no longer pending (a second
    delivery of the task). A stored file that cannot be read raises (OSError: retried)."""
    evidence = DisputeEvidence.objects.select_for_update().filter(pk=evidence_id).first()
    if evidence is None or evidence.preview_status != PreviewStatus.PENDING:
        return evidence
    with evidence.file.open("rb") as stored:
        data = stored.read()
    log = {
        "evidence_id": str(evidence.id),
        "dispute_id": str(evidence.dispute_id),
        "content_type": evidence.content_type,
    }
    try:
        png = preview_png(data, evidence.content_type)
    # The file is a party's: anything it does to the decoders (a bomb, a damaged or hostile
    # file, the task's time limit) ends in no preview, never in a failed task.
    except (Exception, SoftTimeLimitExceeded) as error:
        logger.warning("dispute.evidence_preview_failed", extra={**log, "error": f"{type(error).__name__}: {error}"})
        evidence.preview_status = PreviewStatus.FAILED
        evidence.save(update_fields=["preview_status"])
        return evidence
    if png is None:
        evidence.preview_status = PreviewStatus.NONE
        evidence.save(update_fields=["preview_status"])
        return evidence
    evidence.preview.save("preview.png", ContentFile(png), save=False)
    evidence.preview_status = PreviewStatus.READY
    evidence.save(update_fields=["preview", "preview_status"])
    logger.info("dispute.evidence_preview_ready", extra={**log, "bytes": len(png)})
    return evidence
