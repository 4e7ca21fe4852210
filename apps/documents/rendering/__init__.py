"""Render the six shipping documents to PDF with reportlab, from plain data.

`render_document(document, options)` is the one entry point. The CMR is drawn box by box on a
canvas, as the printed form is laid out; the other five flow through platypus so long item
lists break across pages. Every page carries a QR code of the document's verification URL,
drawn as vector modules (no raster image to decode, crisp at any zoom).

Text is set in DejaVu Sans, embedded (subset) from static/fonts/, so Cyrillic renders and the
output does not depend on the fonts of the machine that renders it.
"""

from __future__ import annotations

from apps.documents.content import DEFAULT_TEMPLATE, DocumentType, ShipmentDocument, TemplateOptions
from apps.documents.rendering.cmr import CmrForm
from apps.documents.rendering.flowing import FlowingDocument
from apps.documents.rendering.fonts import register_fonts

__all__ = ["render_document"]


def render_document(document: ShipmentDocument, options: TemplateOptions = DEFAULT_TEMPLATE) -> bytes:
    """The document as PDF bytes, laid out for its type, in its language, dressed by the template."""
    register_fonts()
    if document.document_type is DocumentType.CMR:
        return CmrForm(document, options).render()
    return FlowingDocument(document, options).render()
