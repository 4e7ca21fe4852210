"""ASGI entry point: HTTP through Django, WebSockets through Channels (JWT at connect)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_application = get_asgi_application()

# Imported after Django is set up: routing pulls in models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.accounts.websocket import TokenAuthMiddleware  # noqa: E402
from apps.core.body_limit import RequestBodyLimit  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies over the limit are refused before Django reads them (docs/architecture.md).
        "http": RequestBodyLimit(django_application),
        "websocket": AllowedHostsOriginValidator(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
