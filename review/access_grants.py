"""Review's side of portfolio access changes: named in `settings.ACCESS_PORTFOLIO_GRANTS`.

An approved `grant_portfolio` / `revoke_portfolio` / `grant_all_portfolios` access change reaches the
approver's grants through this class, so access (which must not import review) applies it with review's own
services.
"""

from django.contrib.auth.models import AbstractBaseUser

from collections_app.models import Portfolio
from review.models import ApproverAllPortfolios, ApproverPortfolio
from review.services import approver_all_portfolios_grant, approver_portfolio_grant, approver_portfolio_revoke


class ApproverPortfolioGrants:
    """Portfolio grants are `review.ApproverPortfolio` rows, the all-portfolios grant an `ApproverAllPortfolios` row."""

    def exists(self, code: str) -> bool:
        """Whether a portfolio with this code exists."""
        return Portfolio.objects.filter(code=code).exists()

    def held(self, user: AbstractBaseUser) -> list[str]:
        """The codes of the portfolios granted to `user`, sorted."""
        return sorted(ApproverPortfolio.objects.filter(user=user).values_list("portfolio__code", flat=True))

    def holds_all(self, user: AbstractBaseUser) -> bool:
        """Whether `user` holds the all-portfolios grant."""
        return ApproverAllPortfolios.objects.filter(user=user).exists()

    def grant(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Grant through `approver_portfolio_grant` (which audits it)."""
        approver_portfolio_grant(user=user, portfolio=Portfolio.objects.get(code=code), actor=actor)

    def revoke(self, *, user: AbstractBaseUser, code: str, actor: AbstractBaseUser) -> None:
        """Revoke through `approver_portfolio_revoke` (which audits it)."""
        approver_portfolio_revoke(user=user, portfolio=Portfolio.objects.get(code=code), actor=actor)

    def grant_all(self, *, user: AbstractBaseUser, actor: AbstractBaseUser) -> None:
        """Grant every portfolio through `approver_all_portfolios_grant` (which audits it)."""
        approver_all_portfolios_grant(user=user, actor=actor)
