"""Notifications API: a person's own notifications, preferences, push subscriptions and phone
(user scope, whichever organization the request names), and staff's sending and templates."""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.actors import Actor
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser
from apps.notifications import selectors, services
from apps.notifications.api import serializers as s
from apps.notifications.catalogue import type_get
from apps.notifications.providers import sms as sms_provider

logger = logging.getLogger(__name__)

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such notification, or not yours")


class PersonalView(APIView):
    """Acts for the signed-in person on their own rows (Personal row-level security)."""

    parser_classes = [StrictJSONParser]


class StaffView(PersonalView):
    def staff(self) -> Actor:
        if not self.request.user.is_staff:
            raise PermissionDenied("Only platform staff may do this.")
        return Actor.staff(self.request.user.id)


def _flag(request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValidationFailed(f"{name} must be true or false.", details={name: ["true or false."]})


class NotificationListView(PersonalView):
    @extend_schema(
        responses=s.NotificationOutput(many=True),
        parameters=[
            OpenApiParameter("unread", bool, description="Only unread (true) or only read (false)."),
            OpenApiParameter("type", str, description="One notification type."),
        ],
        summary="Your notifications, newest first; meta.unread_count counts every unread one",
    )
    def get(self, request):
        rows = selectors.notification_list(
            user_id=request.user.id, unread=_flag(request, "unread"), type_key=request.query_params.get("type") or None
        )
        response = paginated_response(self, rows, s.NotificationOutput)
        response.data["meta"]["unread_count"] = selectors.unread_count(user_id=request.user.id)
        return response


class NotificationDetailView(PersonalView):
    @extend_schema(
        responses={200: s.NotificationDetailOutput, 404: NOT_YOURS}, summary="A notification with its deliveries"
    )
    def get(self, request, notification_id):
        notification = selectors.notification_detail(user_id=request.user.id, notification_id=notification_id)
        return Response(s.NotificationDetailOutput(notification).data)

    @extend_schema(request=None, responses={204: None, 404: NOT_YOURS}, summary="Delete a notification (hide it)")
    def delete(self, request, notification_id):
        services.notification_delete(user_id=request.user.id, notification_id=notification_id)
        return Response(status=204)


class NotificationReadView(PersonalView):
    @extend_schema(
        request=None, responses={200: s.NotificationOutput, 404: NOT_YOURS}, summary="Mark a notification read"
    )
    def put(self, request, notification_id):
        notification = services.notification_mark_read(user_id=request.user.id, notification_id=notification_id)
        return Response(s.NotificationOutput(notification).data)


class NotificationReadAllView(PersonalView):
    @extend_schema(request=None, responses=s.ReadAllOutput, summary="Mark every notification read")
    def put(self, request):
        marked = services.notifications_mark_all_read(user_id=request.user.id)
        return Response({"marked_read": marked, "unread_count": selectors.unread_count(user_id=request.user.id)})


class PreferencesView(PersonalView):
    @extend_schema(responses=s.PreferencesOutput, summary="Your channels and digest per type, and quiet hours")
    def get(self, request):
        return Response(s.PreferencesOutput(selectors.preferences_of(user_id=request.user.id)).data)

    @extend_schema(
        request=s.PreferencesInput,
        responses=s.PreferencesOutput,
        summary="Change some types' channels or digest, or quiet hours (all or nothing)",
    )
    def put(self, request):
        data = s.PreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {"types": data.validated_data.get("types", [])}
        if "quiet_hours" in data.validated_data:
            changes["quiet_hours"] = data.validated_data["quiet_hours"]
        services.preferences_update(user_id=request.user.id, **changes)
        return Response(s.PreferencesOutput(selectors.preferences_of(user_id=request.user.id)).data)


class SendView(StaffView):
    @extend_schema(
        request=s.SendInput,
        responses={202: s.SendOutput, 403: OpenApiResponse(description="RBAC_PERMISSION_DENIED: not platform staff")},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Staff: tell users and organizations' members something (the system.alert type)",
    )
    @idempotent
    def post(self, request):
        actor = self.staff()
        data = s.SendInput(data=request.data)
        data.is_valid(raise_exception=True)
        broadcast_id = services.notification_broadcast(actor=actor, **data.validated_data)
        return Response({"broadcast_id": broadcast_id, "status": "queued"}, status=202)


class TemplateListView(StaffView):
    @extend_schema(
        responses=s.TemplateOutput(many=True),
        parameters=[
            OpenApiParameter("type", str),
            OpenApiParameter("channel", str),
            OpenApiParameter("language", str),
        ],
        summary="Staff: notification templates",
    )
    def get(self, request):
        self.staff()
        params = request.query_params
        rows = selectors.template_list(
            type_key=params.get("type") or None,
            channel=params.get("channel") or None,
            language=params.get("language") or None,
        )
        return paginated_response(self, rows, s.TemplateOutput)

    @extend_schema(
        request=s.TemplateInput,
        responses={
            201: s.TemplateOutput,
            400: OpenApiResponse(description="The template does not render on the sample"),
        },
        summary="Staff: add the template of a type, channel and language (checked on the type's sample)",
    )
    def post(self, request):
        actor = self.staff()
        data = s.TemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        template = services.template_create(actor=actor, type_key=values.pop("type"), **values)
        return Response(s.TemplateOutput(template).data, status=201)


class TemplateDetailView(StaffView):
    @extend_schema(
        responses={200: s.TemplateOutput, 404: OpenApiResponse(description="No such template")},
        summary="Staff: a template",
    )
    def get(self, request, template_id):
        self.staff()
        return Response(s.TemplateOutput(selectors.template_get(template_id=template_id)).data)

    @extend_schema(
        request=s.TemplateUpdateInput, responses=s.TemplateOutput, summary="Staff: change a template (checked again)"
    )
    def put(self, request, template_id):
        actor = self.staff()
        data = s.TemplateUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_update(actor=actor, template_id=template_id, **data.validated_data)
        return Response(s.TemplateOutput(template).data)


class TemplatePreviewView(StaffView):
    @extend_schema(
        request=s.TemplatePreviewInput,
        responses=s.PreviewOutput,
        summary="Staff: render a template on the type's sample data",
    )
    def post(self, request):
        self.staff()
        data = s.TemplatePreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rendered = services.template_preview(type_key=values["type"], subject=values["subject"], body=values["body"])
        return Response({"subject": rendered.subject, "body": rendered.body, "sample": type_get(values["type"]).sample})


class PushSubscriptionListView(PersonalView):
    @extend_schema(responses=s.PushSubscriptionOutput(many=True), summary="Your browsers' push subscriptions")
    def get(self, request):
        return paginated_response(
            self, selectors.push_subscription_list(user_id=request.user.id), s.PushSubscriptionOutput
        )

    @extend_schema(
        request=s.PushSubscriptionInput,
        responses={201: s.PushSubscriptionOutput, 200: s.PushSubscriptionOutput},
        summary="Keep a browser's push subscription (PushSubscription.toJSON())",
    )
    def post(self, request):
        data = s.PushSubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        subscription, created = services.push_subscription_add(
            user_id=request.user.id,
            endpoint=values["endpoint"],
            p256dh=values["keys"]["p256dh"],
            auth=values["keys"]["auth"],
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(s.PushSubscriptionOutput(subscription).data, status=201 if created else 200)


class PushSubscriptionDetailView(PersonalView):
    @extend_schema(
        request=None,
        responses={204: None, 404: OpenApiResponse(description="Not yours")},
        summary="Forget a push subscription",
    )
    def delete(self, request, subscription_id):
        services.push_subscription_remove(user_id=request.user.id, subscription_id=subscription_id)
        return Response(status=204)


class PushKeyView(PersonalView):
    @extend_schema(
        responses={
            200: s.PushKeyOutput,
            503: OpenApiResponse(description="EXTERNAL_SERVICE_UNAVAILABLE: no web push here"),
        },
        summary="The VAPID public key browsers subscribe with",
    )
    def get(self, request):
        return Response({"vapid_public_key": services.push_public_key()})


class PhoneVerificationView(PersonalView):
    @extend_schema(
        request=s.PhoneStartInput,
        responses={201: s.PhoneStartOutput, 503: OpenApiResponse(description="EXTERNAL_SERVICE_UNAVAILABLE")},
        summary="Send a code by SMS to confirm your phone",
    )
    def post(self, request):
        data = s.PhoneStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        verification = services.phone_verification_start(user_id=request.user.id, phone=data.validated_data["phone"])
        return Response({"phone": verification.phone, "expires_at": verification.expires_at}, status=201)


class PhoneConfirmView(PersonalView):
    @extend_schema(
        request=s.PhoneConfirmInput, responses=s.PhoneConfirmOutput, summary="Confirm your phone with the code"
    )
    def post(self, request):
        data = s.PhoneConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = services.phone_verification_confirm(user_id=request.user.id, code=data.validated_data["code"])
        return Response({"phone": phone, "verified": True})


class SmsReportView(APIView):
    """An SMS gateway's delivery report, authenticated by the gateway's signature."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(exclude=True)
    def post(self, request, gateway):
        try:
            report = sms_provider.sms_gateway(gateway).parse_report(body=request.body, headers=request.headers)
        except (KeyError, ValueError) as error:
            raise ValidationFailed(
                "The report is not signed by the gateway.", details={"signature": [str(error)]}
            ) from error
        services.delivery_report_record(provider_id=report.provider_id, status=report.status, error=report.error)
        return Response(status=204)
