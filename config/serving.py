"""HTTP-level security: response headers and the static files storage."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from whitenoise.storage import CompressedManifestStaticFilesStorage


class SecurityHeadersMiddleware:
    """Add the Content-Security-Policy and Permissions-Policy that Django's SecurityMiddleware does not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's hashed, compressed files; an uncollected file (tests, a fresh clone) keeps its plain name."""

    manifest_strict = False

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        """Fall back to the plain name only when a page asks for a file `collectstatic` has not seen."""
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if content is not None:
                # During collectstatic a missing file is a real error (e.g. a broken url() in a stylesheet).
                raise
            return name
