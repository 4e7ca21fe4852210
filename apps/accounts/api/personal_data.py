"""Personal data API: the person's export (`/me/export`) and erasure (`/me/erasure`).

docs/accounts.md, "Personal data", says how they behave and why.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors
from apps.accounts.models import ErasureRequest, PersonalDataExport
from apps.accounts.services import personal_data
from apps.core.api.fields import StrictCharField
from apps.core.context import user_scope
from apps.core.download_links import personal_download_token, read_personal_download_token
from apps.core.errors import NotFound

DOWNLOAD_SALT = "apps.accounts.personal-data-export"


class PersonalDataExportOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="While ready: a signed link to the JSON archive, valid `download_url_expires_in` seconds; "
        "ask this endpoint again for a fresh one."
    )
    download_url_expires_in = serializers.SerializerMethodField()

    class Meta:
        model = PersonalDataExport
        fields = [
            "id",
            "status",
            "requested_at",
            "completed_at",
            "expires_at",
            "size_bytes",
            "sha256",
            "download_url",
            "download_url_expires_in",
        ]

    def _ready(self, export) -> bool:
        return export.status == PersonalDataExport.Status.READY and bool(export.file)

    def get_download_url(self, export) -> str | None:
        if not self._ready(export):
            return None
        token = personal_download_token(salt=DOWNLOAD_SALT, record_id=export.id, user_id=export.user_id)
        return self.context["request"].build_absolute_uri(reverse("me-export-file", args=[token]))

    def get_download_url_expires_in(self, export) -> int | None:
        return settings.PERSONAL_DATA_EXPORT_URL_MAX_AGE if self._ready(export) else None


class ErasureRequestOutput(serializers.ModelSerializer):
    class Meta:
        model = ErasureRequest
        fields = ["id", "status", "requested_at", "due_at", "cancelled_at", "completed_at"]


class ErasureRequestInput(serializers.Serializer):
    password = StrictCharField(
        max_length=128, trim_whitespace=False, help_text="The current password, asked again for this act."
    )


def _export_response(request, export: PersonalDataExport) -> Response:
    code = status.HTTP_202_ACCEPTED if export.status == PersonalDataExport.Status.PENDING else status.HTTP_200_OK
    return Response(PersonalDataExportOutput(export, context={"request": request}).data, status=code)


class PersonalDataExportView(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(PersonalDataExportOutput, description="Ready: `download_url` fetches the archive."),
            202: OpenApiResponse(PersonalDataExportOutput, description="Being built: ask again later."),
        },
        summary="Your personal data export: the latest, or a new one when there is none to show",
        description="Shows the export being built (202) or the latest ready one still kept (200, with a "
        "short-lived download link). When there is neither (none yet, or the last one failed or expired) "
        "a new one is queued and the answer is 202.",
    )
    def get(self, request):
        return _export_response(request, personal_data.personal_data_export_current(user_id=request.user.id))

    @extend_schema(
        request=None,
        responses={202: PersonalDataExportOutput},
        summary="Ask for a fresh export of your personal data (built by a worker)",
        description="Returns the export already being built, if any: one at a time.",
    )
    def post(self, request):
        return _export_response(request, personal_data.personal_data_export_start(user_id=request.user.id))


class PersonalDataExportFileView(APIView):
    """The JSON archive behind a signed, short-lived link (the link is the permission)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={(200, "application/json"): bytes}, summary="Download a personal data archive")
    def get(self, request, token):
        export_id, user_id = read_personal_download_token(
            token, salt=DOWNLOAD_SALT, max_age=settings.PERSONAL_DATA_EXPORT_URL_MAX_AGE
        )
        with user_scope(user_id):
            export = PersonalDataExport.objects.filter(pk=export_id, user_id=user_id).first()
            if export is None or export.status != PersonalDataExport.Status.READY or not export.file:
                raise NotFound("The archive is no longer available.")
            handle = export.file.open("rb")
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"personal-data-{export.completed_at:%Y-%m-%d}.json",
            content_type="application/json",
        )


class ErasureRequestView(APIView):
    @extend_schema(
        responses={200: ErasureRequestOutput, 404: OpenApiResponse(description="NOT_FOUND: never asked")},
        summary="Your latest erasure request",
    )
    def get(self, request):
        erasure = selectors.erasure_request_current(user_id=request.user.id)
        if erasure is None:
            raise NotFound("You have not asked for erasure.")
        return Response(ErasureRequestOutput(erasure).data)

    @extend_schema(
        request=ErasureRequestInput,
        responses={
            202: ErasureRequestOutput,
            400: OpenApiResponse(description="VALIDATION_FIELD_INVALID: wrong password"),
            422: OpenApiResponse(description="The only admin of an organization others still work in"),
        },
        summary="Ask to be erased; carried out after a grace period during which you may cancel",
    )
    def post(self, request):
        data = ErasureRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        erasure = personal_data.erasure_request_create(user=request.user, password=data.validated_data["password"])
        return Response(ErasureRequestOutput(erasure).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="NOT_FOUND: nothing scheduled")},
        summary="Cancel your scheduled erasure (during the grace period)",
    )
    def delete(self, request):
        personal_data.erasure_request_cancel(user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)
