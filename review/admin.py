"""Admin of family-contact requests, approver scopes and policy proposals: read-only, every page audited.

Requests are decided on the review pages (the admin would bypass the rules); an approver's portfolios change
only by an access change (/access/changes/), requested by one administrator and approved by a second.
"""

from django.contrib import admin
from django.http import HttpRequest

from audit.admin_mixins import AuditedAdmin
from audit.record import person_key
from review.models import ApproverAllPortfolios, ApproverPortfolio, FamilyContactRequest, PolicyProposal


@admin.register(FamilyContactRequest)
class FamilyContactRequestAdmin(AuditedAdmin):
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
    audit_fields = ("account.account_number", "request.status", "request.decision_reason", "request.evaluation")

    def audit_persons(self, obj: FamilyContactRequest) -> list[str]:
        """The borrower whose account it is, and the contact it would reach."""
        return [person_key("borrower", obj.account.borrower_id), person_key("contact", obj.contact_id)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FamilyContactRequest | None = None) -> bool:
        return False


@admin.register(ApproverPortfolio)
class ApproverPortfolioAdmin(AuditedAdmin):
    """Which approver may decide which portfolio: shown here, changed only by an approved access change."""

    list_display = ("user", "portfolio", "granted_at")
    list_select_related = ("user", "portfolio")
    fields = ("user", "portfolio", "granted_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApproverPortfolio | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApproverPortfolio | None = None) -> bool:
        return False


@admin.register(ApproverAllPortfolios)
class ApproverAllPortfoliosAdmin(AuditedAdmin):
    """Approvers who review every portfolio: shown here, granted only by an approved access change."""

    list_display = ("user", "granted_at")
    list_select_related = ("user",)
    fields = ("user", "granted_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApproverAllPortfolios | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApproverAllPortfolios | None = None) -> bool:
        return False


@admin.register(PolicyProposal)
class PolicyProposalAdmin(AuditedAdmin):
    """Policy proposals, read-only: filed by editing a policy version or a portfolio (or at /review/policies/new/),
    decided at /review/policies/ by a risk approver who did not propose them."""

    list_display = ("id", "kind", "profile", "portfolio", "new_profile", "effective_from", "status", "proposed_by")
    list_filter = ("status", "kind")
    list_select_related = ("profile", "portfolio", "new_profile", "proposed_by")
    fields = (
        "kind",
        "profile",
        "changes",
        "portfolio",
        "new_profile",
        "effective_from",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "reason",
        "policy_version",
        "applied_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PolicyProposal | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PolicyProposal | None = None) -> bool:
        return False
