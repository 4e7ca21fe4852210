"""Request parsers. Django's multipart parser quietly cuts directories off uploaded file
names ("../../x.pdf" arrives as "x.pdf"); a client that sends a path is refused instead."""

from __future__ import annotations

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles
from rest_framework.parsers import MultiPartParser as DrfMultiPartParser


class _PathRefusingParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        if any(part in file_name for part in ("/", "\\", "\x00")) or file_name.strip(". ") == "":
            raise MultiPartParserError(f"A file name must not contain a path: {file_name!r}.")
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(DrfMultiPartParser):
    """DRF's multipart parser, refusing file names with path parts (400, nothing stored)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", "utf-8")
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _PathRefusingParser(meta, stream, request.upload_handlers, encoding)
            data, files = parser.parse()
        except MultiPartParserError as error:
            raise ParseError(str(error)) from error
        return DataAndFiles(data, files)
