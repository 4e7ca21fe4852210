"""The web server: uvicorn with this project's options, taken from Django settings.

`python -m config.server --host 0.0.0.0 --port 8000 [--workers 4]` serves
config.asgi:application (used by `make run`, the Docker image and the tests' live servers).
What it sets, and why:
- WebSocket pings every LIVE_FEED["PING_INTERVAL"] seconds, a socket that does not answer
  within LIVE_FEED["PING_TIMEOUT"] is closed (docs/architecture.md "Live feed: every timeout");
- no proxy headers: uvicorn's default trusts X-Forwarded-For from 127.0.0.1, so on a machine
  where clients connect over loopback anyone could claim any address. The client's address
  is derived in Django from TRUSTED_PROXIES (apps.core.clients.client_ip);
- logging from settings.LOGGING (JSON lines, secrets in URLs redacted), not uvicorn's own.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

APPLICATION = "config.asgi:application"


def uvicorn_options() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.conf import settings

    return {
        "lifespan": "off",
        "proxy_headers": False,
        "server_header": False,
        "ws_ping_interval": settings.LIVE_FEED["PING_INTERVAL"],
        "ws_ping_timeout": settings.LIVE_FEED["PING_TIMEOUT"],
        "log_config": settings.LOGGING,
    }


def uvicorn_config(*, host: str, port: int, **overrides) -> uvicorn.Config:
    return uvicorn.Config(APPLICATION, host=host, port=port, **{**uvicorn_options(), **overrides})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=None)
    arguments = parser.parse_args(argv)
    uvicorn.run(APPLICATION, host=arguments.host, port=arguments.port, workers=arguments.workers, **uvicorn_options())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
