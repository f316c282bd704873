"""Admin of family-contact requests (read-only: decisions go through the review pages) and approver scopes."""

from django.contrib import admin
from django.http import HttpRequest

from review.models import ApproverAllPortfolios, ApproverPortfolio, FamilyContactRequest
from review.services import (
    approver_all_portfolios_grant,
    approver_all_portfolios_revoke,
    approver_portfolio_grant,
    approver_portfolio_revoke,
)


@admin.register(FamilyContactRequest)
class FamilyContactRequestAdmin(admin.ModelAdmin):
    """Requests can be looked at here but never created, decided or edited: that would bypass the rules."""

    list_display = ("id", "account", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("account__account_number",)
    # Only ids and numbers: the contact's name and phone never appear in the admin.
    fields = (
        "account",
        "contact",
        "template_version",
        "channel",
        "status",
        "status_reason",
        "policy_version",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "message",
        "closed_at",
        "evaluation_at_filing",
        "evaluation_at_decision",
    )
    readonly_fields = fields
    list_select_related = ("account", "requested_by", "decided_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FamilyContactRequest | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FamilyContactRequest | None = None) -> bool:
        return False


@admin.register(ApproverPortfolio)
class ApproverPortfolioAdmin(admin.ModelAdmin):
    """Grant approvers portfolios (narrowing an all-portfolios grant); every change is audited through the services."""

    list_display = ("user", "portfolio", "granted_at")
    list_select_related = ("user", "portfolio")
    fields = ("user", "portfolio")

    def has_change_permission(self, request: HttpRequest, obj: ApproverPortfolio | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApproverPortfolio, form: object, change: bool) -> None:
        grant = approver_portfolio_grant(user=obj.user, portfolio=obj.portfolio, actor=request.user)
        obj.pk = grant.pk

    def delete_model(self, request: HttpRequest, obj: ApproverPortfolio) -> None:
        approver_portfolio_revoke(user=obj.user, portfolio=obj.portfolio, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: object) -> None:
        for grant in queryset:
            approver_portfolio_revoke(user=grant.user, portfolio=grant.portfolio, actor=request.user)


@admin.register(ApproverAllPortfolios)
class ApproverAllPortfoliosAdmin(admin.ModelAdmin):
    """Approvers who review every portfolio; granting replaces their portfolio rows, all through the services."""

    list_display = ("user", "granted_at")
    list_select_related = ("user",)
    fields = ("user",)

    def has_change_permission(self, request: HttpRequest, obj: ApproverAllPortfolios | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApproverAllPortfolios, form: object, change: bool) -> None:
        obj.pk = approver_all_portfolios_grant(user=obj.user, actor=request.user).pk

    def delete_model(self, request: HttpRequest, obj: ApproverAllPortfolios) -> None:
        approver_all_portfolios_revoke(user=obj.user, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: object) -> None:
        for grant in queryset:
            approver_all_portfolios_revoke(user=grant.user, actor=request.user)
