"""The admin's user and group pages, read-only for what decides who may do what.

Groups, permissions, the staff / superuser / active flags and passwords change only through access changes
(/access/changes/), requested by one administrator and approved by a second. The admin can still edit names
and e-mail addresses, and add a user, who starts with no usable password and no role.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

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


class AccessReadOnlyUserAdmin(UserAdmin):
    """Django's UserAdmin without the password, with roles, permissions and flags shown but never edited."""

    add_form = UserAddForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email")}),)
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ACCESS_FIELDS}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = (*ACCESS_FIELDS, "last_login", "date_joined")

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
admin.site.register(User, AccessReadOnlyUserAdmin)
admin.site.register(Group, AccessReadOnlyGroupAdmin)
