"""Middleware giving each request an id, making it the audit context, and failing closed on audit errors."""

import logging
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import context_from_request, reset_context, set_context
from audit.record import AuditWriteError
from audit.responses import audit_unavailable_response

logger = logging.getLogger(__name__)


class AuditContextMiddleware:
    """Attach a request id, expose the request to the audit entry point, and turn audit failures into a 503."""

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

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Fail closed: whatever the view was about to show is dropped for a page that shows nothing personal."""
        if not isinstance(exception, AuditWriteError):
            return None
        logger.error(
            "audit write failed; response withheld (request %s, path %s)",
            getattr(request, "request_id", ""),
            request.path[:200],
            exc_info=exception,
        )
        return audit_unavailable_response(request)
