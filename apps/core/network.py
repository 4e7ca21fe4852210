"""Who is calling: the client's address, and whether an address is in a list of networks.

`client_ip(request)` is the one place that decides a request's client address; throttles,
sign-in lockout, the audit log and log lines all use it. The server never rewrites the peer
address from proxy headers (config/server.py turns uvicorn's off: by default it believed
X-Forwarded-For from 127.0.0.1, so on a machine where clients connect over loopback anyone
could claim any address and start a fresh throttle and lockout count with each request).
X-Forwarded-For is read only when the peer is one of TRUSTED_PROXIES (empty by default), and
then from the right: each trusted proxy appends the address it was called from, so the
first address from the right that is not a trusted proxy is the client; what lies to its
left was written by the client and proves nothing.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=32)
def parse_networks(entries: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    """Addresses and CIDR blocks ("10.0.0.0/8", "::1") as networks; a bad entry is a configuration error."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(f"{entry!r} is not an IP address or network: {error}") from error
    return tuple(networks)


def address_in(address: str | None, networks: Iterable[str]) -> bool:
    """Whether the address lies in one of the networks (False for no or a malformed address)."""
    parsed = _parse(address)
    if parsed is None:
        return False
    return any(parsed in network for network in parse_networks(tuple(networks)))


def client_ip(request) -> str | None:
    """The calling client's address: the peer, or behind TRUSTED_PROXIES the address they were called from."""
    meta = request.META
    peer = meta.get("REMOTE_ADDR") or None
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not address_in(peer, trusted):
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            # Only a trusted proxy writes here, and it writes the address it saw: garbage
            # means the chain is not what TRUSTED_PROXIES says; count the peer.
            return peer
        if not address_in(hop, trusted):
            return str(parsed)
    return str(_parse(hops[0])) if hops else peer  # every hop is a proxy of ours


def _parse(address: str | None):
    if not address:
        return None
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None
