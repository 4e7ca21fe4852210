"""The kernel's outbound client (apps/core/outbound.py): SSRF refusals with private networks
not allowed, the single pinned lookup, no redirects, the response cap."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

import pytest

from apps.core import outbound
from apps.core.outbound import OutboundFailed, OutboundRefused
from tests.webhooks.receiver import Receiver

PUBLIC = "93.184.215.14"  # a globally routable address (example.com's range)


@pytest.fixture
def public_only(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


REFUSED_URLS = sorted(
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.10/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[2002:7f00:1::]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ]
)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_non_public_address_is_refused_before_any_request(public_only, receiver, url):
    with pytest.raises(OutboundRefused, match="may not be called"):
        outbound.request("POST", url, body=b"{}")
    with pytest.raises(OutboundRefused):
        outbound.check_url(url)
    assert receiver.received == []


def test_a_loopback_url_of_the_running_receiver_is_refused_and_it_gets_nothing(public_only, receiver):
    with pytest.raises(OutboundRefused, match="loopback"):
        outbound.request("POST", receiver.url(), body=b"{}")
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    sorted(
        [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "gopher://example.com/",
            "http://user:pw@example.com/",
            "http:///x",
        ]
    ),
)
def test_only_plain_http_and_https_urls_without_credentials_are_called(url):
    with pytest.raises(OutboundRefused):
        outbound.request("GET", url)


def test_a_host_with_one_private_address_among_public_ones_is_refused(public_only):
    with pytest.raises(OutboundRefused, match=r"10\.1\.2\.3"):
        outbound.request("POST", "http://hooks.example.test/", resolver=lambda host, port: [PUBLIC, "10.1.2.3"])


def test_dns_rebinding_cannot_swap_the_checked_address(public_only, receiver):
    # Given a resolver that answers a public address first, then loopback (a rebinding DNS)
    answers = [[PUBLIC], ["127.0.0.1"]]
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return answers[min(len(asked) - 1, 1)]

    # When a request goes to that host on the receiver's port
    try:
        response = outbound.request(
            "POST",
            f"http://rebind.example.test:{receiver.port}/hooks",
            body=b"{}",
            resolver=rebinding,
            connect_timeout=0.5,
            read_timeout=0.5,
        )
    except OutboundFailed as failure:
        # Then the connection went to the checked public address (unreachable here) ...
        assert PUBLIC in str(failure)
    else:
        assert response.address == PUBLIC
    # ... after exactly one lookup, and the loopback receiver never heard of it.
    assert asked == ["rebind.example.test"]
    assert receiver.received == []


def test_the_connection_goes_to_the_resolved_address_with_the_urls_host_header(receiver):
    # With private networks allowed (tests' settings): the address is still looked up once and pinned.
    asked = []

    def resolver(host, port):
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.255.255.1"]

    response = outbound.request(
        "POST", f"http://hooks.example.test:{receiver.port}/in?x=1", body=b"hello", resolver=resolver
    )

    assert response.status == 200 and response.address == "127.0.0.1"
    assert asked == ["hooks.example.test"]
    assert receiver.received[0].headers["host"] == f"hooks.example.test:{receiver.port}"
    assert receiver.received[0].path == "/in?x=1"
    assert receiver.received[0].body == b"hello"


def test_a_redirect_is_returned_not_followed(receiver):
    receiver.status, receiver.headers = 302, {"Location": receiver.url("/elsewhere")}

    response = outbound.request("POST", receiver.url("/first"), body=b"{}")

    assert response.status == 302
    assert [request.path for request in receiver.received] == ["/first"]


def test_at_most_the_cap_of_the_response_is_read(receiver):
    receiver.body = b"x" * 50_000

    response = outbound.request("POST", receiver.url(), body=b"{}", max_response_bytes=1024)

    assert len(response.body) == 1024 and response.truncated


def test_a_receiver_that_does_not_answer_in_time_is_a_failure():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(OutboundFailed, match=r"ReadTimeout|timed out"):
            outbound.request("POST", f"http://127.0.0.1:{port}/", body=b"{}", read_timeout=0.3)


@pytest.mark.parametrize("allowed", ["false", "true"])
def test_production_refuses_to_start_with_private_networks_allowed(allowed):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false"}
    environment.update(SECRET_KEY="x" * 60, OUTBOUND_ALLOW_PRIVATE_NETWORKS=allowed)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=environment, capture_output=True, text=True
    )
    if allowed == "true":
        assert result.returncode != 0
        assert "OUTBOUND_ALLOW_PRIVATE_NETWORKS must be off in production" in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def _self_signed(directory) -> tuple[str, str]:
    """A throwaway certificate and key for hooks.example.test (PEM files)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_https_goes_to_the_pinned_address_with_the_host_in_sni_and_verifies_the_certificate(tmp_path):
    import ssl
    import threading

    # Given a TLS server on loopback that notes the name each client asks for (SNI)
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    asked_for = []
    context.sni_callback = lambda connection, server_name, _: asked_for.append(server_name)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve_one():
        connection, _ = listener.accept()
        # The client refuses our self-signed certificate: the handshake fails, as expected.
        with contextlib.suppress(ssl.SSLError, OSError):
            context.wrap_socket(connection, server_side=True).close()

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()

    # When a request to https://hooks.example.test goes out, the name resolved to loopback
    with pytest.raises(OutboundFailed, match=r"SSL|certificate"):
        outbound.request(
            "POST",
            f"https://hooks.example.test:{port}/in",
            body=b"{}",
            resolver=lambda host, port: ["127.0.0.1"],
            connect_timeout=2,
            read_timeout=2,
        )
    server.join(timeout=5)
    listener.close()

    # Then it connected to the pinned address, named the host in SNI, and refused a certificate
    # no trusted authority signed
    assert asked_for == ["hooks.example.test"]
