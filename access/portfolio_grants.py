"""Portfolio grants as seen from access: the app that owns portfolios supplies them, named in a setting.

Access imports nothing of collections_app or review (docs/architecture.md), yet an access change may grant
an approver a portfolio. The object doing it is named in `settings.ACCESS_PORTFOLIO_GRANTS`, as Django names
its authentication backends: review's `review.access_grants.ApproverPortfolioGrants` today.
"""

from functools import cache
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.module_loading import import_string


class PortfolioGrants(Protocol):
    """The interface: a class with these methods, named in `ACCESS_PORTFOLIO_GRANTS`."""

    def exists(self, code: str) -> bool:
        """Whether a portfolio with this code exists."""

    def held(self, user: AbstractBaseUser) -> list[str]:
        """The codes of the portfolios granted to `user`, sorted."""

    def holds_all(self, user: AbstractBaseUser) -> bool:
        """Whether `user` holds the grant of every portfolio."""

    def grant(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Grant `user` the portfolio `code` (audited by the owning app, in the caller's transaction)."""

    def grant_all(self, *, user: AbstractBaseUser, actor: AbstractBaseUser) -> None:
        """Grant `user` every portfolio, present and future (audited by the owning app, in the caller's transaction)."""

    def revoke(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Take the portfolio `code` from `user` (audited by the owning app, in the caller's transaction)."""


class NoPortfolioGrants:
    """Used when no app supplies portfolios: no portfolio exists, none is held, so none can be granted."""

    def exists(self, code: str) -> bool:
        """No portfolio exists."""
        return False

    def held(self, user: AbstractBaseUser) -> list[str]:
        """None is held."""
        return []

    def holds_all(self, user: AbstractBaseUser) -> bool:
        """Nobody does."""
        return False

    def grant(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Refused: the access-change form checks `exists` first, so this is never reached from it."""
        raise LookupError(f"no app supplies portfolios, so {code!r} cannot be granted")

    def revoke(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Refused, as `grant`."""
        raise LookupError(f"no app supplies portfolios, so {code!r} cannot be revoked")

    def grant_all(self, *, user: AbstractBaseUser, actor: AbstractBaseUser) -> None:
        """Refused, as `grant`."""
        raise LookupError("no app supplies portfolios, so none can be granted")


@cache
def _load(path: str) -> PortfolioGrants:
    return import_string(path)() if path else NoPortfolioGrants()


def portfolio_grants() -> PortfolioGrants:
    """The portfolio grants named in `settings.ACCESS_PORTFOLIO_GRANTS`."""
    return _load(getattr(settings, "ACCESS_PORTFOLIO_GRANTS", ""))
