"""WebSocket authentication: the same access token as the API.

Where the token may come from, best first (none of them puts it in a URL):
- the first message, `{"type": "authenticate", "token": "<access token>"}`, within
  LIVE_FEED["AUTHENTICATE_TIMEOUT"] seconds (apps.tenancy.consumers);
- the `Sec-WebSocket-Protocol` header, offering the two subprotocols `bearer` and the token
  (`new WebSocket(url, ["bearer", token])` in a browser); the server accepts `bearer`;
- `Authorization: Bearer <token>`, for clients that can set headers.
The `token` query parameter still works for clients written before these (deprecated): a URL
ends up in access logs, so the server's logs redact it (apps.core.logs.redact_url_secrets).
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from apps.accounts.tokens import TokenRejected, user_from_access_token

BEARER_SUBPROTOCOL = "bearer"


@database_sync_to_async
def user_for_token(token: str):
    """The token's user, or AnonymousUser for a token that is forged, expired or revoked."""
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
    subprotocols = list(scope.get("subprotocols") or [])
    if BEARER_SUBPROTOCOL in subprotocols:
        position = subprotocols.index(BEARER_SUBPROTOCOL)
        if position + 1 < len(subprotocols):
            return subprotocols[position + 1]
    values = parse_qs(scope.get("query_string", b"").decode()).get("token")
    return values[0] if values else None


class TokenAuthMiddleware:
    """Puts the connection's user in scope["user"], and in scope["credentials_presented"]
    whether the handshake carried a token at all (if not, the consumer waits for one)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token = _token_from(scope)
        user = await user_for_token(token) if token else AnonymousUser()
        return await self.inner({**scope, "user": user, "credentials_presented": bool(token)}, receive, send)
