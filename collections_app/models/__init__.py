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
from collections_app.models.borrower_flags import BorrowerFlag
from collections_app.models.call_tasks import CallTask
from collections_app.models.complaints import Complaint
from collections_app.models.erasure import ErasedPhone
from collections_app.models.messaging import (
    ChannelStop,
    ContactReason,
    InboundReply,
    Message,
    MessageTemplate,
    PhoneOptOut,
    TemplateVersion,
    WebhookSignature,
)
from collections_app.models.privacy import CoreCorrection, DataSubjectRequest
from collections_app.models.profiles import PolicyProfile, PolicyVersion
from collections_app.models.team import AccountMonthSnapshot, OfficerDayActivity, OfficerMonthFigure

__all__ = [
    "AccountMonthSnapshot",
    "Borrower",
    "BorrowerFlag",
    "CallTask",
    "ChannelStop",
    "Complaint",
    "Contact",
    "CoreCorrection",
    "DataSubjectRequest",
    "ContactReason",
    "ErasedPhone",
    "Flag",
    "InboundReply",
    "Interaction",
    "LoanAccount",
    "LoanAccountGroupObjectPermission",
    "LoanAccountUserObjectPermission",
    "Message",
    "OfficerDayActivity",
    "OfficerMonthFigure",
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
