"""Review's side of portfolio access changes: named in `settings.ACCESS_PORTFOLIO_GRANTS`.

An approved `grant_portfolio` / `revoke_portfolio` access change reaches the approver's portfolio rows
through this class, so access (which must not import review) applies it with review's own services.
"""

from django.contrib.auth.models import AbstractBaseUser

from collections_app.models import Portfolio
from review.models import ApproverPortfolio
from review.services import approver_portfolio_grant, approver_portfolio_revoke


class ApproverPortfolioGrants:
    """Portfolio grants are `review.ApproverPortfolio` rows (access.portfolio_grants.PortfolioGrants)."""

    def exists(self, code: str) -> bool:
        """Whether a portfolio with this code exists."""
        return Portfolio.objects.filter(code=code).exists()

    def held(self, user: AbstractBaseUser) -> list[str]:
        """The codes of the portfolios granted to `user`, sorted."""
        return sorted(ApproverPortfolio.objects.filter(user=user).values_list("portfolio__code", flat=True))

    def grant(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Grant through `approver_portfolio_grant` (which audits it)."""
        approver_portfolio_grant(user=user, portfolio=Portfolio.objects.get(code=code), actor=actor)

    def revoke(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Revoke through `approver_portfolio_revoke` (which audits it)."""
        approver_portfolio_revoke(user=user, portfolio=Portfolio.objects.get(code=code), actor=actor)
