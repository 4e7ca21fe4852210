"""Tenancy API: the current user, their organizations, members and feature flags."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.guards import require_verified_email
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import PagePagination, paginated_response
from apps.tenancy import selectors, services
from apps.tenancy.api import serializers as s
from apps.tenancy.api.base import OrganizationEndpoint

ORGANIZATION_HEADER = OpenApiParameter(
    "X-Organization-ID",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The organization to act for, when the user belongs to several.",
)


class MeView(APIView):
    @extend_schema(responses=s.MeSerializer, summary="The current user with their memberships")
    def get(self, request):
        memberships = list(request._request.memberships.values())
        return Response(s.MeSerializer(request.user, context={"memberships": memberships}).data)


class MyInvitationListView(APIView):
    @extend_schema(
        responses=s.MyInvitationSerializer(many=True),
        summary="Invitations waiting for my answer (needs a verified e-mail address)",
    )
    def get(self, request):
        # Anyone may sign up with any address: until it is proved theirs, the invitations
        # sent to it (which organization wants whom, as what) are not shown to them.
        require_verified_email(user_id=request.user.id, action="invitation.list")
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.invitations_of_user(user_id=request.user.id), request, view=self)
        # The invitee is not a member yet: the inviting organizations' names come through
        # the one narrow path that gives counterparties a name.
        names = selectors.organization_names(organization_ids={invitation.organization_id for invitation in page})
        data = s.MyInvitationSerializer(page, many=True, context={"organization_names": names}).data
        return paginator.get_paginated_response(data)


class MyInvitationAcceptView(APIView):
    @extend_schema(
        request=None,
        responses=s.MyMembershipSerializer,
        summary="Accept an invitation (needs a verified e-mail address)",
    )
    def post(self, request, invitation_id):
        membership = services.invitation_accept(invitation_id=invitation_id, user=request.user)
        return Response(s.MyMembershipSerializer(membership).data)


class MyInvitationDeclineView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Decline an invitation")
    def post(self, request, invitation_id):
        services.invitation_decline(invitation_id=invitation_id, user=request.user)
        return Response(status=204)


class InvitationAcceptByTokenView(APIView):
    @extend_schema(
        request=s.InvitationTokenSerializer,
        responses=s.MyMembershipSerializer,
        summary="Accept an invitation through its e-mailed link",
        description="Signed in with the invited address (an account made after the invitation "
        "works too). The token works once.",
    )
    def post(self, request):
        data = s.InvitationTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept_by_token(token=data.validated_data["token"], user=request.user)
        return Response(s.MyMembershipSerializer(membership).data)


class OrganizationListView(APIView):
    @extend_schema(responses=s.OrganizationSerializer(many=True), summary="Organizations the user belongs to")
    def get(self, request):
        return paginated_response(self, selectors.organization_list(user_id=request.user.id), s.OrganizationSerializer)


class OrganizationDetailView(OrganizationEndpoint):
    required_permissions = {"GET": "organization:read", "PATCH": "organization:update"}

    @extend_schema(responses=s.OrganizationSerializer, summary="One organization")
    def get(self, request, organization_id):
        organization = selectors.organization_get(organization_id=organization_id)
        return Response(s.OrganizationSerializer(organization).data)

    @extend_schema(
        request=s.OrganizationUpdateSerializer,
        responses=s.OrganizationSerializer,
        summary="Update the organization (org admin)",
    )
    def patch(self, request, organization_id):
        data = s.OrganizationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_update(
            organization=selectors.organization_get(organization_id=organization_id),
            actor=self.actor(),
            data=data.validated_data,
        )
        return Response(s.OrganizationSerializer(organization).data)


class MemberListView(OrganizationEndpoint):
    required_permissions = {"GET": "member:read", "POST": "member:invite"}

    @extend_schema(responses=s.MembershipSerializer(many=True), summary="Members of the organization")
    def get(self, request, organization_id):
        return paginated_response(self, selectors.member_list(organization_id=organization_id), s.MembershipSerializer)

    @extend_schema(
        request=s.MemberInviteSerializer,
        responses={201: s.InvitationSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Invite an e-mail address with a role",
        description="Creates an invitation, never a membership: the person who owns the address "
        "becomes a member only by accepting it (the e-mailed link, or /me/invitations). The answer "
        "is the same whether or not the address has an account.",
    )
    @idempotent
    def post(self, request, organization_id):
        data = s.MemberInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            organization=selectors.organization_get(organization_id=organization_id),
            actor=self.actor(),
            **data.validated_data,
        )
        return Response(s.InvitationSerializer(invitation).data, status=201)


class InvitationListView(OrganizationEndpoint):
    required_permissions = {"GET": "member:invite"}

    @extend_schema(responses=s.InvitationSerializer(many=True), summary="Invitations of the organization")
    def get(self, request, organization_id):
        return paginated_response(
            self, selectors.invitation_list(organization_id=organization_id), s.InvitationSerializer
        )


class InvitationDetailView(OrganizationEndpoint):
    required_permissions = {"DELETE": "member:invite"}

    @extend_schema(responses={204: None}, summary="Revoke a pending invitation")
    def delete(self, request, organization_id, invitation_id):
        services.invitation_revoke(
            invitation=selectors.invitation_get(organization_id=organization_id, invitation_id=invitation_id),
            actor=self.actor(),
        )
        return Response(status=204)


class MemberDetailView(OrganizationEndpoint):
    required_permissions = {"PATCH": "member:update", "DELETE": "member:deactivate"}

    @extend_schema(
        request=s.MemberUpdateSerializer,
        responses=s.MembershipSerializer,
        summary="Change a member's role or extra permissions",
    )
    def patch(self, request, organization_id, member_id):
        data = s.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_update(
            membership=selectors.member_get(organization_id=organization_id, member_id=member_id),
            actor=self.actor(),
            **data.validated_data,
        )
        membership = selectors.member_get(organization_id=organization_id, member_id=membership.id)
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(responses={204: None}, summary="Deactivate a member")
    def delete(self, request, organization_id, member_id):
        services.member_deactivate(
            membership=selectors.member_get(organization_id=organization_id, member_id=member_id),
            actor=self.actor(),
        )
        return Response(status=204)


class FeatureListView(OrganizationEndpoint):
    required_permissions = {"GET": "feature:read"}

    @extend_schema(responses=s.FeatureStateSerializer(many=True), summary="Feature flags of the organization")
    def get(self, request, organization_id):
        states = selectors.feature_states(organization_id=organization_id)
        return paginated_response(self, list(states.values()), s.FeatureStateSerializer)


class FeatureDetailView(OrganizationEndpoint):
    required_permissions = {"PATCH": "feature:update"}

    @extend_schema(
        request=s.FeatureUpdateSerializer,
        responses=s.FeatureStateSerializer,
        summary="Switch an entitled feature on or off (org admin)",
    )
    def patch(self, request, organization_id, name):
        data = s.FeatureUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.feature_set_enabled(
            organization_id=organization_id,
            actor=self.actor(),
            name=name,
            enabled=data.validated_data.get("enabled"),
            config=data.validated_data.get("config"),
        )
        state = selectors.feature_states(organization_id=organization_id)[name]
        return Response(s.FeatureStateSerializer(state).data)
