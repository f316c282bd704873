"""What each kind of access change needs, refuses and does: validation, the user's state, the appliers.

`access_change_validate` runs when a change is requested and again when it is approved (the world may have
moved in between); `access_change_apply` runs inside the approval's transaction and audits each effect.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AccessChange, Team
from access.password_reset import password_reset_link_send
from access.portfolio_grants import portfolio_grants
from access.roles import ALL_ROLES
from access.security import database_audit_silence, user_sessions_end
from audit.record import audit_record

Kind = AccessChange.Kind
# Fewer active superusers than this and nobody could approve the next access change.
MIN_ACTIVE_SUPERUSERS = 2
ROLE_KINDS = frozenset({Kind.GRANT_ROLE, Kind.REVOKE_ROLE})
PORTFOLIO_KINDS = frozenset({Kind.GRANT_PORTFOLIO, Kind.REVOKE_PORTFOLIO})
TEAM_KINDS = frozenset({Kind.ADD_TO_TEAM, Kind.REMOVE_FROM_TEAM})
FLAG_KINDS = frozenset({Kind.SET_STAFF, Kind.SET_SUPERUSER})


def _role_names(user: User) -> list[str]:
    # Straight from the groups, not user_roles(): that one reports nothing for an inactive user.
    return sorted(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))


def user_access_state(user: User) -> dict[str, Any]:
    """What an access change can alter about `user`: recorded before and after each change (no secrets)."""
    return {
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "roles": _role_names(user),
        "portfolios": portfolio_grants().held(user),
        "all_portfolios": portfolio_grants().holds_all(user),
        "teams": sorted(user.teams.values_list("name", flat=True)),
        "has_usable_password": user.has_usable_password(),
        "mfa_devices": TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count(),
    }


def _leaves_too_few_superusers(change: AccessChange) -> bool:
    user = change.user
    takes_one_away = (
        user.is_superuser
        and user.is_active
        and (change.kind == Kind.DEACTIVATE or (change.kind == Kind.SET_SUPERUSER and change.value is False))
    )
    if not takes_one_away:
        return False
    others = User.objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
    return others.count() < MIN_ACTIVE_SUPERUSERS


def _kind_errors(change: AccessChange) -> dict[str, Any]:
    """Field errors of the kind-specific inputs (a missing or unknown role, portfolio, team or value)."""
    errors: dict[str, Any] = {}
    if change.kind in ROLE_KINDS and change.role not in ALL_ROLES:
        errors["role"] = _("Choose one of the roles.")
    if change.kind in PORTFOLIO_KINDS and not portfolio_grants().exists(change.portfolio):
        errors["portfolio"] = _("No portfolio has this code.")
    if change.kind in TEAM_KINDS and change.team_id is None:
        errors["team"] = _("Choose a team.")
    if change.kind in FLAG_KINDS and change.value is None:
        errors["value"] = _("Choose true or false.")
    if change.kind == Kind.RESET_PASSWORD and not change.user.email:
        errors["user"] = _("This user has no e-mail address to send the reset link to.")
    return errors


def _rule_errors(change: AccessChange) -> dict[str, Any]:
    """Errors of the rules that hold whatever the input: no superuser in a role, two superusers at least."""
    user = change.user
    if change.kind == Kind.GRANT_ROLE and user.is_superuser:
        return {"role": _("A superuser may not hold a role.")}
    if change.kind == Kind.SET_SUPERUSER and change.value and _role_names(user):
        return {"value": _("A user holding a role may not become a superuser: revoke the roles first.")}
    if _leaves_too_few_superusers(change):
        return {"change": _("At least two active superusers must remain.")}
    return {}


def access_change_validate(change: AccessChange) -> None:
    """Raise ValidationError (by field) when `change` cannot be requested or applied as things stand."""
    errors = _kind_errors(change) or _rule_errors(change)
    if errors:
        raise ValidationError(errors)


def _audit(change: AccessChange, action: str, actor: User, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        object_type="user",
        object_id=change.user_id,
        detail={"access_change": change.pk, "username": change.user.get_username(), **detail},
    )


def _set_flag(change: AccessChange, actor: User, flag: str, value: bool, action: str = "update") -> None:
    user = change.user
    before = getattr(user, flag)
    setattr(user, flag, value)
    user.save(update_fields=[flag])
    _audit(change, action, actor, field=flag, before=before, after=value)


def _grant_role(change: AccessChange, actor: User) -> None:
    change.user.groups.add(Group.objects.get(name=change.role))
    _audit(change, "role_granted", actor, role=change.role)


def _revoke_role(change: AccessChange, actor: User) -> None:
    change.user.groups.remove(Group.objects.get(name=change.role))
    _audit(change, "role_revoked", actor, role=change.role)


def _team_member(change: AccessChange, actor: User) -> None:
    team: Team = change.team
    adding = change.kind == Kind.ADD_TO_TEAM
    (team.members.add if adding else team.members.remove)(change.user)
    _audit(change, "update", actor, team=team.name, member="added" if adding else "removed")


def _reset_password(change: AccessChange, actor: User) -> None:
    # The old password stops working now; only the user, through the e-mailed single-use link, sets the next one.
    change.user.set_unusable_password()
    change.user.save(update_fields=["password"])
    ended = user_sessions_end(user=change.user)
    password_reset_link_send(user=change.user)
    _audit(change, "password_reset", actor, step="link_sent", sessions_ended=ended)


def _reset_mfa(change: AccessChange, actor: User) -> None:
    # No device left: the MFA gate sends the user to enrolment at the next sign-in.
    totp, _ = TOTPDevice.objects.filter(user=change.user).delete()
    static, _ = StaticDevice.objects.filter(user=change.user).delete()
    ended = user_sessions_end(user=change.user)
    _audit(change, "mfa_reset", actor, devices_removed=totp + static, sessions_ended=ended)


def _deactivate(change: AccessChange, actor: User) -> None:
    _set_flag(change, actor, "is_active", False, action="user_deactivated")
    user_sessions_end(user=change.user)


_APPLIERS: dict[str, Callable[[AccessChange, User], None]] = {
    Kind.GRANT_ROLE: _grant_role,
    Kind.REVOKE_ROLE: _revoke_role,
    Kind.GRANT_PORTFOLIO: lambda c, a: portfolio_grants().grant(user=c.user, code=c.portfolio, actor=a),
    Kind.REVOKE_PORTFOLIO: lambda c, a: portfolio_grants().revoke(user=c.user, code=c.portfolio, actor=a),
    Kind.GRANT_ALL_PORTFOLIOS: lambda c, a: portfolio_grants().grant_all(user=c.user, actor=a),
    Kind.ADD_TO_TEAM: _team_member,
    Kind.REMOVE_FROM_TEAM: _team_member,
    Kind.SET_STAFF: lambda c, a: _set_flag(c, a, "is_staff", bool(c.value)),
    Kind.SET_SUPERUSER: lambda c, a: _set_flag(c, a, "is_superuser", bool(c.value)),
    Kind.RESET_PASSWORD: _reset_password,
    Kind.RESET_MFA: _reset_mfa,
    Kind.DEACTIVATE: _deactivate,
    Kind.REACTIVATE: lambda c, a: _set_flag(c, a, "is_active", True),
}


def access_change_apply(change: AccessChange, actor: User) -> None:
    """Put an approved change in force, audited, in the caller's transaction (the approval's)."""
    if change.kind in (Kind.DEACTIVATE, Kind.SET_SUPERUSER):
        # Serialise with any other approval that might take a superuser away, then count again.
        list(User.objects.select_for_update().filter(is_superuser=True).values_list("pk", flat=True))
    access_change_validate(change)
    # The database's audit trigger on groups and flags stays silent meanwhile: the appliers audit with the actor.
    database_audit_silence(f"access_change:{change.pk}")
    _APPLIERS[change.kind](change, actor)
    # Cleared at once (not at commit): a later change in the same transaction is not the service's.
    database_audit_silence("")
