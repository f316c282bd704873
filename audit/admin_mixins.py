"""The audited admin: every admin page that shows personal or audit data writes its audit event.

A search is recorded by its shape only (`{"search": "phone"}`): what was typed, often a phone or an ID number,
never reaches the log.
"""

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.http import HttpRequest, HttpResponse

from audit.record import audit_record

ADMIN_ROLE = "admin"

# Shapes of a search term, checked in this order: an ID number (18 characters, the last a digit or X, or the old
# 15 digits), a phone (optional +, then 5 to 15 digits with spaces, hyphens or brackets), anything else.
_ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE = re.compile(r"\+?[\d\s\-()]+")
_PHONE_DIGITS = range(5, 16)


def search_kind(term: str) -> str:
    """What an admin search looked for, without the term: `id_number`, `phone` or `text`."""
    term = term.strip()
    if _ID_NUMBER.fullmatch(term):
        return "id_number"
    if _PHONE.fullmatch(term) and sum(char.isdigit() for char in term) in _PHONE_DIGITS:
        return "phone"
    return "text"


class AuditedAdmin(admin.ModelAdmin):
    """Audit every changelist (`list`) and change page (`view`) with the persons and fields it shows."""

    # Audit field names this admin shows, e.g. "borrower.name"; values never reach the log.
    audit_fields: tuple[str, ...] = ()

    def audit_persons(self, obj: Any) -> list[str]:
        """The persons (`borrower:<id>`, `contact:<id>`) an object's page shows."""
        return []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Nothing the audit log refers to is deleted through the admin."""
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The list, audited before it is rendered."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if changelist is not None:
            # Evaluating the page here fills the queryset's cache: the template reuses it, no second query.
            rows = list(changelist.result_list)
            persons = {person for obj in rows for person in self.audit_persons(obj)}
            audit_record(
                action="list",
                actor=request.user,
                role=ADMIN_ROLE,
                object_type=self.model._meta.model_name,
                persons=persons,
                fields=self.audit_fields,
                detail=self._list_detail(request, len(rows)),
            )
        return response

    @staticmethod
    def _list_detail(request: HttpRequest, rows: int) -> dict[str, Any]:
        detail: dict[str, Any] = {"path": request.path[:200], "rows": rows}
        term = request.GET.get(SEARCH_VAR, "")
        if term.strip():
            # That a search happened and its shape: the term itself may be a phone or an ID number.
            detail["search"] = search_kind(term)
        return detail

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A change page, audited before it is rendered."""
        response = super().changeform_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", None) and response.context_data.get("original")
        if original is not None:
            audit_record(
                action="view",
                actor=request.user,
                role=ADMIN_ROLE,
                object_type=self.model._meta.model_name,
                object_id=original.pk,
                persons=self.audit_persons(original),
                fields=self.audit_fields,
                detail={"path": request.path[:200]},
            )
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save, and audit the change in the admin's transaction (field names only)."""
        super().save_model(request, obj, form, change)
        audit_record(
            action="update" if change else "create",
            actor=request.user,
            role=ADMIN_ROLE,
            object_type=self.model._meta.model_name,
            object_id=obj.pk,
            persons=self.audit_persons(obj),
            fields=[f"{self.model._meta.model_name}.{name}" for name in form.changed_data],
        )
