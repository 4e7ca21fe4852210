"""Reading generated PDFs back the way people and phones do."""

from __future__ import annotations

import pypdfium2
import zxingcpp


def qr_codes_on(pdf: bytes, page: int = 0) -> list[str]:
    """Render the page to pixels and read every QR code on it, as a phone would."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=2).to_pil()
    finally:
        document.close()
    return [
        barcode.text for barcode in zxingcpp.read_barcodes(image) if barcode.format == zxingcpp.BarcodeFormat.QRCode
    ]
