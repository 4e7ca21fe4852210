"""The base of every download behind a short-lived signed link (apps.core.download_links)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, ClassVar
from uuid import UUID

from django.http import FileResponse
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apps.core.api.negotiation import FileDownloadNegotiation
from apps.core.context import tenant_scope
from apps.core.download_links import read_download_token


@dataclass(frozen=True)
class OpenedFile:
    handle: IO[bytes]
    filename: str
    content_type: str


class SignedFileView(APIView):
    """The file behind a signed, short-lived link (the link is the permission, as with S3)."""

    # It opens its own tenant scope, and must: the caller is anonymous (no membership for
    # apps.tenancy.resolver to pick), and the organization comes from the signed link, which
    # names exactly one record of it. A subclass says which salt signs its links, how long
    # they work, and how its record's file is found and named (`open_file`, run inside that
    # scope); its `get` carries only the schema. (Not in the docstring: the API's description.)

    permission_classes = [AllowAny]
    authentication_classes = []
    content_negotiation_class = FileDownloadNegotiation  # Accept: application/pdf is not a 406
    salt: ClassVar[str]

    def max_age(self) -> int:
        raise NotImplementedError

    def open_file(self, *, record_id: UUID, organization_id: UUID) -> OpenedFile:
        raise NotImplementedError

    def get(self, request, token):
        record_id, organization_id = read_download_token(token, salt=self.salt, max_age=self.max_age())
        with tenant_scope(organization_id):
            opened = self.open_file(record_id=record_id, organization_id=organization_id)
        return FileResponse(
            opened.handle, as_attachment=True, filename=opened.filename, content_type=opened.content_type
        )
