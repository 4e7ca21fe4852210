"""Content negotiation for views that answer with a file, not with JSON."""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation


class FileDownloadNegotiation(BaseContentNegotiation):
    """A download answers with the file, whatever the client's `Accept` says.

    DRF negotiates against the view's renderers (JSON only) and would answer
    `Accept: application/pdf`, which every PDF viewer sends, with 406. The file is not
    rendered by DRF at all (a FileResponse), and RFC 9110 §12.5.1 lets a server disregard
    Accept; an error is the JSON envelope, as everywhere (DRF's docs, "Custom content
    negotiation", show the same class).
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
