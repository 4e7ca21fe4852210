"""Passport files API: a passport's QR code (SVG, PNG) and label sheet (PDF), label sheets of
many passports, and the CSV batch import with its template."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from apps.core.api.filtering import query_params
from apps.core.errors import ValidationFailed
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.passports import selectors, services
from apps.passports.api import files_serializers as s
from apps.passports.labels import label_sheet_pdf
from apps.passports.qr import passport_uri_of, qr_png, qr_svg
from apps.tenancy.api.base import OrganizationEndpoint

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no passport of your organization has this id")
PDF, PNG, SVG, CSV = "application/pdf", "image/png", "image/svg+xml", "text/csv"


class FileAnswerNegotiation(DefaultContentNegotiation):
    """Parses the body as usual, and answers with the file whatever `Accept` says (an error in
    the JSON envelope): an image viewer's `Accept: image/png` is not a 406. (As
    apps.core.api.negotiation.FileDownloadNegotiation, which picks the first parser for any body.)"""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _file(content: bytes, *, content_type: str, filename: str, as_attachment: bool = True) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    return response


class PassportFilesEndpoint(OrganizationEndpoint):
    required_feature = "device_passports"
    content_negotiation_class = FileAnswerNegotiation

    def passport(self, passport_id):
        """The organization's passport (a customer's own only); 404 for any other."""
        return selectors.passport_get(
            organization_id=self.organization_id, passport_id=passport_id, customer_id=self.own_customer_id()
        )


class PassportQrSvgView(PassportFilesEndpoint):
    required_permissions = {"GET": "passport:read"}

    @extend_schema(
        operation_id="passports_qr_svg",
        responses={(200, SVG): OpenApiTypes.BINARY, 404: NOT_YOURS},
        summary="The passport's QR code as SVG (GS1 Digital Link with a GTIN, /p/<code> without)",
    )
    def get(self, request, passport_id):
        passport = self.passport(passport_id)
        return _file(
            qr_svg(passport_uri_of(passport)), content_type=SVG, filename=f"{passport.code}.svg", as_attachment=False
        )


class PassportQrPngView(PassportFilesEndpoint):
    required_permissions = {"GET": "passport:read"}

    @extend_schema(
        operation_id="passports_qr_png",
        parameters=[s.PassportQrPngQuery],
        responses={(200, PNG): OpenApiTypes.BINARY, 404: NOT_YOURS},
        summary="The passport's QR code as PNG (`scale` pixels a module)",
    )
    def get(self, request, passport_id):
        scale = query_params(s.PassportQrPngQuery, request)["scale"]
        passport = self.passport(passport_id)
        return _file(
            qr_png(passport_uri_of(passport), scale=scale),
            content_type=PNG,
            filename=f"{passport.code}.png",
            as_attachment=False,
        )


class PassportLabelView(PassportFilesEndpoint):
    required_permissions = {"GET": "passport:read"}

    @extend_schema(
        operation_id="passports_label_pdf",
        responses={(200, PDF): OpenApiTypes.BINARY, 404: NOT_YOURS},
        summary="A label sheet (A4, 21 labels of 70 x 42.3 mm) with this passport's label in the first place",
    )
    def get(self, request, passport_id):
        passport = self.passport(passport_id)
        return _file(label_sheet_pdf([passport]), content_type=PDF, filename=f"{passport.code}.pdf")


class PassportLabelsView(PassportFilesEndpoint):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "passport:read"}

    @extend_schema(
        request=s.PassportLabelsInput,
        responses={
            (200, PDF): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An id is no passport of yours (each named); nothing is printed"),
        },
        summary="Label sheets of many passports (A4, 21 labels a sheet), in the order given",
    )
    def post(self, request):
        data = s.PassportLabelsInput(data=request.data)
        data.is_valid(raise_exception=True)
        passport_ids = data.validated_data["passport_ids"]
        passports = selectors.passports_by_ids(
            organization_id=self.organization_id, passport_ids=passport_ids, customer_id=self.own_customer_id()
        )
        found = {passport.id for passport in passports}
        unknown = list(dict.fromkeys(passport_id for passport_id in passport_ids if passport_id not in found))
        if unknown:
            raise ValidationFailed(
                f"{len(unknown)} of the ids are no passport of yours; nothing was printed.",
                details={
                    "passport_ids": [f"No passport of yours has the id {passport_id}." for passport_id in unknown]
                },
            )
        return _file(label_sheet_pdf(passports), content_type=PDF, filename=f"passport-labels-{len(passports)}.pdf")


class PassportImportView(PassportFilesEndpoint):
    parser_classes = [StrictMultiPartParser]
    content_negotiation_class = DefaultContentNegotiation  # answers JSON
    required_permissions = {"POST": "passport:create"}

    @extend_schema(
        request={"multipart/form-data": s.PassportImportInput},
        responses={
            201: OpenApiResponse(s.PassportImportOutput, description="Every row registered"),
            200: OpenApiResponse(s.PassportImportOutput, description="Dry run: every row is valid; nothing kept"),
            400: OpenApiResponse(
                description="VALIDATION_FIELD_INVALID: a problem of the file (details.file), or of rows "
                '(details.rows: [{"row": <line, the header is 1>, "errors": {column: [messages]}}]); nothing kept'
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Register a batch of devices from a CSV file: all rows or none",
    )
    @idempotent
    def post(self, request):
        data = s.PassportImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.passports_import(
            actor=self.actor(), data=data.validated_data["file"].read(), dry_run=data.validated_data["dry_run"]
        )
        return Response(s.PassportImportOutput(report).data, status=200 if report.dry_run else 201)


class PassportImportTemplateView(PassportFilesEndpoint):
    required_permissions = {"GET": "passport:read"}

    @extend_schema(
        responses={(200, CSV): OpenApiTypes.BINARY},
        summary="The CSV a batch import takes: its header line and an example row",
    )
    def get(self, request):
        return _file(
            services.passports_import_template().encode(),
            content_type=f"{CSV}; charset=utf-8",
            filename="passports-import-template.csv",
        )
