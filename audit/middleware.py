"""Middleware giving each request an id and making it the audit context."""

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import context_from_request, reset_context, set_context


class AuditContextMiddleware:
    """Attach a request id and expose the request to the audit entry point."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex
        token = set_context(context_from_request(request))
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        response["X-Request-ID"] = request.request_id
        return response
