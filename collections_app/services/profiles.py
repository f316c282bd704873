"""Writes of policy profiles: a change never edits a version, it adds the next one, in force from its time.

Only an approved policy proposal (review) calls `policy_version_create`; `policy_version_draft` builds the
version a proposal would add, unsaved, so filing can validate it (legal floors, the firewall) without writing.
"""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from audit.record import audit_record
from collections_app.models import PolicyProfile, PolicyVersion

# Set by the service itself, never copied from the edited version.
NOT_COPIED = ("id", "profile", "version", "created_at", "created_by", "effective_from")


def policy_changeable_fields() -> tuple[str, ...]:
    """The fields of a version a policy change may set."""
    return tuple(f.name for f in PolicyVersion._meta.fields if f.name not in NOT_COPIED)


def policy_version_draft(
    *, profile: PolicyProfile, changes: dict[str, Any], effective_from: datetime.datetime
) -> tuple[PolicyVersion, PolicyVersion | None]:
    """The unsaved next version (the newest one's values with `changes`) and that newest one; ValueError for a
    name that is not a policy value.

    The newest version, not the one in force: a version approved for later already holds the values this one
    follows on from. Versions take effect in their numbers' order, so one cannot take effect before a version
    already approved (ValidationError on `effective_from`).
    """
    newest = profile.versions.order_by("-version").first()
    if newest is not None and effective_from < newest.effective_from:
        raise ValidationError(
            {
                "effective_from": gettext(
                    "Version %(version)d of this profile takes effect at %(time)s: a later change cannot take "
                    "effect before it."
                )
                % {
                    "version": newest.version,
                    "time": date_format(timezone.localtime(newest.effective_from), "DATETIME_FORMAT"),
                }
            }
        )
    values = {k: v for k, v in model_to_dict(newest).items() if k not in NOT_COPIED} if newest else {}
    unknown = set(changes) - set(policy_changeable_fields())
    if unknown:
        raise ValueError(f"not policy values: {sorted(unknown)}")
    values.update(changes)
    version = PolicyVersion(
        profile=profile, version=(newest.version + 1) if newest else 1, effective_from=effective_from, **values
    )
    return version, newest


def policy_version_create(
    *,
    profile: PolicyProfile,
    changes: dict[str, Any],
    actor: AbstractBaseUser | AnonymousUser | None = None,
    effective_from: datetime.datetime | None = None,
) -> PolicyVersion:
    """Add the profile's next version, in force from `effective_from` (default: now): the newest version's values
    with `changes` applied; audited as policy_changed.

    Versions take effect in the order of their numbers (`policy_version_draft`). Full validation
    (`PolicyVersion.clean`: the legal floors, the firewall) refuses anything else with field errors.
    """
    effective_from = effective_from or timezone.now()
    with transaction.atomic():
        PolicyProfile.objects.select_for_update().get(pk=profile.pk)
        version, newest = policy_version_draft(profile=profile, changes=changes, effective_from=effective_from)
        version.created_by = actor if getattr(actor, "is_authenticated", False) else None
        version.full_clean()
        version.save()
        changed = sorted(
            f for f in policy_changeable_fields() if newest is None or getattr(newest, f) != getattr(version, f)
        )
        audit_record(
            action="policy_changed",
            actor=actor,
            object_type="policyversion",
            object_id=version.pk,
            fields=[f"policyversion.{name}" for name in changed],
            detail={"profile": profile.code, "version": version.version, "changed": changed},
        )
    return version
