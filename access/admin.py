"""The admin's user and group pages, read-only for what decides who may do what; no secret anywhere.

Groups, permissions, the staff / superuser / active flags and passwords change only through access changes
(/access/changes/), requested by one administrator and approved by a second. The admin can still edit names
and add a user, who starts with no usable password and no role. An existing user's e-mail address is read-only
here: an approved password reset sends its link there, so one administrator must not be able to redirect it.
The user pages are audited (names and addresses are personal data).

django-otp's device admins are unregistered: they show TOTP secrets (key, QR code) and recovery codes. A lost
authenticator is an access change too (`reset_mfa`), after which the user enrols again.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.admin_mixins import AuditedAdmin

ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


class UserAddForm(forms.ModelForm):
    """A new user: a username and an address, no password (an approved reset gives the user their own)."""

    class Meta:
        model = User
        fields = ("username", "email")

    def save(self, commit: bool = True) -> User:
        """Save with an unusable password."""
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class AccessReadOnlyUserAdmin(AuditedAdmin, UserAdmin):
    """Django's UserAdmin without the password, with roles, permissions and flags shown but never edited."""

    add_form = UserAddForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email")}),)
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ACCESS_FIELDS}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    audit_fields = ("user.name", "user.email")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        """Access fields and dates always; the e-mail address too once the user exists (reset links go there)."""
        fixed = (*ACCESS_FIELDS, "last_login", "date_joined")
        return fixed if obj is None else (*fixed, "email")

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Users are deactivated by an access change, never deleted here."""
        return False

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Refused: a password is reset by an approved access change, and nobody but the user sets it."""
        raise PermissionDenied


class AccessReadOnlyGroupAdmin(GroupAdmin):
    """Groups are roles: their permissions, and an existing group's name, are not edited here."""

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> tuple[str, ...]:
        """The permissions always; the name once the group exists (renaming would move a role)."""
        return ("name", "permissions") if obj is not None else ("permissions",)

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        """A role group is never deleted here."""
        return False


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)
admin.site.register(User, AccessReadOnlyUserAdmin)
admin.site.register(Group, AccessReadOnlyGroupAdmin)
