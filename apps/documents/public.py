"""The public page a document's QR code leads to: no login, no tenant data beyond the paper's own."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.errors import NotFound
from apps.documents import services


def _wants_json(request) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")


@require_GET
def verify_page(request, token: str):
    try:
        verification = services.public_verification(token=token)
    except NotFound as error:
        if _wants_json(request):
            return JsonResponse({"found": False, "message": error.message}, status=404)
        return render(request, "documents/verify.html", {"found": False, "message": error.message}, status=404)
    if _wants_json(request):
        body = {
            **verification,
            "found": True,
            "issued_on": verification["issued_on"].isoformat(),
            "signed_at": verification["signed_at"].isoformat() if verification["signed_at"] else None,
        }
        return JsonResponse(body)
    response = render(request, "documents/verify.html", {"found": True, **verification})
    response["X-Robots-Tag"] = "noindex"
    return response
