"""Writes of policy profiles: an edit never changes a version, it adds the next one."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Max
from django.forms.models import model_to_dict

from audit.record import audit_record
from collections_app.models import PolicyProfile, PolicyVersion

# Set by the service itself, never copied from the edited version.
NOT_COPIED = ("id", "profile", "version", "created_at", "created_by")


def policy_version_create(
    *,
    profile: PolicyProfile,
    changes: dict[str, Any],
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> PolicyVersion:
    """Add the profile's next version: the current one's values with `changes` applied; audited as policy_changed."""
    with transaction.atomic():
        PolicyProfile.objects.select_for_update().get(pk=profile.pk)
        current = profile.versions.order_by("-version").first()
        values = {k: v for k, v in model_to_dict(current).items() if k not in NOT_COPIED} if current else {}
        unknown = set(changes) - {f.name for f in PolicyVersion._meta.fields} | (set(changes) & set(NOT_COPIED))
        if unknown:
            raise ValueError(f"not policy values: {sorted(unknown)}")
        values.update(changes)
        latest = profile.versions.aggregate(newest=Max("version"))["newest"] or 0
        version = PolicyVersion(
            profile=profile,
            version=latest + 1,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **values,
        )
        version.full_clean()
        version.save()
        changed = sorted(k for k, v in values.items() if current is None or getattr(current, k) != v)
        audit_record(
            action="policy_changed",
            actor=actor,
            object_type="policyversion",
            object_id=version.pk,
            fields=[f"policyversion.{name}" for name in changed],
            detail={"profile": profile.code, "version": version.version, "changed": changed},
        )
    return version
