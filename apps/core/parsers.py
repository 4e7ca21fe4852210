"""Request parsers.

JSON (`StrictJSONParser`, every API view's default): a body nested deeper than
JSON_MAX_DEPTH is refused before the json module recurses into it (its C decoder recurses
once per level and fails with RecursionError, a 500, around a thousand levels; so would
everything that walks the result), and text that cannot be stored is refused with the field
named: NUL, which PostgreSQL's text and jsonb refuse, and an unpaired UTF-16 surrogate
("\ud800" alone decodes to a str that cannot be encoded as UTF-8). Both are 400
VALIDATION_FIELD_INVALID in the envelope, for every field of every JSON body.

Multipart (`StrictMultiPartParser`): Django quietly cuts directories off uploaded file
names ("../../x.pdf" arrives as "x.pdf"); a client that sends a path is refused instead.
"""

from __future__ import annotations

import codecs
import json
import re
import secrets

from django.conf import settings
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles
from rest_framework.parsers import JSONParser as DrfJSONParser
from rest_framework.parsers import MultiPartParser as DrfMultiPartParser

# A JSON string, escapes included. An unterminated one runs to the end of the text (with
# or without a dangling backslash), so every attempt that starts at a quote matches and the
# scan stays linear (a pattern that could fail there would be retried from every later
# quote: quadratic on a body of escaped quotes). The json module refuses such a body anyway.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
# Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a surrogate left unpaired: a
# correct pair is decoded into one character above U+FFFF, so any surrogate left is alone).
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def json_nesting_depth_exceeds(text: str, max_depth: int) -> bool:
    """True when `text` opens more than `max_depth` arrays/objects inside each other.

    Counts without recursing and without parsing: strings are blanked out, then brackets
    counted. For valid JSON the count is the nesting; for invalid JSON it is at least what
    a parser reaches before failing, so a refusal here is never too lenient.
    """
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def _path(parent: str, key) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else (f"{parent}.{key}" if parent else str(key))


def unstorable_text_path(value, *, path: str = "") -> str | None:
    """The path ("settings.theme.label", "items[2]") of the first string or object key in
    `value` that holds NUL or an unpaired surrogate; None when all its text can be stored.
    Walks with a stack, not recursion: nothing here relies on the depth being bounded."""
    pending = [(path, value)]
    while pending:
        node_path, node = pending.pop()
        if isinstance(node, str):
            if _UNSTORABLE_TEXT.search(node):
                return node_path
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = _path(node_path, key)
                if _UNSTORABLE_TEXT.search(key):
                    return child_path
                pending.append((child_path, child))
        elif isinstance(node, list):
            pending.extend((_path(node_path, index), child) for index, child in enumerate(node))
    return None


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON (RFC 8259); DRF's STRICT_JSON refuses them too.
    raise ValueError(f"{name} is not valid JSON.")


def json_loads_checked(text: str | bytes, *, max_depth: int | None = None):
    """json.loads for text from outside. Raises ValidationFailed (400 VALIDATION_FIELD_INVALID)
    when it nests deeper than `max_depth` (default JSON_MAX_DEPTH) or holds text that cannot
    be stored (`details` names the body's top-level field), and json's ValueError when it is
    not JSON."""
    # Imported here: apps.core.errors imports DRF's views, whose settings import this module.
    from apps.core.errors import ValidationFailed

    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    if json_nesting_depth_exceeds(text, max_depth):
        raise ValidationFailed(
            f"The JSON is nested more than {max_depth} levels deep.", details={"max_depth": max_depth}
        )
    data = json.loads(text, parse_constant=_refuse_constant)
    if isinstance(data, dict):
        for field, value in data.items():
            path = field if _UNSTORABLE_TEXT.search(field) else unstorable_text_path(value, path=field)
            if path is not None:
                _refuse_unstorable(path, field=field)
    elif (path := unstorable_text_path(data)) is not None:
        _refuse_unstorable(path, field="non_field_errors")
    return data


def _refuse_unstorable(path: str, *, field: str):
    from apps.core.errors import ValidationFailed

    # Named with the offending characters escaped: the error itself must be printable.
    def shown(text: str) -> str:
        return _UNSTORABLE_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", text)

    message = (
        f"The text at {shown(path) or 'the top level'} contains NUL (U+0000) or an unpaired surrogate"
        " (U+D800 to U+DFFF), which cannot be stored."
    )
    raise ValidationFailed(message, details={shown(field): [message]})


class StrictJSONParser(DrfJSONParser):
    """DRF's JSON parser with a nesting limit (JSON_MAX_DEPTH) checked before parsing, and
    NUL or unpaired surrogates refused in every string and key: 400 VALIDATION_FIELD_INVALID."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            # Read whole: the body is already bounded by MAX_REQUEST_BODY_BYTES (core middleware).
            return json_loads_checked(codecs.getreader(encoding)(stream).read())
        except ValueError as error:  # not JSON, or not in `encoding`
            raise ParseError(f"JSON parse error - {error}") from None


class _PathRefusingParser(DjangoMultiPartParser):
    """Notes a file name that carries a path instead of letting Django cut it off. The part
    is read under a placeholder name (Django's loop knows which field a name belongs to,
    this method does not), and StrictMultiPartParser refuses it with its field named."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused_names: dict[str, str] = {}

    def sanitize_file_name(self, file_name):
        if any(part in file_name for part in ("/", "\\", "\x00")) or file_name.strip(". ") == "":
            placeholder = f"refused-{secrets.token_hex(8)}"
            self.refused_names[placeholder] = file_name
            return placeholder
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(DrfMultiPartParser):
    """DRF's multipart parser, refusing file names with path parts: 400
    VALIDATION_FIELD_INVALID naming the field, nothing stored."""

    def parse(self, stream, media_type=None, parser_context=None):
        from apps.core.errors import ValidationFailed  # see json_loads_checked

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
        for field, uploads in files.lists():
            for upload in uploads:
                if upload.name in parser.refused_names:
                    for _, opened in files.lists():
                        for each in opened:
                            each.close()
                    message = f"A file name must not contain a path: {parser.refused_names[upload.name]!r}."
                    raise ValidationFailed(message, details={field: [message]})
        return DataAndFiles(data, files)
