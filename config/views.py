"""Project-wide views: health probes and the language switcher."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.partitions import partitions_status
from collections_app.services.accounts import user_language_set


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 while the process is up."""
    return HttpResponse("ok", content_type="text/plain")


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means the database is not ready
        return "down"
    return "ok"


def _redis_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "unused"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"


def _audit_partitions_status() -> str:
    try:
        return partitions_status()
    except Exception:  # noqa: BLE001 - what cannot be checked is not known to be there
        return "short"


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Report the database and Redis, 503 when either is down; and whether the audit log's partitions of this
    month and the next two exist (`short` warns before inserts would fail, but the instance still serves)."""
    status = {"database": _database_status(), "redis": _redis_status()}
    status["audit_partitions"] = _audit_partitions_status() if status["database"] == "ok" else "short"
    return JsonResponse(status, status=503 if "down" in status.values() else 200)


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Remember the signed-in user's UI language and return to where they were."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    user_language_set(user=request.user, language=language)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    # A URL, never a view name: redirect() would try to reverse a bare word such as "0" and fail with a 500.
    return HttpResponseRedirect(next_url)
