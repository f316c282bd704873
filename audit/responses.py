"""The one answer a page gives when its audit event cannot be written: 503, showing nothing personal."""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def audit_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The fail-closed 503 that replaces a page whose audit event could not be written."""
    # Rendered without the request: no user, no session data, nothing from the view reaches the page.
    body = render_to_string("audit/unavailable.html", {"request_id": getattr(request, "request_id", "")})
    response = HttpResponse(body, status=503)
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = "30"
    return response
