"""The compliance inbox: replies from numbers that match no contact or several borrowers, for auditors.

It lives beside the replies rather than under /audit/, because the audit app knows nothing of the domain; it
asks for the auditor's permission (`audit.permissions.auditor_required`) as the audit pages do. Reading it is
audited as a `list` naming the people the shown numbers matched; marking a reply read is an `update`.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.permissions import AUDITOR_ROLE, auditor_required
from audit.record import audit_record
from collections_app.forms import InboxPageForm
from collections_app.messaging.inbound import inbound_reply_mark_read
from collections_app.messaging.selectors import compliance_inbox_page, compliance_reply_get

# The personal fields the inbox shows (the number masked); its audit event names them.
COMPLIANCE_INBOX_FIELDS = ("inbound_reply.phone", "inbound_reply.text")


@never_cache
@require_GET
@auditor_required
def compliance_inbox(request: HttpRequest) -> HttpResponse:
    """The compliance inbox, newest first, one keyset page at a time."""
    form = InboxPageForm(request.GET)
    if not form.is_valid():
        audit_record(
            action="list",
            actor=request.user,
            role=AUDITOR_ROLE,
            object_type="inboundreply",
            outcome="invalid",
            detail={"inbox": "compliance", "errors": sorted(form.errors)},
        )
        return render(request, "collections_app/inboundreply_compliance.html", {"page": None}, status=400)
    before = form.cleaned_data["before"]
    page = compliance_inbox_page(user=request.user, before=before)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type="inboundreply",
        persons={person for reply in page.replies for person in reply.persons},
        fields=COMPLIANCE_INBOX_FIELDS,
        detail={"inbox": "compliance", "before": before, "rows": len(page.replies)},
    )
    return render(request, "collections_app/inboundreply_compliance.html", {"page": page})


@auditor_required
@require_POST
def compliance_reply_read(request: HttpRequest, reply_id: int) -> HttpResponse:
    """Mark a reply of the compliance inbox read; any other reply id is a 404, audited as a denied access."""
    try:
        reply = compliance_reply_get(user=request.user, reply_id=reply_id)
    except Http404:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=AUDITOR_ROLE,
            object_type="inboundreply",
            object_id=reply_id,
            outcome="not_found",
            detail={"path": request.path[:200]},
        )
        raise
    inbound_reply_mark_read(reply=reply, actor=request.user, role=AUDITOR_ROLE)
    messages.success(request, _("Reply marked read."))
    response = redirect("inbox:compliance")
    response.status_code = 303
    return response
