"""Chat API: threads of the caller's organization, their history (a cursor, newest first),
sending, editing, deleting and reporting messages, read receipts and attachments."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.chat import selectors, services
from apps.chat.api import serializers as s
from apps.chat.api.pagination import HistoryPagination
from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.errors import ValidationFailed
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE
from apps.tenancy.api.base import OrganizationEndpoint

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such thread, or not your organization's")


class ChatEndpoint(OrganizationEndpoint):
    """Chat acts for the current organization, a party of the thread."""

    required_feature = "chat"

    def thread_body(self, thread_id) -> dict:
        return s.ThreadDetailOutput(selectors.thread_detail(actor=self.actor(), thread_id=thread_id)).data


class ThreadListView(ChatEndpoint):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "chat:read", "POST": "chat:create"}

    @extend_schema(responses=s.ThreadOutput(many=True), summary="Your organization's threads, most recent first")
    def get(self, request):
        actor = self.actor()
        threads = selectors.thread_list(
            organization_id=self.organization_id, user_id=request.user.id, own_user=selectors.own_user_id(actor)
        )
        return paginated_response(self, threads, s.ThreadOutput)

    @extend_schema(
        request=s.ThreadInput,
        responses={
            201: s.ThreadDetailOutput,
            200: OpenApiResponse(s.ThreadDetailOutput, description="The thread already existed"),
            404: OpenApiResponse(description="The subject is not yours to talk about"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Open the thread about an order, an RFQ offer, a dispute, or with an organization you traded with",
    )
    @idempotent
    def post(self, request):
        data = s.ThreadInput(data=request.data)
        data.is_valid(raise_exception=True)
        thread, created = services.thread_open(
            actor=self.actor(),
            kind=data.validated_data["subject_type"],
            subject_id=data.validated_data["subject_id"],
            counterparty_id=data.validated_data["counterparty_id"],
        )
        return Response(self.thread_body(thread.id), status=201 if created else 200)


class ThreadDetailView(ChatEndpoint):
    required_permissions = {"GET": "chat:read"}

    @extend_schema(responses={200: s.ThreadDetailOutput, 404: NOT_YOURS}, summary="A thread with its read receipts")
    def get(self, request, thread_id):
        return Response(self.thread_body(thread_id))


class ThreadMessagesView(ChatEndpoint):
    parser_classes = [StrictJSONParser, StrictMultiPartParser]
    required_permissions = {"GET": "chat:read", "POST": "chat:create"}
    pagination_class = HistoryPagination  # for the schema: the cursor and limit parameters, the envelope

    @extend_schema(
        responses={200: s.MessageOutput(many=True), 404: NOT_YOURS},
        summary="A thread's messages, newest first (cursor in meta.next)",
    )
    def get(self, request, thread_id):
        thread = selectors.thread_for_actor(actor=self.actor(), thread_id=thread_id)
        paginator = self.pagination_class()
        page = paginator.paginate_history(
            selectors.message_history(thread=thread), last_seq=thread.last_seq, request=request
        )
        return paginator.get_paginated_response(s.MessageOutput(page, many=True).data)

    @extend_schema(
        request={"application/json": s.MessageInput, "multipart/form-data": s.MessageUploadInput},
        responses={
            201: s.SentMessageOutput,
            404: NOT_YOURS,
            429: OpenApiResponse(description="RATE_LIMIT_EXCEEDED, with Retry-After"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Send a message (moderated; with files uploaded before, or sent here as multipart)",
    )
    @idempotent
    def post(self, request, thread_id):
        actor = self.actor()
        files = request.FILES.getlist("attachments") if hasattr(request, "FILES") else []
        if files:
            data = s.MessageUploadInput(data=request.data)
            data.is_valid(raise_exception=True)
            if len(files) > settings.CHAT["MAX_ATTACHMENTS"]:
                limit = settings.CHAT["MAX_ATTACHMENTS"]
                raise ValidationFailed(
                    f"A message carries at most {limit} attachments.", details={"attachments": [f"At most {limit}."]}
                )
            uploaded = [
                services.attachment_upload(actor=actor, thread_id=thread_id, upload=_upload(file)) for file in files
            ]
            text, attachment_ids = data.validated_data["text"], [attachment.id for attachment in uploaded]
        else:
            data = s.MessageInput(data=request.data)
            data.is_valid(raise_exception=True)
            text, attachment_ids = data.validated_data["text"], data.validated_data["attachment_ids"]
        message = services.message_send(actor=actor, thread_id=thread_id, text=text, attachment_ids=attachment_ids)
        return Response(s.SentMessageOutput(message).data, status=201)


def _upload(file) -> services.Upload:
    return services.Upload(name=file.name or "", data=file.read(), content_type=file.content_type)


class ThreadAttachmentView(ChatEndpoint):
    parser_classes = [StrictMultiPartParser]
    required_permissions = {"POST": "chat:create"}

    @extend_schema(
        request={"multipart/form-data": s.AttachmentUploadInput},
        responses={201: s.AttachmentOutput, 404: NOT_YOURS},
        summary="Upload a file for your next message in the thread (name its id in attachment_ids)",
    )
    def post(self, request, thread_id):
        data = s.AttachmentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_upload(
            actor=self.actor(), thread_id=thread_id, upload=_upload(data.validated_data["file"])
        )
        return Response(s.AttachmentOutput(attachment).data, status=201)


class ThreadParticipantsView(ChatEndpoint):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "chat:create"}

    @extend_schema(
        request=s.ParticipantInput,
        responses={200: s.ThreadDetailOutput, 404: OpenApiResponse(description="No such thread or colleague")},
        summary="Add a colleague of your organization to the thread",
    )
    def post(self, request, thread_id):
        data = s.ParticipantInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.participant_add(actor=self.actor(), thread_id=thread_id, user_id=data.validated_data["user_id"])
        return Response(self.thread_body(thread_id))


class ThreadReadView(ChatEndpoint):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "chat:read"}

    @extend_schema(
        request=s.ReadInput,
        responses={200: s.ThreadDetailOutput, 404: NOT_YOURS},
        summary="Mark the thread read up to a message (or its newest)",
    )
    def post(self, request, thread_id):
        data = s.ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.thread_read(actor=self.actor(), thread_id=thread_id, message_id=data.validated_data["message_id"])
        return Response(self.thread_body(thread_id))


class MessageDetailView(ChatEndpoint):
    parser_classes = [StrictJSONParser]
    # Editing and deleting one's own message is part of writing: the grant that sends does it.
    required_permissions = {"PUT": "chat:create", "DELETE": "chat:create"}

    @extend_schema(
        request=s.MessageEditInput,
        responses={
            200: s.SentMessageOutput,
            403: OpenApiResponse(description="Not your message"),
            404: OpenApiResponse(description="NOT_FOUND"),
            422: OpenApiResponse(description="Past the edit window, deleted or hidden"),
        },
        summary="Edit your message (within 15 minutes of sending it)",
    )
    def put(self, request, message_id):
        data = s.MessageEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(actor=self.actor(), message_id=message_id, text=data.validated_data["text"])
        return Response(s.SentMessageOutput(message).data)

    @extend_schema(
        responses={
            200: s.MessageOutput,
            403: OpenApiResponse(description="Not your message"),
            404: OpenApiResponse(description="NOT_FOUND"),
            422: OpenApiResponse(description="Already deleted or hidden"),
        },
        summary="Delete your message (it shows as deleted to everyone)",
    )
    def delete(self, request, message_id):
        message = services.message_delete(actor=self.actor(), message_id=message_id)
        return Response(s.MessageOutput(message).data)


class MessageReportView(ChatEndpoint):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "chat:read"}

    @extend_schema(
        request=s.ReportInput,
        responses={
            201: s.ReportOutput,
            200: OpenApiResponse(s.ReportOutput, description="Already reported"),
            404: OpenApiResponse(description="NOT_FOUND"),
        },
        summary="Report a message to the platform's moderators",
    )
    def post(self, request, message_id):
        data = s.ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.message_report(
            actor=self.actor(), message_id=message_id, reason=data.validated_data["reason"]
        )
        return Response(s.ReportOutput(report).data, status=201 if created else 200)


@extend_schema_view(
    get=extend_schema(
        responses={(200, kind): bytes for kind in EXTENSIONS_BY_CONTENT_TYPE},
        summary="Download a message's attachment",
    )
)
class AttachmentFileView(SignedFileView):
    # The link names the attachment and the party whose scope reads it, for a few minutes.
    salt = s.DOWNLOAD_SALT

    def max_age(self) -> int:
        return settings.CHAT["DOWNLOAD_URL_MAX_AGE"]

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        attachment = selectors.attachment_for_download(attachment_id=record_id)
        return OpenedFile(attachment.file.open("rb"), attachment.filename, attachment.content_type)
