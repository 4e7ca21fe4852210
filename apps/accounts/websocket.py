"""WebSocket authentication: the same access token as the API, checked at connect.

Browsers cannot set headers on a WebSocket, so the token may come as the `token`
query parameter; other clients may send `Authorization: Bearer <token>`.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from apps.accounts.tokens import TokenRejected, user_from_access_token


@database_sync_to_async
def _user_for(token: str):
    try:
        return user_from_access_token(token)
    except TokenRejected:
        return AnonymousUser()


def _token_from(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    values = parse_qs(scope.get("query_string", b"").decode()).get("token")
    return values[0] if values else None


class TokenAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token = _token_from(scope)
        user = await _user_for(token) if token else AnonymousUser()
        return await self.inner({**scope, "user": user}, receive, send)
