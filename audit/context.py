"""The request context an audit event takes its request id, IP and actor from."""

import contextvars
import uuid
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, from where, under which request id."""

    request_id: str
    ip: str | None
    user_id: int | None
    username: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("audit_request", default=None)


def context_from_request(request: HttpRequest) -> RequestContext:
    """Build the context of one HTTP request."""
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    return RequestContext(
        request_id=getattr(request, "request_id", "") or uuid.uuid4().hex,
        ip=request.META.get("REMOTE_ADDR") or None,
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
    )


def current_context() -> RequestContext | None:
    """The context of the request being served, if any."""
    return _current.get()


def set_context(context: RequestContext | None) -> contextvars.Token:
    """Make `context` current; returns the token to reset it."""
    return _current.set(context)


def reset_context(token: contextvars.Token) -> None:
    """Restore the context that was current before `set_context`."""
    _current.reset(token)
