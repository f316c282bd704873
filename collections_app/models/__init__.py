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
from collections_app.models.messaging import (
    ChannelStop,
    Message,
    MessageTemplate,
    PhoneOptOut,
    TemplateVersion,
    WebhookSignature,
)
from collections_app.models.policy import PolicyProfile, PolicyVersion
from collections_app.models.tasks import CallTask

__all__ = [
    "Borrower",
    "CallTask",
    "ChannelStop",
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
    "WebhookSignature",
]
