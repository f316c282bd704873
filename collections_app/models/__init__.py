"""Models of the collections domain."""

from collections_app.models.accounts import (
    Borrower,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    LoanAccountGroupObjectPermission,
    LoanAccountUserObjectPermission,
    Payment,
    PlanInstalment,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
    UserPreference,
)
from collections_app.models.messaging import Message, MessageTemplate, PhoneOptOut, TemplateVersion
from collections_app.models.policy import PolicyProfile, PolicyVersion

__all__ = [
    "Borrower",
    "Contact",
    "Flag",
    "Interaction",
    "LoanAccount",
    "LoanAccountGroupObjectPermission",
    "LoanAccountUserObjectPermission",
    "Message",
    "MessageTemplate",
    "PhoneOptOut",
    "Payment",
    "PlanInstalment",
    "PolicyProfile",
    "PolicyVersion",
    "Portfolio",
    "PromiseToPay",
    "RepaymentPlan",
    "TemplateVersion",
    "UserPreference",
]
