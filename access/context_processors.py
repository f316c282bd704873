"""Template context shared by every page."""

from django.http import HttpRequest

from access.roles import user_roles


def roles(request: HttpRequest) -> dict[str, frozenset[str]]:
    """The signed-in user's roles, for the navigation."""
    return {"user_roles": user_roles(request.user) if hasattr(request, "user") else frozenset()}
