"""Enrol new demo users' TOTP devices with the secrets published in CONTRACT.md (used by seed_demo)."""

import base64
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

# Base32, SHA-1, 6 digits, 30 s: scan them into any authenticator app to sign in to the demo.
DEMO_TOTP_SECRETS = {
    "approver1": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "approver2": "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
    "auditor1": "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA",
    "lead1": "VO65VB5ID3EDTPGSNDFDIRTVFRHOUBB3",
    "admin": "ORSXG5BAMFSGI4TFONZSA4DBONZXO33S",
    "admin2": "C7WURGDVYK62KNSJ5XTDKQUFVPP57WTW",
}
DEMO_DEVICE_NAME = "demo"


def demo_totp_devices_enrol(*, users: Iterable[User]) -> int:
    """Give each of `users` (demo users the seed just created) its published device; returns devices created.

    A user that already has an authenticator keeps it: a published secret is never added beside a real one.
    """
    created = 0
    with transaction.atomic():
        for user in users:
            secret = DEMO_TOTP_SECRETS.get(user.username)
            if secret is None or TOTPDevice.objects.filter(user=user).exists():
                continue
            key = base64.b32decode(secret).hex()
            TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=key, confirmed=True)
            created += 1
    return created
