"""ASGI entry point: HTTP through Django's WSGI handler on a thread pool, WebSockets through
Channels (JWT at connect), on one server and one port.

HTTP goes through a2wsgi's bridge rather than Django's ASGI handler: the views, middleware
and ORM are synchronous, and the ASGI handler hands every request to a thread through
asgiref's sync_to_async and back, which served the member list at ~150 requests/s where the
bridge serves ~210 on the same uvicorn (docs/decisions/0007-http-server.md). The bridge runs
the request on one of HTTP_THREADS threads, as a WSGI server would.
"""

import os

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
get_asgi_application()  # sets Django up, as Channels' routing below needs
from django.conf import settings  # noqa: E402

django_application = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_THREADS)

# Imported after Django is set up: routing pulls in models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.accounts.websocket import TokenAuthMiddleware  # noqa: E402
from apps.core.body_limit import ChunkedBodyLength, RequestBodyLimit  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies over the limit are refused before Django reads them (docs/architecture.md).
        "http": RequestBodyLimit(ChunkedBodyLength(django_application)),
        "websocket": AllowedHostsOriginValidator(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
