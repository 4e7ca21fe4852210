"""Outbound HTTP to addresses that users give us (webhook endpoints; later integrations), safe
from server-side request forgery (SSRF).

One request, in this order:
1. the URL: `http` or `https` only, a host, no user name or password in it;
2. the host is resolved once; when any of its addresses is private, loopback, link-local,
   multicast, reserved, unspecified or otherwise not globally routable (IPv4-mapped, 6to4 and
   Teredo IPv6 addresses are judged by the IPv4 address they carry), the request is refused
   before a connection is opened (`OutboundRefused`);
3. the connection goes to *that* checked address: no second lookup, which would let a DNS
   server answer a public address to the check and a private one to the connection (DNS
   rebinding). The `Host` header and TLS's SNI and certificate check still name the host;
4. no redirect is followed (a 3xx is returned as it is: the caller treats it as a failure),
   connect and read time out, and at most `max_response_bytes` of the body are read.

`settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS` (off by default; on in development and tests, so
that local sandboxes and receivers work; production refuses to start with it) skips step 2's
address check only: the URL rules, the single lookup and the pinning stay.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from apps.core.task_bases import TransientError

logger = logging.getLogger(__name__)

# host, port -> the addresses it resolves to, in the resolver's order.
Resolver = Callable[[str, int], list[str]]

SCHEMES = {"http": 80, "https": 443}
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
_CHUNK = 8192


class OutboundRefused(Exception):
    """The URL may not be called: a scheme, credentials, or an address the policy forbids.
    Nothing was sent; sending again would be refused the same way."""


class OutboundFailed(TransientError):
    """The request did not get an answer: the host did not resolve, the connection failed or
    timed out, TLS failed, the connection broke. It may work later."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]
    body: bytes  # at most the cap
    truncated: bool  # the response had more than the cap
    address: str  # the address connected to
    elapsed_ms: int


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL, lower case, without brackets
    port: int
    path: str  # path and query, never empty

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives, without duplicates, in its order."""
    addresses: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone index is not part of the address
        if address not in addresses:
            addresses.append(address)
    return addresses


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", False))


def parse_url(url: str) -> Target:
    """The URL's parts, or OutboundRefused for a scheme other than http(s), credentials in it,
    no host or a port out of range."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise OutboundRefused(f"The URL is not valid: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused("Only http and https URLs can be called.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("The URL must not carry a user name or password.")
    if not parts.hostname:
        raise OutboundRefused("The URL has no host.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=parts.hostname.lower(), port=port or SCHEMES[scheme], path=path)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, 6to4, Teredo server and client)."""
    carried = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    return [ipv4 for ipv4 in carried if ipv4 is not None]


def refusal_reason(address: str) -> str | None:
    """Why the address may not be called (None when it is a public one)."""
    ip = ipaddress.ip_address(address)
    candidates = [ip, *(_embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else ())]
    for candidate in candidates:
        for flag in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
            if getattr(candidate, f"is_{flag}"):
                return f"{address} is a {flag.replace('_', '-')} address"
        if not candidate.is_global:
            return f"{address} is not a globally routable address"
    return None


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def resolve_checked(target: Target, *, resolver: Resolver | None = None) -> str:
    """The one address to connect to: resolved once, every address checked (unless private
    networks are allowed); OutboundRefused or OutboundFailed otherwise."""
    literal = _literal_address(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = (resolver or system_resolver)(target.host, target.port)
        except (OSError, UnicodeError) as error:
            raise OutboundFailed(f"{target.host} could not be resolved: {error}") from None
    if not addresses:
        raise OutboundFailed(f"{target.host} resolved to no address")
    if not private_networks_allowed():
        # Every address, not only the first: a host answering one public and one private
        # address is refused whichever the connection would have used.
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                raise OutboundRefused(f"{target.host} may not be called: {reason}.")
    return addresses[0]


def check_url(url: str, *, resolver: Resolver | None = None) -> None:
    """Raise OutboundRefused when a request to `url` would be refused by the rules above (for a
    form or an API that registers a URL: refuse it at once rather than at the first call).
    With private networks allowed only the URL's own rules are checked (no lookup)."""
    target = parse_url(url)
    if private_networks_allowed():
        return
    try:
        resolve_checked(target, resolver=resolver)
    except OutboundFailed as error:
        raise OutboundRefused(str(error)) from None


def _pool(target: Target, address: str, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    common = {"timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if target.scheme == "https":
        # Connected to the pinned address; SNI and the certificate check name the URL's host.
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **common,
        )
    return urllib3.HTTPConnectionPool(address, target.port, **common)


def _read_capped(response, cap: int) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in response.stream(_CHUNK, decode_content=False):
        body.extend(chunk)
        if len(body) > cap:
            return bytes(body[:cap]), True
    return bytes(body), False


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_response_bytes: int | None = None,
    resolver: Resolver | None = None,
) -> OutboundResponse:
    """Send one request by the rules of this module; the response whatever its status (a 3xx
    is not followed). OutboundRefused before anything is sent, OutboundFailed when no answer came.

    `resolver` replaces the system's DNS lookup (tests; a deployment's own resolver)."""
    target = parse_url(url)
    address = resolve_checked(target, resolver=resolver)
    outbound = getattr(settings, "OUTBOUND", {})
    timeout = urllib3.Timeout(
        connect=connect_timeout or outbound.get("CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
        read=read_timeout or outbound.get("READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
    )
    cap = (
        max_response_bytes
        if max_response_bytes is not None
        else outbound.get("MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES)
    )
    request_headers = {**(headers or {}), "Host": target.host_header}
    pool = _pool(target, address, timeout)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            method,
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            content, truncated = _read_capped(response, cap)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:
        logger.info("outbound.failed", extra={"host": target.host, "address": address, "error": type(error).__name__})
        raise OutboundFailed(f"{method} to {target.host} ({address}) failed: {_described(error)}") from None
    finally:
        pool.close()
    return OutboundResponse(
        status=response.status,
        headers={name.lower(): value for name, value in response.headers.items()},
        body=content,
        truncated=truncated,
        address=address,
        elapsed_ms=round((time.monotonic() - started) * 1000),
    )


def _described(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    return f"{type(error).__name__}: {reason or error}"[:300]
