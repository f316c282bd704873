"""Writes of data-subject requests: filed by an officer or an auditor, decided by an auditor, each step audited.

received → in progress → fulfilled or refused; a decision needs reasons and an auditor other than the one who filed
the request (refused here, audited, and by a database check). Fulfilling does what the kind asks, in the
same transaction as the decision:
- access: the person's access file becomes downloadable (built at each download, an audited reveal);
- correction: the contact fields the app relies on are corrected at once; every corrected field is forwarded to the
  core lending system (`CoreCorrection`, handed over after commit), which owns the borrower, the account and the
  contact list its imports bring;
- deletion or objection by a contact: the contact's values are erased in place (`contacts_erase`), the words of
  their requests among them (`collections_app.privacy.erasure`);
- objection by a borrower: a cease request (only the notices the law requires still go out);
- deletion by a borrower: cannot be fulfilled while the app must keep the data (an open account is a contract in
  performance; a closed one is kept for the retention period, then erased by the retention job): refused, with
  that reason (PIPL arts. 13(2)-(3), 47).
A correction's new values are kept only until the decision: refused, they go; fulfilled, they go to the core
system's hand-over (`CoreCorrection`), which drops them once handed over. Audit events keep ids, kinds, statuses and
field names: never the person's words, values or the reasons.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import COMPLIANCE_AUDITOR
from audit.record import audit_record, person_key
from collections_app.messaging.consent import cease_request_record
from collections_app.models import Contact, CoreCorrection, DataSubjectRequest, LoanAccount
from collections_app.models.privacy import PENDING_STATUSES
from collections_app.privacy.core_lending import core_correction_forward_on_commit
from collections_app.privacy.corrections import CORRECTABLE, correction_errors
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.erasure import ERASED_TEXT, contacts_erase

Status = DataSubjectRequest.Status
Kind = DataSubjectRequest.Kind


class RequestDecided(Exception):
    """The request is already fulfilled or refused: nothing more can be decided on it."""


def privacy_request_file(
    *,
    account: LoanAccount,
    actor: AbstractBaseUser,
    role: str,
    subject: str,
    kind: str,
    text: str,
    correction: dict[str, str] | None = None,
    now: datetime.datetime | None = None,
) -> DataSubjectRequest:
    """Record a request of the account's borrower (`borrower`) or of a contact of theirs (`contact:<id>`).

    Its deadline is the profile's `privacy_request_deadline_days` from receipt. A correction names at least one
    field of its subject with the new value (`correction`); other kinds name none.
    """
    now = now or timezone.now()
    contact = _subject_contact(account, subject)
    version = policy_version_for_account(account)
    request = DataSubjectRequest(
        account=account,
        borrower=account.borrower if contact is None else None,
        contact=contact,
        kind=kind,
        text=text.strip(),
        correction=_checked_correction(kind, "borrower" if contact is None else "contact", correction or {}),
        received_at=now,
        deadline=now + datetime.timedelta(days=version.privacy_request_deadline_days),
        policy_version=version,
        filed_by=actor,
        filed_role=role,
    )
    request.full_clean()
    with transaction.atomic():
        request.save()
        _audit(request, actor, role)
    return request


def privacy_request_start(
    *, request: DataSubjectRequest, auditor: AbstractBaseUser, now: datetime.datetime | None = None
) -> DataSubjectRequest:
    """An auditor takes a received request in hand: in progress."""
    with transaction.atomic():
        locked = _locked_pending(request)
        if locked.status != Status.RECEIVED:
            raise ValidationError({"decision": _("This request is already in progress.")})
        locked.status = Status.IN_PROGRESS
        locked.save(update_fields=["status"])
        _audit(locked, auditor, COMPLIANCE_AUDITOR)
    return locked


def privacy_request_decide(
    *,
    request: DataSubjectRequest,
    auditor: AbstractBaseUser,
    decision: str,
    reason: str,
    now: datetime.datetime | None = None,
) -> DataSubjectRequest:
    """Fulfil (doing what the kind asks) or refuse a pending request, with the auditor's reasons.

    Raises RequestDecided when it is already decided, ValidationError when the reasons are missing or the request
    cannot be fulfilled (a borrower's deletion), PermissionDenied (audited) when the auditor filed it themselves.
    """
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reasons for the decision.")})
    if decision not in ("fulfil", "refuse"):
        raise ValidationError({"decision": _("Choose fulfil or refuse.")})
    if request.filed_by_id == auditor.pk:
        audit_record(
            action="permission_denied",
            actor=auditor,
            role=COMPLIANCE_AUDITOR,
            object_type="privacyrequest",
            object_id=request.pk,
            outcome="denied",
            detail={"reason": "separation_of_duties"},
        )
        raise PermissionDenied(_("You filed this request: another compliance auditor must decide it."))
    with transaction.atomic():
        locked = _locked_pending(request)
        if decision == "fulfil":
            locked.outcome = _fulfil(locked, auditor, now)
            locked.status = Status.FULFILLED
        else:
            locked.outcome = {"done": ["refused"]}
            locked.status = Status.REFUSED
        locked.decided_by, locked.decided_at, locked.decision_reason = auditor, now, reason
        # Decided, the new values are no longer the app's to keep (a fulfilled one's are in its hand-over).
        locked.correction = dict.fromkeys(locked.correction, ERASED_TEXT)
        locked.full_clean()
        locked.save()
        _audit(locked, auditor, COMPLIANCE_AUDITOR)
    return locked


def _locked_pending(request: DataSubjectRequest) -> DataSubjectRequest:
    locked = (
        DataSubjectRequest.objects.select_for_update(of=("self",))
        .select_related("account", "contact")
        .get(pk=request.pk)
    )
    if not locked.is_pending:
        raise RequestDecided
    return locked


def _fulfil(request: DataSubjectRequest, auditor: AbstractBaseUser, now: datetime.datetime) -> dict[str, object]:
    """Do what the request asks; what was done, as codes and ids."""
    if request.kind == Kind.ACCESS:
        return {"done": ["access_file_ready"]}
    if request.kind == Kind.CORRECTION:
        return _correct(request, auditor, now)
    if request.contact_id is not None:
        counts = contacts_erase(
            contact_ids=[request.contact_id],
            actor=auditor,
            reason=f"privacy_request:{request.pk}",
            role=COMPLIANCE_AUDITOR,
        )
        _pending_corrections_erase(request.contact_id)
        # The erasure blanked this request's words in the table: the row saved with the decision must not bring
        # them back.
        request.text = ERASED_TEXT
        return {"done": ["contact_erased", "request_words_erased"], "erased": dict(sorted(counts.items()))}
    if request.kind == Kind.OBJECTION:
        cease_request_record(borrower=request.account.borrower, actor=auditor)
        return {"done": ["cease_recorded"]}
    raise ValidationError(
        {
            "decision": _(
                "A borrower's data cannot be deleted while the law requires it to be kept: an open account is a "
                "contract being performed, and a closed one is kept for the retention period, then erased by the "
                "retention job (PIPL arts. 13 and 47). Refuse the request with that reason."
            )
        }
    )


def _correct(request: DataSubjectRequest, auditor: AbstractBaseUser, now: datetime.datetime) -> dict[str, object]:
    """Correct in place what the app relies on (a contact's name, relationship, time zone); forward every field."""
    in_app = {name: value for name, value in request.correction.items() if CORRECTABLE[name].in_app}
    if in_app:
        contact = Contact.objects.select_for_update().get(pk=request.contact_id)
        for name, value in in_app.items():
            setattr(contact, CORRECTABLE[name].attribute, value)
        contact.full_clean()
        contact.save(update_fields=[CORRECTABLE[name].attribute for name in in_app])
        audit_record(
            action="update",
            actor=auditor,
            role=COMPLIANCE_AUDITOR,
            object_type="contact",
            object_id=contact.pk,
            persons=[person_key("contact", contact.pk)],
            fields=[f"contact.{CORRECTABLE[name].attribute}" for name in in_app],
            detail={"source": "privacy_request", "request_id": request.pk},
        )
    correction = CoreCorrection.objects.create(request=request, fields=dict(request.correction), created_at=now)
    core_correction_forward_on_commit(correction)
    return {
        "done": ["corrected_in_app", "forwarded_to_core"] if in_app else ["forwarded_to_core"],
        "corrected_fields": sorted(in_app),
        "forwarded_fields": sorted(request.correction),
        "core_correction_id": correction.pk,
    }


def _pending_corrections_erase(contact_id: int) -> int:
    """The new values of the erased contact's corrections still pending (decided ones keep none)."""
    pending = DataSubjectRequest.objects.filter(contact_id=contact_id, status__in=PENDING_STATUSES).exclude(
        correction={}
    )
    erased = 0
    for request in pending.only("pk", "correction"):
        erased += pending.filter(pk=request.pk).update(correction=dict.fromkeys(request.correction, ERASED_TEXT))
    return erased


def _subject_contact(account: LoanAccount, subject: str) -> Contact | None:
    """The contact named by `contact:<id>` among the borrower's contacts; None for `borrower`."""
    if subject == "borrower":
        return None
    kind, _sep, pk = subject.partition(":")
    contact = None
    if kind == "contact" and pk.isascii() and pk.isdigit() and len(pk) < 19:
        # An erased contact is nobody's any more: there is no one left to ask on their behalf.
        contact = account.borrower.contacts.filter(pk=int(pk), erased_at__isnull=True).first()
    if contact is None:
        raise ValidationError({"subject": _("Choose the borrower or one of their contacts.")})
    return contact


def _checked_correction(kind: str, person_type: str, values: dict[str, str]) -> dict[str, str]:
    """The correction's new values, checked: at least one for a correction, none for any other kind."""
    values = {name: value for name, value in values.items() if value and value.strip()}
    if kind != Kind.CORRECTION:
        if values:
            raise ValidationError({"kind": _("Only a correction request names new values.")})
        return {}
    if not values:
        raise ValidationError({"correction": _("Enter at least one corrected value.")})
    correction, errors = correction_errors(person_type=person_type, values=values)
    if errors:
        raise ValidationError(errors)
    return correction


def _audit(request: DataSubjectRequest, actor: AbstractBaseUser, role: str) -> None:
    detail: dict[str, object] = {
        "account_id": request.account_id,
        "kind": request.kind,
        "subject": "borrower" if request.contact_id is None else "contact",
        "deadline": request.deadline.isoformat(),
        "policy_version_id": request.policy_version_id,
    }
    if request.correction:
        detail["fields"] = sorted(request.correction)
    if request.outcome:
        detail["done"] = request.outcome.get("done", [])
    kind, _sep, pk = request.person.partition(":")
    audit_record(
        action=f"privacy_request_{request.status}",
        actor=actor,
        role=role,
        object_type="privacyrequest",
        object_id=request.pk,
        persons=[person_key(kind, int(pk))],
        detail=detail,
    )
