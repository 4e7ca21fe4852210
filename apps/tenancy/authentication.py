"""DRF authentication that trusts what TenantMiddleware established.

Bearer tokens are checked once, in the middleware (the tenant scope needs the user
before the view runs). Session users reach the API only through DRF's
SessionAuthentication, which enforces CSRF.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication


class RequestUserAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if getattr(django_request, "auth_method", None) == "jwt":
            return django_request.user, None
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes RequestUserAuthentication: a bearer JWT."""

    target_class = RequestUserAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
