"""Fixtures of the tracking tests, each area's from its support module."""

# === Carrier sandbox and the ingest service the poller stores through (carrier_support.py) ===
from tests.tracking.carrier_support import carrier_sandbox, ingest_service, sandbox_carrier  # noqa: F401

# === Tracking start, the read API and geofences: the parties and a confirmed order (read_support.py) ===
from tests.tracking.read_support import carrier, confirmed, outsider, shipper  # noqa: F401
