"""Checks of uploaded files, shared by every context that takes files (KYC documents, purchase
invoices and return photos; next chat, disputes, service orders): the type by the bytes (magic
numbers, never the name or the declared type), the size, the file name, and that a PDF or image
opens. Pure: values in, CheckResult objects out, so services, the API and the admin show the
same sentences, and tests call them directly.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import asdict, dataclass

from PIL import Image
from pypdf import PdfReader

from apps.core.errors import ValidationFailed
from apps.core.text import has_control_or_format_characters

logger = logging.getLogger(__name__)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

EXTENSIONS_BY_CONTENT_TYPE = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}
KIND_BY_CONTENT_TYPE = {PDF: "a PDF", JPEG: "a JPEG image", PNG: "a PNG image"}

# Names browsers and phones send for the same three types.
CONTENT_TYPE_ALIASES = {
    "application/x-pdf": PDF,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
}

# Things people upload by mistake, named so the message can say what the file looks like.
LOOKALIKES = (
    (b"PK\x03\x04", "a ZIP archive (Word and Excel files are ZIP archives too)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc or .xls)"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
)
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


# --- files ----------------------------------------------------------------------------------


def sniff_content_type(head: bytes) -> str | None:
    """The type the first bytes announce: "application/pdf", "image/jpeg", "image/png", or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _looks_like(head: bytes) -> str | None:
    for magic, description in LOOKALIKES:
        if head.startswith(magic):
            return description
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(HTML_STARTS) or (text.startswith(b"<?xml") and b"<html" in text):
        return "an HTML page"
    return None


def _shown_size(size: int, decimals: int) -> str:
    # Binary units, as the limit is set (10 * 1024 * 1024 reads "10 MB"); trailing zeros dropped.
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / (1024 * 1024), "MB")
    return f"{f'{value:.{decimals}f}'.rstrip('0').rstrip('.')} {unit}"


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` as a person reads them, never shown alike when they differ: as
    many decimals as that takes (10.05 MB against 10 MB), else in bytes."""
    for decimals in (1, 2):
        shown_size, shown_limit = _shown_size(size, decimals), _shown_size(limit, decimals)
        if shown_size != shown_limit or size == limit:
            return shown_size, shown_limit
    return f"{size:,} bytes", f"{limit:,} bytes ({_shown_size(limit, 2)})"


def _file_name_check(filename: str) -> CheckResult:
    name = "file_name"
    if not filename:
        return CheckResult(name, False, "The file has no name.")
    if has_control_or_format_characters(filename):
        return CheckResult(name, False, "The file name contains control or invisible formatting characters.")
    if any(separator in filename for separator in ("/", "\\", ":")) or filename in (".", ".."):
        return CheckResult(name, False, f"The file name {filename!r} contains a folder or drive; give the name only.")
    return CheckResult(name, True, f"The file name {filename!r} is a plain name.")


def _pdf_checks(data: bytes) -> list[CheckResult]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return [
                CheckResult("file_readable", True, "The PDF can be opened."),
                CheckResult(
                    "pdf_not_encrypted", False, "The PDF is password-protected; upload a copy without a password."
                ),
            ]
        page_count = len(reader.pages)
    # pypdf raises many exception types on malformed input; any of them means unreadable.
    except Exception:
        logger.info("kyc.pdf_unreadable", exc_info=True)
        return [CheckResult("file_readable", False, "The PDF is damaged or incomplete and cannot be read.")]
    if page_count == 0:
        return [CheckResult("file_readable", False, "The PDF has no pages.")]
    pages = "1 page" if page_count == 1 else f"{page_count} pages"
    return [
        CheckResult("file_readable", True, f"The PDF can be read ({pages})."),
        CheckResult("pdf_not_encrypted", True, "The PDF is not password-protected."),
    ]


def _image_checks(data: bytes, kind: str) -> list[CheckResult]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    # Pillow, like pypdf, has no single exception type for a broken file.
    except Exception:
        logger.info("kyc.image_unreadable", exc_info=True)
        return [CheckResult("file_readable", False, f"The file starts like {kind} but is damaged and cannot be read.")]
    return [CheckResult("file_readable", True, f"The file is {kind} that can be read.")]


def file_checks(*, data: bytes, filename: str, declared_content_type: str | None, max_bytes: int) -> list[CheckResult]:
    """Every check an uploaded document file must pass; the upload is acceptable when all results passed.

    Checks that an earlier failure makes meaningless are left out: an empty file gets no type
    check, a file that is not a PDF no encryption check, and an oversized file is not parsed.
    """
    results = [_file_name_check(filename)]
    if not data:
        results.append(CheckResult("file_not_empty", False, "The file is empty."))
        return results
    results.append(CheckResult("file_not_empty", True, "The file is not empty."))

    too_large = len(data) > max_bytes
    shown_size, shown_limit = _sizes(len(data), max_bytes)
    if too_large:
        results.append(CheckResult("file_size", False, f"The file is {shown_size}; the limit is {shown_limit}."))
    else:
        results.append(CheckResult("file_size", True, f"The file is {shown_size}, within the {shown_limit} limit."))

    sniffed = sniff_content_type(data[:16])
    if sniffed is None:
        lookalike = _looks_like(data[:512])
        what = f"it looks like {lookalike}" if lookalike else "its type could not be recognised"
        results.append(CheckResult("file_type", False, f"The file is not a PDF, JPEG or PNG: {what}."))
        return results
    kind = KIND_BY_CONTENT_TYPE[sniffed]
    results.append(CheckResult("file_type", True, f"The file is {kind}."))

    extension = os.path.splitext(filename)[1].lower()
    expected_extensions = EXTENSIONS_BY_CONTENT_TYPE[sniffed]
    if extension in expected_extensions:
        results.append(CheckResult("file_extension", True, f"The extension {extension} matches {kind}."))
    else:
        shown = f"The extension {extension}" if extension else "A file name without an extension"
        results.append(
            CheckResult(
                "file_extension",
                False,
                f"{shown} does not match the content, which is {kind}; expected {' or '.join(expected_extensions)}.",
            )
        )

    if declared_content_type is not None:
        declared = declared_content_type.split(";")[0].strip().lower()
        declared = CONTENT_TYPE_ALIASES.get(declared, declared)
        if declared == sniffed:
            results.append(CheckResult("file_declared_type", True, f"The declared type {declared} matches {kind}."))
        else:
            results.append(
                CheckResult(
                    "file_declared_type",
                    False,
                    f"The file was sent as {declared_content_type} but its content is {kind}.",
                )
            )

    if too_large:
        return results
    if sniffed == PDF:
        results.extend(_pdf_checks(data))
    else:
        results.extend(_image_checks(data, kind))
    return results


@dataclass(frozen=True)
class Upload:
    """A file as a caller sent it (an API view's UploadedFile, read)."""

    name: str
    data: bytes
    content_type: str | None = None


def upload_checked(upload: Upload, *, max_bytes: int, field: str = "file") -> str:
    """The file's type by its bytes when every check passes; else ValidationFailed (400) with
    every failed check's sentence under `field`. For a context that takes PDF, JPEG and PNG."""
    # A client that names one of the accepted types must be right about it; a generic one
    # (application/octet-stream) says nothing, the bytes decide.
    declared = upload.content_type if upload.content_type in EXTENSIONS_BY_CONTENT_TYPE else None
    results = file_checks(data=upload.data, filename=upload.name, declared_content_type=declared, max_bytes=max_bytes)
    failed = [result.message for result in results if not result.passed]
    if failed:
        raise ValidationFailed(failed[0], details={field: failed})
    return sniff_content_type(upload.data[:16]) or ""
