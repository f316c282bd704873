"""The access-change pages: superusers only; thin views over access/changes.py."""

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access.changes import AccessChangeConflict, access_change_decide, access_change_request, user_is_administrator
from access.models import AccessChange, Team
from access.roles import ALL_ROLES
from audit.admin_mixins import ADMIN_ROLE
from audit.permissions import access_required
from audit.record import audit_record

_BOOLEANS = {"true": True, "false": False}


class AccessChangeForm(forms.Form):
    """CONTRACT.md's fields: `user` (username), `change`, and `role`, `portfolio`, `team` or `value` as it applies."""

    user = forms.CharField(label=_("User"), max_length=150)
    change = forms.ChoiceField(label=_("Change"), choices=AccessChange.Kind.choices)
    role = forms.ChoiceField(label=_("Role"), choices=[("", "-"), *((r, r) for r in ALL_ROLES)], required=False)
    portfolio = forms.CharField(label=_("Portfolio"), max_length=60, required=False)
    team = forms.CharField(label=_("Team"), max_length=80, required=False)
    value = forms.ChoiceField(
        label=_("Value"), choices=[("", "-"), ("true", _("true")), ("false", _("false"))], required=False
    )

    def clean_user(self) -> User:
        """The user named by username."""
        user = User.objects.filter(username=self.cleaned_data["user"]).first()
        if user is None:
            raise ValidationError(_("No user has this username."))
        return user

    def clean_team(self) -> Team | None:
        """The team named by id or by name, or none."""
        given = self.cleaned_data["team"].strip()
        if not given:
            return None
        team = (
            # isascii: "²" and "١" are digits to isdigit() but not to int().
            Team.objects.filter(pk=int(given)).first()
            if given.isascii() and given.isdigit()
            else Team.objects.filter(name=given).first()
        )
        if team is None:
            raise ValidationError(_("No team has this name."))
        return team


class DecisionForm(forms.Form):
    """`decision` (approve or reject) and `reason`."""

    decision = forms.ChoiceField(label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000
    )


# The access-change pages: active superusers only (the role recorded on their events is "admin", as the admin's).
administrator_required = access_required(allowed=user_is_administrator, role=ADMIN_ROLE)


def _flag_value(kind: str, given: str) -> bool | None:
    # CONTRACT.md names no field for the flag kinds: set_staff / set_superuser alone set it; `value=false` clears it.
    if kind not in (AccessChange.Kind.SET_STAFF, AccessChange.Kind.SET_SUPERUSER):
        return None
    return _BOOLEANS.get(given, True)


def _page(request: HttpRequest, form: AccessChangeForm | None = None, status: int = 200) -> HttpResponse:
    pending = list(
        AccessChange.objects.filter(status=AccessChange.Status.PENDING).select_related("user", "requested_by", "team")
    )
    audit_record(action="list", actor=request.user, object_type="accesschange", detail={"count": len(pending)})
    context = {
        "pending": pending,
        "form": form or AccessChangeForm(),
        "decision_form": DecisionForm(),
        "teams": Team.objects.order_by("name"),
    }
    return render(request, "access/changes.html", context, status=status)


@administrator_required
@require_GET
def changes(request: HttpRequest) -> HttpResponse:
    """The access changes awaiting a second administrator, and the form to request one."""
    return _page(request)


@administrator_required
@require_POST
def change_new(request: HttpRequest) -> HttpResponse:
    """Request an access change; invalid input answers 200 with the errors and writes nothing."""
    form = AccessChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            access_change_request(
                actor=request.user,
                user=data["user"],
                kind=data["change"],
                role=data["role"],
                portfolio=data["portfolio"].strip(),
                team=data["team"],
                value=_flag_value(data["change"], data["value"]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("access:changes")
    return _page(request, form)


@administrator_required
@require_POST
def change_decide(request: HttpRequest, change_id: int) -> HttpResponse:
    """Approve or reject: 403 for the requester or the subject, 409 once decided, 200 with errors when invalid."""
    if not AccessChange.objects.filter(pk=change_id).exists():
        raise Http404
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            access_change_decide(
                actor=request.user,
                change_id=change_id,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except AccessChangeConflict:
            return render(request, "access/change_conflict.html", status=409)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("access:changes")
    return render(request, "access/change_decide.html", {"form": form, "change_id": change_id})
