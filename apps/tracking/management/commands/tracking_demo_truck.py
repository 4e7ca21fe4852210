"""The demo truck's device (make run starts it): every PING_EVERY it posts where the truck is
to POST /api/v1/tracking/events with the device key the demo seeder stored, over HTTP like a
real telematics unit, until the truck reaches Kazan (then it idles: make run stops every process
when one ends)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import urllib3
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.tracking.demo_journey import PING_EVERY, ping


class Command(BaseCommand):
    help = "Report the demo truck's position to the API as its device would (make run)."

    def add_arguments(self, parser):
        parser.add_argument("--api", required=True, help="The web server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--journey-file", required=True, help="What the demo seeder wrote: key and departure.")

    def handle(self, *args, api: str, journey_file: str, **options):
        path = Path(journey_file)
        while not path.exists():  # the seeder writes it before the web server starts; be patient anyway
            time.sleep(1)
        journey = json.loads(path.read_text())
        departed_at = parse_datetime(journey["departed_at"])
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=10), retries=False)
        headers = {"Authorization": f"Device {journey['device_key']}", "Content-Type": "application/json"}
        while True:
            row = ping(departed_at=departed_at, moment=timezone.now())
            try:
                response = http.request(
                    "POST", f"{api}/api/v1/tracking/events", body=json.dumps({"events": [row]}), headers=headers
                )
                if response.status >= 400:
                    self.stderr.write(f"tracking demo truck: {response.status} {response.data[:200]!r}")
            except urllib3.exceptions.HTTPError as error:  # the web server is starting or stopping
                self.stderr.write(f"tracking demo truck: {error}")
            if row["speed_kmh"] == "0.0":
                # Arrived: stay up quietly, as make run stops everything when one process ends.
                self.stdout.write("tracking demo truck: arrived in Kazan")
                while True:
                    time.sleep(3600)
            time.sleep(PING_EVERY.total_seconds())
