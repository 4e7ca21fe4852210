"""The public tracking page, /t/<tracking number>: no login, nothing beyond the public fields
(apps.tracking.selectors_public), HTML for people (mobile first, the route as inline SVG: no
map tiles, fonts or scripts from anywhere) and JSON for programs (`?format=json` or
`Accept: application/json`). Rate limited per client IP; never indexed."""

from __future__ import annotations

import math

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.errors import ErrorCode, NotFound, error_response
from apps.core.throttling import IpRateThrottle
from apps.tracking import selectors_public

SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN = 320, 200, 14


class PublicTrackingIpThrottle(IpRateThrottle):
    scope = "public_tracking_ip"


def _wants_json(request) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")


def route_drawing(route: dict) -> dict | None:
    """The route in SVG user units: the planned line through the waypoints, the travelled
    line, the waypoints and where the goods are (the track's last point). Equirectangular
    around the middle latitude: at a country's scale its distortion does not show, and it
    keeps north up and straight lines straight. None when there is nothing to draw."""
    planned = [(w["latitude"], w["longitude"]) for w in route["waypoints"] if w["latitude"] is not None]
    planned = [(float(latitude), float(longitude)) for latitude, longitude in planned if longitude is not None]
    travelled = [(latitude, longitude) for latitude, longitude in route["track"]]
    points = planned + travelled
    if not points:
        return None
    shrink = math.cos(math.radians(sum(latitude for latitude, _ in points) / len(points)))
    xs = [longitude * shrink for _, longitude in points]
    ys = [-latitude for latitude, _ in points]
    # As large as the frame allows either way (a single point: any scale will do).
    scale = min(
        (SVG_WIDTH - 2 * SVG_MARGIN) / max(max(xs) - min(xs), 1e-6),
        (SVG_HEIGHT - 2 * SVG_MARGIN) / max(max(ys) - min(ys), 1e-6),
    )
    # Centered in the frame whichever way the route runs.
    offset_x = (SVG_WIDTH - (max(xs) - min(xs)) * scale) / 2 - min(xs) * scale
    offset_y = (SVG_HEIGHT - (max(ys) - min(ys)) * scale) / 2 - min(ys) * scale

    def project(latitude: float, longitude: float) -> tuple[float, float]:
        return round(longitude * shrink * scale + offset_x, 1), round(-latitude * scale + offset_y, 1)

    def line(coordinates) -> str:
        return " ".join(f"{x},{y}" for x, y in (project(*point) for point in coordinates))

    waypoints = [
        {"x": x, "y": y, "kind": waypoint["kind"], "city": waypoint["city"]}
        for waypoint in route["waypoints"]
        if waypoint["latitude"] is not None and waypoint["longitude"] is not None
        for x, y in [project(float(waypoint["latitude"]), float(waypoint["longitude"]))]
    ]
    here = project(*travelled[-1]) if travelled else None
    return {
        "width": SVG_WIDTH,
        "height": SVG_HEIGHT,
        "planned": line(planned) if len(planned) > 1 else "",
        "travelled": line(travelled) if len(travelled) > 1 else "",
        "waypoints": waypoints,
        "here": {"x": here[0], "y": here[1]} if here else None,
    }


def _json_body(tracking: dict) -> dict:
    def moment(value):
        return value.isoformat() if value is not None else None

    return {
        **tracking,
        "last_seen_at": moment(tracking["last_seen_at"]),
        "eta_at": moment(tracking["eta_at"]),
        "promised_at": moment(tracking["promised_at"]),
        "delivered_at": moment(tracking["delivered_at"]),
        "milestones": [{"at": moment(m["at"]), "label": m["label"]} for m in tracking["milestones"]],
    }


def _finish(response):
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"  # a position goes stale; a shared cache must not keep it
    response["Vary"] = "Accept"
    return response


@require_GET
def tracking_page(request, tracking_number: str):
    wants_json = _wants_json(request)
    throttle = PublicTrackingIpThrottle()
    if not throttle.allow_request(request, None):
        retry_after = str(max(1, math.ceil(throttle.wait() or 1)))
        message = "Too many requests from your address: try again shortly."
        if wants_json:
            return _finish(
                error_response(429, ErrorCode.RATE_LIMIT_EXCEEDED, message, headers={"Retry-After": retry_after})
            )
        response = render(request, "tracking/public.html", {"found": False, "message": message}, status=429)
        response["Retry-After"] = retry_after
        return _finish(response)
    try:
        tracking = selectors_public.public_tracking(tracking_number=tracking_number)
    except NotFound as error:
        if wants_json:
            return _finish(error_response(404, ErrorCode.NOT_FOUND, error.message))
        return _finish(render(request, "tracking/public.html", {"found": False, "message": error.message}, status=404))
    if wants_json:
        return _finish(JsonResponse(_json_body(tracking)))
    context = {"found": True, **tracking, "drawing": route_drawing(tracking["route"])}
    return _finish(render(request, "tracking/public.html", context))
