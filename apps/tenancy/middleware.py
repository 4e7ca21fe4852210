"""TenantMiddleware: who is asking, for which organization, inside one transaction.

Every request runs in one transaction whose first statement sets the row-level
security scope; the view's queries follow in the same transaction, so PostgreSQL
itself limits them to the tenant. Outline:

1. a bearer token, when present, is checked here (401 in the envelope if bad: signature,
   expiry and the session's revocation mark on every request); outside the admin its user
   is read together with the memberships of step 2, in one query; otherwise the session
   user of Django's AuthenticationMiddleware stands;
2. `X-Organization-ID` (optional) must be a UUID (400); the user's active memberships
   are loaded in the user's scope;
3. once the URL is resolved (`process_view`, where Django hands over the path's
   arguments), the organization is picked ONCE from the header and the path together
   (apps.tenancy.resolver, the rule every entry point shares) and the scope entered once:
   the path's `organization_id` on an OrganizationEndpoint wins (not a member: the
   endpoint answers 404, in DRF's order, after authentication), else the header's (not a
   member: 403 TENANT_ACCESS_DENIED, on any URL), else the only membership, else none;
4. platform staff in the admin act in the audited all-tenants scope; an organization
   admin in the admin acts for the organization chosen for the session.
"""

from __future__ import annotations

from django.db import connections

from apps.accounts.tokens import SESSION_SIGNED_OUT, TokenRejected, signed_access_claims, user_from_access_token
from apps.core.context import Client, Scope, activate, client_var, system_scope
from apps.core.errors import BACKING_SERVICE_ERRORS, ErrorCode, error_response, unavailable_response
from apps.core.network import client_ip
from apps.tenancy.resolver import (
    PATH_ORGANIZATION_REFUSED,
    NotAMember,
    enter_organization,
    memberships_by_organization,
    parse_organization_id,
    resolve_membership,
)
from apps.tenancy.roles import Role
from apps.tenancy.selectors import SessionSignedOut, caller_with_memberships

ADMIN_ORGANIZATION_SESSION_KEY = "admin_organization_id"

# Set on the request while its organization waits for process_view (the header's id or None).
_REQUESTED = "_tenant_requested_organization_id"

ADMIN_PREFIX = "/admin/"
UNSCOPED_PREFIXES = ("/health", "/ready", "/metrics", "/static/")


def _bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _token_rejected(error: TokenRejected):
    return error_response(401, error.code, error.message, headers={"WWW-Authenticate": "Bearer"})


def _path_organization_kwarg(view_func) -> str | None:
    """The URL argument that names the organization, for views that act for the path's
    (OrganizationEndpoint.path_organization_kwarg); None for every other view."""
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    return getattr(view_class, "path_organization_kwarg", None)


def _admin_membership(request):
    """An organization admin's organization in the back-office: the one chosen for the
    session (see ManifestAdminSite.switch_organization), else the first they administer."""
    administered = [m for m in request.memberships.values() if m.role == Role.ORG_ADMIN]
    request.admin_memberships = administered
    chosen = request.session.get(ADMIN_ORGANIZATION_SESSION_KEY)
    request.admin_membership = next(
        (m for m in administered if str(m.organization_id) == chosen), administered[0] if administered else None
    )
    return request.admin_membership


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(UNSCOPED_PREFIXES):
            return self.get_response(request)

        token = _bearer_token(request)
        claims = None
        if token is not None:
            try:
                # Signature and expiry; the session's revocation is checked with the user below.
                claims = signed_access_claims(token)
                if request.path.startswith(ADMIN_PREFIX):
                    request.user = user_from_access_token(token)  # staff take the system scope below
                    claims = None
            except TokenRejected as error:
                return _token_rejected(error)
            except BACKING_SERVICE_ERRORS as error:  # the revocation list or the user is out of reach
                return unavailable_response(error)
            request.auth_method = "jwt"
        else:
            request.auth_method = "session" if request.user.is_authenticated else None

        requested = request.headers.get("X-Organization-ID", "").strip()
        requested_id = None
        bad_header = None
        if requested:
            requested_id = parse_organization_id(requested)
            if requested_id is None:
                bad_header = error_response(
                    400,
                    ErrorCode.VALIDATION_FIELD_INVALID,
                    "X-Organization-ID must be an organization id (UUID).",
                    {"X-Organization-ID": ["Not a valid UUID."]},
                )
                if claims is None:
                    return bad_header

        client_token = client_var.set(
            Client(ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        )
        try:
            if claims is not None:
                return self._respond_to_token(request, claims, requested_id, bad_header)
            return self._respond(request, requested_id)
        finally:
            client_var.reset(client_token)

    def _respond_to_token(self, request, claims, requested_id, bad_header):
        """A bearer token's request outside the admin: its user, memberships and session in one query.

        Same outcome as `_respond` with the token's user (401 for a missing or deactivated
        user or a signed-out session, before the header's 400), one query fewer: the user is
        read with the memberships and the session's liveness, in the user's scope, on every
        request.
        """
        request.membership = None
        request.admin_membership = None
        request.admin_memberships = []
        with activate(Scope(user_id=claims.user_id)):
            try:
                user, memberships = caller_with_memberships(user_id=claims.user_id, session_id=claims.session_id)
            except SessionSignedOut:
                return _token_rejected(TokenRejected(SESSION_SIGNED_OUT))
            if user is None:
                return _token_rejected(TokenRejected("The access token is invalid."))
            if bad_header is not None:
                return bad_header
            user.auth_session_id = claims.session_id
            request.user = user
            request.memberships = {m.organization_id: m for m in memberships}
            setattr(request, _REQUESTED, requested_id)  # picked in process_view
            return self._finish(self.get_response(request))

    def _respond(self, request, requested_id):
        user = request.user
        request.membership = None
        request.memberships = {}
        request.admin_membership = None
        request.admin_memberships = []
        if not user.is_authenticated:
            with activate(Scope()):  # no user, no tenant: every tenant table reads empty
                return self._finish(self.get_response(request))

        if user.is_staff and request.path.startswith(ADMIN_PREFIX):
            with system_scope(reason=f"admin {request.method} {request.path}"[:200], actor_id=user.id):
                return self._finish(self.get_response(request))

        with activate(Scope(user_id=user.id)):
            request.memberships = memberships_by_organization(user_id=user.id)
            if request.path.startswith(ADMIN_PREFIX):
                enter_organization(request, _admin_membership(request))
            else:
                setattr(request, _REQUESTED, requested_id)  # picked in process_view
            return self._finish(self.get_response(request))

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Pick the organization once, from the header and the path together, and enter it.

        Every URL outside the admin resolves to a view (config/urls.py ends with a catch-all),
        so every signed-in API request passes here (unless a middleware before this one
        answered in its own process_view).
        """
        if not hasattr(request, _REQUESTED):
            return None  # anonymous, staff in the admin, or the admin's organization: done
        requested_id = request.__dict__.pop(_REQUESTED)
        kwarg = _path_organization_kwarg(view_func)
        path_id = view_kwargs.get(kwarg) if kwarg else None
        try:
            membership = resolve_membership(request.memberships, requested_id, path_id=path_id)
        except NotAMember as refused:
            if not refused.in_path:
                return error_response(403, ErrorCode.TENANT_ACCESS_DENIED, "You are not a member of that organization.")
            # 404 from the endpoint, after DRF authenticated the caller (401 comes first).
            setattr(request, PATH_ORGANIZATION_REFUSED, True)
            membership = None
        enter_organization(request, membership)
        return None

    @staticmethod
    def _finish(response):
        # Errors below were already turned into responses, so the transaction would
        # commit: a server error must change nothing.
        if response.status_code >= 500:
            for connection in connections.all(initialized_only=True):
                if connection.in_atomic_block:
                    connection.set_rollback(True)
        return response
